package org.glouglou.server.ingest;

import io.netty.buffer.ByteBuf;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.glouglou.protocol.DropReason;
import org.glouglou.protocol.RecordDecoder;
import org.glouglou.protocol.internal.InternalEvents;
import org.glouglou.protocol.session.ProbeSecrets;
import org.glouglou.protocol.session.ReceiverSessions;
import org.glouglou.protocol.session.ReceiverSessions.Session;
import org.glouglou.protocol.transport.SourceRateLimiter;
import org.glouglou.server.metrics.ServerMetrics;
import org.glouglou.server.store.KeyCoalescer;
import org.glouglou.server.store.RedisStore;
import org.glouglou.spi.Event;
import org.glouglou.spi.GlouglouModule;
import org.glouglou.spi.ModuleRegistry;
import org.glouglou.spi.server.ProbeContext;
import org.glouglou.spi.server.ServerSettings;
import org.glouglou.spi.server.ServerSide;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The transport-free heart of ingest (issue 4): rate limit per source, then {@link ReceiverSessions} (handshake, AEAD,
 * anti-replay), then each event to its module's {@link ServerSide}, into the key copy that the store thread writes to
 * Redis. Owns
 * the per-probe status ({@code gg:probe:<id>}: loss in transit, the probe's STATS counters). Knows no module by
 * name. Not thread-safe: everything runs on the one ingest thread (the UDP channel's event loop), holding the key copy's
 * lock per datagram and per tick.
 */
public final class IngestCore implements ReceiverSessions.Handler {
    private static final Logger LOG = LoggerFactory.getLogger(IngestCore.class);

    /** 64 STATS counters per probe: far more than a probe reports; bounds a hostile probe's label cardinality. */
    static final int MAX_STATS = 64;

    /** Sends a reply datagram (the listener's channel). */
    public interface Replier {
        void send(ByteBuf datagram, InetSocketAddress to);
    }

    /** What the core keeps per session. */
    private final class SessionState {
        final Session session;
        final ModuleContext[] contexts = new ModuleContext[256];
        long writtenDatagrams = -1;
        long writtenMillis;

        SessionState(Session s) {
            this.session = s;
        }
    }

    private static final class ModuleContext implements ProbeContext {
        final Session session;
        Object state;

        ModuleContext(Session s) {
            this.session = s;
        }

        @Override
        public long probeId() {
            return session.probeId();
        }

        @Override
        public long sessionId() {
            return session.sessionId();
        }

        @Override
        public String probeName() {
            return session.probeName();
        }

        @Override
        public Object state() {
            return state;
        }
    }

    private final ModuleRegistry registry;
    private final ReceiverSessions sessions;
    private final KeyCoalescer store;
    private final RedisStore redis;
    private final ServerMetrics metrics;
    private final SourceRateLimiter limiter;
    private final ServerSettings settings;
    private final ServerSide[] sides = new ServerSide[256];
    private final IdentityHashMap<Session, SessionState> live = new IdentityHashMap<>();
    private final ForwardedSessions forwarded;
    /** Latest STATS per probe name, read by the metrics thread. Bounded by the secrets file. */
    private final Map<String, Map<String, Long>> probeStats = new ConcurrentHashMap<>();
    /** Label lookups done once: they cost more than a module's work on one event. */
    private final CounterDataPoint delivered;
    private final CounterDataPoint accepted;
    private Replier replier = (d, to) -> d.release();
    private boolean wholeDropped;
    private long lastSecond;
    private volatile int storeKeys;
    private volatile int storeDirty;

    public IngestCore(ModuleRegistry registry, ProbeSecrets secrets, ReceiverSessions.Config sessionConfig,
            KeyCoalescer store, RedisStore redis, ServerMetrics metrics, SourceRateLimiter limiter,
            ServerSettings settings) {
        this.registry = registry;
        this.sessions = new ReceiverSessions(new RecordDecoder(registry), secrets, sessionConfig);
        this.store = store;
        this.redis = redis;
        this.metrics = metrics;
        this.limiter = limiter;
        this.settings = settings;
        this.delivered = metrics.events.labelValues("delivered");
        this.accepted = metrics.datagrams.labelValues("accepted");
        for (GlouglouModule m : registry.modules()) {
            ServerSide s = m.serverSide();
            if (s != null) {
                s.start(settings);
                sides[m.id()] = s;
                LOG.info("module {} handles its events on this server", m.name());
                metrics.gauge("glouglou_server_module_" + m.name().replaceAll("[^a-z0-9_]", "_"),
                        "Counters of the " + m.name() + " module's server side", cb -> s.counters()
                                .forEach((k, v) -> cb.call(v, k)),
                        "counter");
            }
        }
        metrics.gauge("glouglou_server_store_keys", "Keys held in the server's copy (the write buffer)",
                cb -> cb.call(storeKeys));
        metrics.gauge("glouglou_server_store_capacity", "Keys the server's copy holds at most",
                cb -> cb.call(store.capacity()));
        metrics.gauge("glouglou_server_store_dirty_keys", "Keys changed and not yet written to Redis",
                cb -> cb.call(storeDirty));
        metrics.gauge("glouglou_server_probe_lost_datagrams", "Datagrams lost in transit, from sequence gaps",
                cb -> sessions.sessions().forEach(s -> cb.call(s.lost(), s.probeName())), "probe");
        metrics.gauge("glouglou_server_probe_stat", "The probe's own counters (capture drops) from its STATS",
                cb -> probeStats.forEach((p, m) -> m.forEach((k, v) -> cb.call(v, p, k))), "probe", "counter");
        metrics.gauge("glouglou_server_sessions", "Established probe sessions",
                cb -> cb.call(sessions.sessions().size()));
        this.forwarded = new ForwardedSessions(registry, secrets, sides, store, metrics, settings, sessionConfig
                .sessionIdleMillis());
    }

    public void replier(Replier r) {
        this.replier = r;
    }

    /** Handles one datagram. Never throws: untrusted input ends here. */
    public void receive(ByteBuf datagram, InetSocketAddress from, long nowMillis, long nowNanos) {
        if (!limiter.tryAcquire(from.getAddress(), nowNanos)) {
            metrics.drop(DropReason.RATE_LIMITED);
            return;
        }
        wholeDropped = false;
        // once per datagram, not per operation: the store thread takes it only to drain a chunk of keys
        store.lock().lock();
        try {
            store.now(nowMillis);
            sessions.receive(datagram, from, nowMillis, this);
        } catch (RuntimeException e) {
            // a bug, not bad input (ReceiverSessions reports bad input as drops): keep serving the other probes
            LOG.warn("datagram from {} failed: {}", from, e.toString());
            metrics.drop(DropReason.MALFORMED_RECORD);
            wholeDropped = true;
        } finally {
            store.lock().unlock();
        }
        if (!wholeDropped) {
            accepted.inc();
        }
    }

    @Override
    public void onEvent(Session session, long timeMicros, Event event) {
        SessionState st = live.get(session);
        if (st == null) {
            metrics.events.labelValues("no_session").inc();
            return;
        }
        int module = event.type().moduleId();
        if (module == 0) {
            onInternal(st, event);
            return;
        }
        ServerSide side = sides[module];
        if (side == null) {
            metrics.events.labelValues("no_server_side").inc();
            return;
        }
        ModuleContext ctx = st.contexts[module];
        try {
            side.onEvent(ctx, timeMicros, event, store);
            delivered.inc();
        } catch (RuntimeException e) {
            metrics.events.labelValues("failed").inc();
            LOG.debug("module {} failed on {}: {}", module, event.type(), e.toString());
        }
    }

    private void onInternal(SessionState st, Event event) {
        if (event instanceof InternalEvents.Stats s) {
            Map<String, Long> copy = new HashMap<>();
            for (Map.Entry<String, Long> e : s.counters().entrySet()) {
                if (copy.size() >= MAX_STATS) {
                    break;
                }
                copy.put(e.getKey(), e.getValue());
                store.hset(probeKey(st.session), "stat." + e.getKey(), e.getValue());
            }
            probeStats.put(st.session.probeName(), Map.copyOf(copy));
            metrics.events.labelValues("stats").inc();
        } else if (event instanceof InternalEvents.Notice n) {
            LOG.info("probe {}: notice {}: {}", st.session.probeName(), n.severity(), n.text());
            store.hset(probeKey(st.session), "last_notice", n.text());
            metrics.events.labelValues("notice").inc();
        } else if (event instanceof InternalEvents.Forward f) {
            forwarded.onForward(st.session, f, st.session.lastSeenMillis()); // issue 7: events of probes behind relays
        } else {
            metrics.events.labelValues("ignored").inc();
        }
    }

    @Override
    public void onDrop(DropReason reason, long probeId, String detail) {
        metrics.drop(reason);
        if (reason.wholeDatagram()) {
            wholeDropped = true;
        }
        LOG.debug("drop {} probe {}: {}", reason.label(), probeId, detail);
    }

    @Override
    public void onSessionEstablished(Session session) {
        SessionState st = new SessionState(session);
        live.put(session, st);
        for (int i = 0; i < 256; i++) {
            if (sides[i] != null) {
                ModuleContext ctx = new ModuleContext(session);
                st.contexts[i] = ctx;
                try {
                    ctx.state = sides[i].openSession(ctx);
                } catch (RuntimeException e) {
                    LOG.warn("module {} failed to open session of probe {}: {}", i, session.probeName(), e.toString());
                }
            }
        }
        LOG.info("probe {} (id {}) session {} established from {}", session.probeName(), session.probeId(),
                Long.toUnsignedString(session.sessionId()), session.remote());
        writeStatus(st, "open", System.currentTimeMillis());
    }

    @Override
    public void onSessionClosed(Session session, String why) {
        SessionState st = live.remove(session);
        if (st == null) {
            return;
        }
        for (int i = 0; i < 256; i++) {
            if (sides[i] != null && st.contexts[i] != null) {
                try {
                    sides[i].closeSession(st.contexts[i], store);
                } catch (RuntimeException e) {
                    LOG.warn("module {} failed to close a session: {}", i, e.toString());
                }
            }
        }
        LOG.info("probe {} session {} closed: {}", session.probeName(), Long.toUnsignedString(session.sessionId()),
                why);
        // the probe's newest session may already be open: only say closed if this was its current one
        if (sessions.current(session.probeId()) == null) {
            writeStatus(st, "closed", System.currentTimeMillis());
        }
    }

    @Override
    public void reply(ByteBuf datagram, InetSocketAddress to) {
        replier.send(datagram, to);
    }

    /** The per-probe status key. */
    public static String probeKey(long probeId) {
        return "gg:probe:" + probeId;
    }

    private static String probeKey(Session s) {
        return probeKey(s.probeId());
    }

    private void writeStatus(SessionState st, String state, long now) {
        Session s = st.session;
        String k = probeKey(s);
        store.hset(k, "name", s.probeName());
        store.hset(k, "state", state);
        store.hset(k, "session", Long.toUnsignedString(s.sessionId()));
        store.hset(k, "remote", String.valueOf(s.remote()));
        store.hset(k, "established", s.establishedMillis());
        store.hset(k, "last_seen", s.lastSeenMillis());
        store.hset(k, "datagrams", s.datagrams());
        store.hset(k, "events", s.events());
        store.hset(k, "lost", s.lost());
        if (s.hello() != null) {
            store.hset(k, "software", s.hello().software());
        }
        // the probe's status outlives its nodes: it says why a probe went quiet
        store.expire(k, Math.max(settings.nodeTtlSeconds(), 600));
        st.writtenDatagrams = s.datagrams();
        st.writtenMillis = now;
    }

    /**
     * Once per tick on the ingest thread: module ticks, probe status, expiry; then the store thread is asked to write
     * what changed ({@link RedisStore#requestFlush}), so the ingest thread never waits for Redis.
     */
    public void tick(long nowMillis) {
        store.lock().lock();
        try {
            store.now(nowMillis);
            if (nowMillis - lastSecond >= 1000) {
                lastSecond = nowMillis;
                sessions.expire(nowMillis, this);
            }
            // a slice per tick, the whole copy once a second: no tick pays for a scan of every key
            store.expireStep(nowMillis);
            for (ServerSide s : sides) {
                if (s != null) {
                    s.onTick(nowMillis, store);
                }
            }
            for (SessionState st : live.values()) {
                // a quiet probe's status is refreshed every 10 s so it does not expire while the session lives
                if (st.session.datagrams() != st.writtenDatagrams || nowMillis - st.writtenMillis > 10_000) {
                    writeStatus(st, "open", nowMillis);
                }
            }
            forwarded.tick(nowMillis);
            storeKeys = store.size();
            storeDirty = store.dirtyCount();
        } catch (RuntimeException e) {
            LOG.warn("tick failed: {}", e.toString(), e);
        } finally {
            store.lock().unlock();
        }
        if (redis != null) {
            redis.requestFlush(store);
        }
    }

    public ReceiverSessions sessions() {
        return sessions;
    }

    public ForwardedSessions forwarded() {
        return forwarded;
    }

    public KeyCoalescer store() {
        return store;
    }

    List<ServerSide> sides() {
        return java.util.Arrays.stream(sides).filter(java.util.Objects::nonNull).toList();
    }
}
