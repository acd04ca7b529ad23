package org.glouglou.server.ingest;

import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.glouglou.protocol.DropReason;
import org.glouglou.protocol.RecordDecoder;
import org.glouglou.protocol.crypto.ReplayWindow;
import org.glouglou.protocol.internal.InternalEvents;
import org.glouglou.protocol.internal.InternalEvents.Forward;
import org.glouglou.protocol.session.ProbeSecrets;
import org.glouglou.protocol.session.ReceiverSessions.Session;
import org.glouglou.server.metrics.ServerMetrics;
import org.glouglou.server.store.KeyCoalescer;
import org.glouglou.spi.Event;
import org.glouglou.spi.ModuleRegistry;
import org.glouglou.spi.server.ProbeContext;
import org.glouglou.spi.server.ServerSettings;
import org.glouglou.spi.server.ServerSide;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's view of probes that reach it through relays (issue 7, spec 5.6): every FORWARD record from an
 * authenticated session is opened here and its nested records are dispatched exactly like a direct probe's events,
 * but attributed to the ORIGIN probe: each origin session gets its own {@link ProbeContext} per module (so the network
 * module's connection-id table is keyed by origin probe and origin session), its own loss count from the origin
 * sequence numbers, and its own status key {@code gg:probe:ORIGIN} with the {@code path} its events took.
 *
 * <p>
 * Trust: a FORWARD is taken only from an established, authenticated session (the relay), only when the last hop of
 * its path is that session's probe id (a relay cannot pretend another relay sent it), and only for an origin listed
 * in the server's secrets file (a relay cannot invent probes; the origin's name comes from that file). Any
 * authenticated id may relay: the secrets file does not mark relays. Not thread-safe: ingest thread only, like
 * {@link IngestCore}.
 */
public final class ForwardedSessions {
    private static final Logger LOG = LoggerFactory.getLogger(ForwardedSessions.class);

    /** 4096 origin sessions, as many as direct sessions: bounded by the secrets file in practice. */
    static final int MAX_ORIGINS = 4096;

    private record Key(long probeId, long sessionId) {
    }

    /** One origin probe session seen through relays. Counters read by the metrics thread, hence volatile. */
    public static final class Origin {
        private final long probeId;
        private final long sessionId;
        private final String name;
        private final Context[] contexts = new Context[256];
        private final ReplayWindow window = new ReplayWindow();
        private final long establishedMillis;
        private volatile String path = "";
        private volatile long via;
        private volatile long lastSeenMillis;
        private volatile long datagrams;
        private volatile long events;
        private volatile long lost;
        private long writtenDatagrams = -1;
        private long writtenMillis;

        Origin(long probeId, long sessionId, String name, long now) {
            this.probeId = probeId;
            this.sessionId = sessionId;
            this.name = name;
            this.establishedMillis = now;
            this.lastSeenMillis = now;
        }

        public long probeId() {
            return probeId;
        }

        public long sessionId() {
            return sessionId;
        }

        public String name() {
            return name;
        }

        /** Relay ids the latest FORWARD went through, nearest the origin first, comma-separated. */
        public String path() {
            return path;
        }

        /** Origin datagrams received (split parts counted once). */
        public long datagrams() {
            return datagrams;
        }

        public long events() {
            return events;
        }

        /** Origin datagrams lost on the way, wherever: sequence numbers up to the highest that never arrived. */
        public long lost() {
            return lost;
        }
    }

    private final class Context implements ProbeContext {
        final Origin origin;
        Object state;

        Context(Origin o) {
            this.origin = o;
        }

        @Override
        public long probeId() {
            return origin.probeId;
        }

        @Override
        public long sessionId() {
            return origin.sessionId;
        }

        @Override
        public String probeName() {
            return origin.name;
        }

        @Override
        public Object state() {
            return state;
        }
    }

    private final RecordDecoder decoder;
    private final ProbeSecrets secrets;
    private final ServerSide[] sides;
    private final KeyCoalescer store;
    private final ServerMetrics metrics;
    private final ServerSettings settings;
    private final long idleMillis;
    private final Map<Key, Origin> origins = new ConcurrentHashMap<>();
    private final Map<Long, Origin> current = new HashMap<>();
    private final Map<String, LongAdder> refused = new ConcurrentHashMap<>();
    private long lastExpiry;

    /**
     * @param sides      the core's module server sides, by module id (the same array: read, never written here)
     * @param idleMillis an origin session without any FORWARD for this long is closed (origins' PINGs are forwarded
     *                   too, so a live origin is never idle)
     */
    public ForwardedSessions(ModuleRegistry registry, ProbeSecrets secrets, ServerSide[] sides, KeyCoalescer store,
            ServerMetrics metrics, ServerSettings settings, long idleMillis) {
        this.decoder = new RecordDecoder(registry);
        this.secrets = secrets;
        this.sides = sides;
        this.store = store;
        this.metrics = metrics;
        this.settings = settings;
        this.idleMillis = idleMillis;
        metrics.gauge("glouglou_server_forwarded_lost_datagrams", "Datagrams of probes behind relays lost on the"
                + " way (any hop), from origin sequence gaps",
                cb -> origins.values().forEach(o -> cb.call(o.lost,
                        o.name)),
                "probe");
        metrics.gauge("glouglou_server_forwarded_sessions", "Origin probe sessions seen through relays",
                cb -> cb.call(origins.size()));
        metrics.gauge("glouglou_server_forward_refused", "FORWARD records refused, by reason", cb -> refused.forEach(
                (k, v) -> cb.call(v.sum(), k)), "reason");
    }

    /** A FORWARD record that arrived in {@code via}'s authenticated session. */
    public void onForward(Session via, Forward f, long nowMillis) {
        long[] path = f.path();
        if (path[path.length - 1] != via.probeId()) {
            refuse("bad_path", via, f);
            return;
        }
        ProbeSecrets.Entry entry = secrets.get(f.originProbe());
        if (entry == null) {
            refuse("unknown_origin", via, f);
            return;
        }
        if (f.originProbe() == via.probeId()) {
            refuse("own_origin", via, f); // a relay's own events travel in its own session, never forwarded
            return;
        }
        Origin o = origin(entry, f.originBoot(), nowMillis);
        o.lastSeenMillis = nowMillis;
        o.via = via.probeId();
        o.path = join(path); // the latest route: it changes when a relay fails over
        // the parts of a split origin datagram share its sequence number: only the first one counts
        if (o.window.check(f.originSequence())) {
            o.window.update(f.originSequence());
            o.datagrams++;
            o.lost = o.window.lost();
        }
        int n = decoder.decode(Unpooled.wrappedBuffer(f.records()), f.originBaseTime(), new RecordDecoder.Listener() {
            @Override
            public void onEvent(long t, Event e) {
                dispatch(o, t, e, nowMillis);
            }

            @Override
            public void onSkipped(DropReason r, String detail) {
                metrics.drop(r);
                LOG.debug("forwarded record of probe {} skipped: {}: {}", o.probeId, r.label(), detail);
            }
        });
        o.events += n;
    }

    private static String join(long[] path) {
        StringBuilder b = new StringBuilder();
        for (long hop : path) {
            if (b.length() > 0) {
                b.append(',');
            }
            b.append(hop);
        }
        return b.toString();
    }

    private void refuse(String why, Session via, Forward f) {
        refused.computeIfAbsent(why, k -> new LongAdder()).increment();
        metrics.events.labelValues("forward_refused").inc();
        LOG.debug("FORWARD refused ({}) from probe {}: {}", why, via.probeId(), f);
    }

    private Origin origin(ProbeSecrets.Entry entry, long sessionId, long now) {
        Key k = new Key(entry.probeId(), sessionId);
        Origin o = origins.get(k);
        if (o != null) {
            return o;
        }
        evictIfFull();
        o = new Origin(entry.probeId(), sessionId, entry.name(), now);
        origins.put(k, o);
        Origin old = current.put(entry.probeId(), o);
        if (old != null) {
            close(old, "replaced by a new session", now);
        }
        for (int i = 0; i < sides.length; i++) {
            if (sides[i] != null) {
                Context ctx = new Context(o);
                o.contexts[i] = ctx;
                try {
                    ctx.state = sides[i].openSession(ctx);
                } catch (RuntimeException e) {
                    LOG.warn("module {} failed to open forwarded session of probe {}: {}", i, o.name, e.toString());
                }
            }
        }
        LOG.info("probe {} (id {}) session {} seen through relays", o.name, o.probeId, Long.toUnsignedString(
                o.sessionId));
        return o;
    }

    private void dispatch(Origin o, long t, Event e, long now) {
        int module = e.type().moduleId();
        String key = IngestCore.probeKey(o.probeId);
        if (module == 0) {
            if (e instanceof InternalEvents.Stats s) {
                int n = 0;
                for (Map.Entry<String, Long> c : s.counters().entrySet()) {
                    if (n++ >= IngestCore.MAX_STATS) {
                        break;
                    }
                    store.hset(key, "stat." + c.getKey(), c.getValue());
                }
                metrics.events.labelValues("stats").inc();
            } else if (e instanceof InternalEvents.Notice n) {
                LOG.info("probe {} (through relays): notice {}: {}", o.name, n.severity(), n.text());
                store.hset(key, "last_notice", n.text());
                metrics.events.labelValues("notice").inc();
            } else if (e instanceof InternalEvents.Bye) {
                close(o, "probe said BYE", now);
            } else {
                // a FORWARD inside a FORWARD (relays re-wrap, never nest) or a handshake record: not the origin's
                metrics.events.labelValues("ignored").inc();
            }
            return;
        }
        ServerSide side = sides[module];
        if (side == null) {
            metrics.events.labelValues("no_server_side").inc();
            return;
        }
        try {
            side.onEvent(o.contexts[module], t, e, store);
            metrics.events.labelValues("delivered").inc();
        } catch (RuntimeException ex) {
            metrics.events.labelValues("failed").inc();
            LOG.debug("module {} failed on forwarded {}: {}", module, e.type(), ex.toString());
        }
    }

    private void close(Origin o, String why, long now) {
        if (origins.remove(new Key(o.probeId, o.sessionId)) == null) {
            return;
        }
        current.remove(o.probeId, o);
        for (int i = 0; i < sides.length; i++) {
            if (sides[i] != null && o.contexts[i] != null) {
                try {
                    sides[i].closeSession(o.contexts[i], store);
                } catch (RuntimeException e) {
                    LOG.warn("module {} failed to close a forwarded session: {}", i, e.toString());
                }
            }
        }
        LOG.info("probe {} session {} (through relays) closed: {}", o.name, Long.toUnsignedString(o.sessionId), why);
        if (!current.containsKey(o.probeId)) {
            writeStatus(o, "closed", now);
        }
    }

    private void evictIfFull() {
        while (origins.size() >= MAX_ORIGINS) {
            Origin oldest = null;
            for (Origin o : origins.values()) {
                if (oldest == null || o.lastSeenMillis < oldest.lastSeenMillis) {
                    oldest = o;
                }
            }
            close(oldest, "origin table full", System.currentTimeMillis());
        }
    }

    private void writeStatus(Origin o, String state, long now) {
        String k = IngestCore.probeKey(o.probeId);
        store.hset(k, "name", o.name);
        store.hset(k, "state", state);
        store.hset(k, "session", Long.toUnsignedString(o.sessionId));
        store.hset(k, "remote", "relay " + o.via);
        store.hset(k, "path", o.path);
        store.hset(k, "established", o.establishedMillis);
        store.hset(k, "last_seen", o.lastSeenMillis);
        store.hset(k, "datagrams", o.datagrams);
        store.hset(k, "events", o.events);
        store.hset(k, "lost", o.lost);
        store.expire(k, Math.max(settings.nodeTtlSeconds(), 600));
        o.writtenDatagrams = o.datagrams;
        o.writtenMillis = now;
    }

    /** Once per tick: the status of origins that changed (or every 10 s), and once a second idle origins close. */
    public void tick(long nowMillis) {
        if (nowMillis - lastExpiry >= 1000) {
            lastExpiry = nowMillis;
            for (Origin o : new ArrayList<>(origins.values())) {
                if (nowMillis - o.lastSeenMillis > idleMillis) {
                    close(o, "idle for " + (nowMillis - o.lastSeenMillis) + " ms", nowMillis);
                }
            }
        }
        for (Origin o : origins.values()) {
            if (o.datagrams != o.writtenDatagrams || nowMillis - o.writtenMillis > 10_000) {
                writeStatus(o, "open", nowMillis);
            }
        }
    }

    /** Live origin sessions. Safe from other threads. */
    public Collection<Origin> origins() {
        return origins.values();
    }

    /** FORWARD records refused so far, by reason (bad_path, unknown_origin, own_origin). */
    public Map<String, Long> refused() {
        Map<String, Long> m = new HashMap<>();
        refused.forEach((k, v) -> m.put(k, v.sum()));
        return m;
    }
}
