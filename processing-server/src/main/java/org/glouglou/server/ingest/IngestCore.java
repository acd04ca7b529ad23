package org.glouglou.server.ingest;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.glouglou.protocol.DatagramHeader;
import org.glouglou.protocol.DropReason;
import org.glouglou.protocol.ProtocolConstants;
import org.glouglou.protocol.RecordDecoder;
import org.glouglou.protocol.internal.InternalEvents;
import org.glouglou.protocol.internal.InternalEvents.Ack;
import org.glouglou.protocol.internal.InternalEvents.Forward;
import org.glouglou.protocol.internal.InternalEvents.ForwardAck;
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
 * The transport-free heart of ingest (spec 5.6, 5.8): rate limit per source, then {@link ReceiverSessions}
 * (handshake, AEAD, anti-replay), then each event to its module's {@link ServerSide}, into the key buffer that the
 * store thread writes to Redis. One path for direct and relayed datagrams: the events of a FORWARD are the origin's,
 * handled exactly as a direct datagram of (origin probe, origin boot), in one {@link ProbeStream} per probe boot
 * whichever session or relay brought them. Acknowledges each stream's datagrams (ACK on its direct session,
 * FORWARD_ACK on the relay session that delivered them): durable once the store confirmed every write made up to the
 * datagram (its generation), received when still not durable after 500 ms, never when one of its events asked to be
 * sent again. Owns the per-probe status ({@code gg:probe:<id>}). Knows no module by name. Not thread-safe: everything
 * runs on the one ingest thread (the UDP channel's event loop), holding the key buffer's lock per datagram and per
 * tick.
 */
public final class IngestCore implements ReceiverSessions.Handler {
    private static final Logger LOG = LoggerFactory.getLogger(IngestCore.class);

    /** 64 STATS counters per probe: far more than a probe reports; bounds a hostile probe's fields and labels. */
    static final int MAX_STATS = 64;
    /** 16 durable datagrams waiting: an acknowledgement goes out on its own, without waiting for a PING (spec 5.8). */
    static final int ACK_AFTER = 16;
    /** 500 ms: a datagram not durable by then is acknowledged received, so its sender does not resend it (spec 5.8). */
    static final long RECEIVED_AFTER_MILLIS = 500;
    /**
     * 2 s: four PING intervals without any datagram mark a probe silent (spec 5.7), so a dead probe or relay shows in
     * Redis within 3 s with a tick and a write to spare; a live one misses four PINGs only on a badly broken path.
     */
    static final long SILENT_AFTER_MILLIS = 2_000;
    /**
     * 300 s: a probe boot silent this long is forgotten here (its flows too; they are resolved from Redis if it comes
     * back). Long enough to survive a failover away and back; its keys are in Redis meanwhile.
     */
    static final long STREAM_IDLE_MILLIS = 300_000;
    /** 8192 probe boots: twice the sessions one server holds (boots outlive sessions for a while). */
    static final int MAX_STREAMS = 8192;
    /** 10 s: a quiet probe's status is written again this often so it does not expire while it lives. */
    static final long STATUS_REFRESH_MILLIS = 10_000;
    /**
     * 1000 bytes of acknowledgements per datagram, estimated: a 1200-byte datagram less header, tag, PONG and CLOCK,
     * with room to spare; more go in further datagrams.
     */
    static final int ACK_BYTES = 1000;
    /** The probe status key's fields holding this server's counts (contributions per server and boot). */
    private static final String[] COUNTS = {"datagrams", "events", "lost"};

    /** Sends a reply datagram (the listener's channel). */
    public interface Replier {
        void send(ByteBuf datagram, InetSocketAddress to);
    }

    private record StreamKey(long probeId, long boot) {
    }

    /** A stream as a module sees it: one per stream and module. */
    final class StreamContext implements ProbeContext {
        final ProbeStream stream;
        Object state;

        StreamContext(ProbeStream s) {
            this.stream = s;
        }

        @Override
        public long probeId() {
            return stream.probeId;
        }

        @Override
        public long boot() {
            return stream.boot;
        }

        @Override
        public String probeName() {
            return stream.name;
        }

        @Override
        public Object state() {
            return state;
        }

        @Override
        public void retryLater(String reason) {
            Datagram d = current;
            if (d != null) {
                d.retry = true;
            }
            retries.computeIfAbsent(reason, k -> new LongAdder()).increment();
        }
    }

    /** The datagram (or FORWARD part) being handled: its stream, sequence number and generation. */
    private static final class Datagram {
        final ProbeStream stream;
        final long seq;
        final long gen;
        final Session session;
        boolean retry;
        boolean byeShutdown;
        boolean bye;

        Datagram(ProbeStream stream, long seq, long gen, Session session) {
            this.stream = stream;
            this.seq = seq;
            this.gen = gen;
            this.session = session;
        }
    }

    private final ReceiverSessions sessions;
    private final RecordDecoder decoder;
    private final ProbeSecrets secrets;
    private final KeyCoalescer store;
    private final RedisStore redis;
    private final ServerMetrics metrics;
    private final SourceRateLimiter limiter;
    private final ServerSettings settings;
    private final ServerSide[] sides = new ServerSide[256];
    private final String[] names = new String[256];
    private final Map<StreamKey, ProbeStream> streams = new ConcurrentHashMap<>();
    private final IdentityHashMap<Session, ProbeStream> direct = new IdentityHashMap<>();
    /** Per relay session, the origin streams whose latest FORWARD came through it: what its PONG acknowledges. */
    private final IdentityHashMap<Session, java.util.Set<ProbeStream>> relayed = new IdentityHashMap<>();
    /** Streams with datagrams waiting for the watermark. */
    private final List<ProbeStream> waiting = new ArrayList<>();
    private final java.util.Set<ProbeStream> waitingSet = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
    /** This server process: its counts in probe status keys add up with other servers' (contributor names). */
    private final String serverId;
    /** Latest STATS per probe name, read by the metrics thread. Bounded by the secrets file. */
    private final Map<String, Map<String, Long>> probeStats = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> refused = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> retries = new ConcurrentHashMap<>();
    /** Label lookups done once: they cost more than a module's work on one event. */
    private final CounterDataPoint delivered;
    private final CounterDataPoint accepted;
    private final CounterDataPoint retried;
    private final CounterDataPoint acksDurable;
    private final CounterDataPoint acksReceived;
    private final CounterDataPoint forwardAcksDurable;
    private final CounterDataPoint forwardAcksReceived;
    private Replier replier = (d, to) -> d.release();
    private Datagram current;
    private boolean wholeDropped;
    private long now;
    private long lastSecond;
    private long ackedWatermark = -1;
    private volatile boolean stopping;
    private volatile int storeKeys;
    private volatile int storeDirty;

    public IngestCore(ModuleRegistry registry, ProbeSecrets secrets, ReceiverSessions.Config sessionConfig,
            KeyCoalescer store, RedisStore redis, ServerMetrics metrics, SourceRateLimiter limiter,
            ServerSettings settings) {
        this.decoder = new RecordDecoder(registry);
        this.sessions = new ReceiverSessions(decoder, secrets, sessionConfig);
        this.secrets = secrets;
        this.store = store;
        this.redis = redis;
        this.metrics = metrics;
        this.limiter = limiter;
        this.settings = settings;
        byte[] id = new byte[6];
        new SecureRandom().nextBytes(id);
        this.serverId = "srv-" + org.glouglou.protocol.Hex.encode(id);
        this.delivered = metrics.events.labelValues("delivered");
        this.accepted = metrics.datagrams.labelValues("accepted");
        this.retried = metrics.datagrams.labelValues("retry");
        this.acksDurable = metrics.acks.labelValues("durable");
        this.acksReceived = metrics.acks.labelValues("received");
        this.forwardAcksDurable = metrics.acks.labelValues("forward_durable");
        this.forwardAcksReceived = metrics.acks.labelValues("forward_received");
        for (GlouglouModule m : registry.modules()) {
            ServerSide s = m.serverSide();
            if (s != null) {
                s.start(settings);
                sides[m.id()] = s;
                names[m.id()] = m.name();
                LOG.info("module {} handles its events on this server", m.name());
                metrics.gauge("glouglou_server_module_" + m.name().replaceAll("[^a-z0-9_]", "_"),
                        "Counters of the " + m.name() + " module's server side", cb -> s.counters()
                                .forEach((k, v) -> cb.call(v, k)),
                        "counter");
            }
        }
        metrics.gauge("glouglou_server_store_keys", "Keys held in the server's buffer", cb -> cb.call(storeKeys));
        metrics.gauge("glouglou_server_store_capacity", "Keys the server's buffer holds at most",
                cb -> cb.call(store.capacity()));
        metrics.gauge("glouglou_server_store_dirty_keys", "Keys changed and not yet written to Redis",
                cb -> cb.call(storeDirty));
        metrics.gauge("glouglou_server_probe_lost_datagrams", "Datagrams lost in transit (sequence gaps) of the probe's"
                + " boots followed now, direct and through relays", cb -> {
                    // one series per probe: several boots of one probe may be followed at once (a restart)
                    Map<String, Long> byName = new HashMap<>();
                    streams.values().forEach(s -> byName.merge(s.name, s.lost(), Long::sum));
                    byName.forEach((name, lost) -> cb.call(lost, name));
                }, "probe");
        metrics.gauge("glouglou_server_probe_stat", "The probe's own counters (capture drops) from its STATS",
                cb -> probeStats.forEach((p, m) -> m.forEach((k, v) -> cb.call(v, p, k))), "probe", "counter");
        metrics.gauge("glouglou_server_sessions", "Established probe sessions",
                cb -> cb.call(sessions.sessions().size()));
        metrics.gauge("glouglou_server_streams", "Probe boots followed (direct or through relays)",
                cb -> cb.call(streams.size()));
        metrics.gauge("glouglou_server_forward_refused", "FORWARD records refused, by reason", cb -> refused.forEach(
                (k, v) -> cb.call(v.sum(), k)), "reason");
        metrics.gauge("glouglou_server_retries", "Events that asked their datagram to be sent again, by reason",
                cb -> retries.forEach((k, v) -> cb.call(v.sum(), k)), "reason");
        LOG.info("server id {} (its counts in probe status keys)", serverId);
    }

    public void replier(Replier r) {
        this.replier = r;
    }

    /** This server process's id in probe status keys. */
    public String serverId() {
        return serverId;
    }

    /** Handles one datagram. Never throws: untrusted input ends here. */
    public void receive(ByteBuf datagram, InetSocketAddress from, long nowMillis, long nowNanos) {
        if (stopping) {
            metrics.datagrams.labelValues("stopping").inc();
            return;
        }
        if (!limiter.tryAcquire(from.getAddress(), nowNanos)) {
            metrics.drop(DropReason.RATE_LIMITED);
            return;
        }
        wholeDropped = false;
        // once per datagram, not per operation: the store thread takes it only to drain a chunk of keys
        store.lock().lock();
        try {
            now = nowMillis;
            store.now(nowMillis);
            current = null;
            sessions.receive(datagram, from, nowMillis, this);
            Datagram d = current;
            if (d != null) {
                finish(d);
            }
        } catch (RuntimeException e) {
            // a bug, not bad input (ReceiverSessions reports bad input as drops): keep serving the other probes
            LOG.warn("datagram from {} failed: {}", from, e.toString());
            metrics.drop(DropReason.MALFORMED_RECORD);
            wholeDropped = true;
        } finally {
            current = null;
            store.lock().unlock();
        }
        if (!wholeDropped) {
            accepted.inc();
        }
    }

    /** A direct datagram was handled: it waits for durability, unless an event asked for it again. */
    private void finish(Datagram d) {
        ProbeStream st = d.stream;
        if (st.ended) {
            return;
        }
        if (d.retry) {
            retried.inc();
            return; // not acknowledged at all: the probe sends it again on its timeout
        }
        if (d.seq <= st.highestSeq - ProtocolConstants.REPLAY_WINDOW) {
            return; // older than the acknowledgement window
        }
        st.highestSeq = Math.max(st.highestSeq, d.seq);
        st.acks.accepted(d.seq, now);
        pend(st, new ProbeStream.Pending(d.seq, d.gen, false, now));
    }

    /**
     * A datagram waits for the watermark; at most the acknowledgement window's worth per stream (older ones could not
     * be acknowledged any more: memory stays bounded while Redis is away).
     */
    private void pend(ProbeStream st, ProbeStream.Pending p) {
        st.pending.add(p);
        if (st.pending.size() > ProtocolConstants.REPLAY_WINDOW) {
            st.pending.poll();
        }
        waitFor(st);
    }

    private void waitFor(ProbeStream st) {
        if (waitingSet.add(st)) {
            waiting.add(st);
        }
    }

    @Override
    public void onPayload(Session session, DatagramHeader header, ByteBuf records) {
        ProbeStream st = direct.get(session);
        if (st == null) {
            return;
        }
        if (st.ended) {
            // ended under a live session (the stream table was full): the boot starts a new stream
            st = stream(session.probeId(), session.boot(), session.probeName());
            st.direct = session;
            direct.put(session, st);
        }
        Datagram d = new Datagram(st, header.sequence(), store.nextGeneration(), session);
        current = d;
        st.lastSeenMillis = now;
        st.datagrams++;
        st.remote = String.valueOf(session.remote());
        st.sessionId = session.sessionId();
        st.path = ""; // the latest route is direct
        int reason = byeReason(records);
        if (reason >= 0) {
            d.bye = true;
            d.byeShutdown = reason == InternalEvents.Bye.SHUTDOWN;
        }
    }

    /**
     * The reason of the first BYE record among {@code records}, or -1: walks the record headers only (module, type,
     * length), since the receiver consumes BYE itself and tells only that the session closed.
     */
    static int byeReason(ByteBuf records) {
        int i = records.readerIndex();
        int end = records.writerIndex();
        while (end - i >= 3) {
            int module = records.getUnsignedByte(i);
            int type = records.getUnsignedByte(i + 1);
            int j = i + 2;
            long len = 0;
            int shift = 0;
            while (true) {
                if (j >= end || shift > 14) {
                    return -1;
                }
                int b = records.getUnsignedByte(j++);
                len |= (long) (b & 0x7f) << shift;
                shift += 7;
                if ((b & 0x80) == 0) {
                    break;
                }
            }
            if (j + len > end) {
                return -1;
            }
            if (module == 0 && type == InternalEvents.BYE.code() && len >= 1) {
                return records.getUnsignedByte(j);
            }
            i = (int) (j + len);
        }
        return -1;
    }

    @Override
    public void onEvent(Session session, long timeMicros, Event event) {
        Datagram d = current;
        ProbeStream st = d == null ? null : d.stream;
        if (st == null || d.session != session) {
            metrics.events.labelValues("no_session").inc();
            return;
        }
        st.events++;
        if (event.type().moduleId() == 0) {
            if (event instanceof Forward f) {
                onForward(session, f);
            } else {
                onInternal(st, event);
            }
            return;
        }
        dispatch(st, timeMicros, event);
    }

    private void dispatch(ProbeStream st, long timeMicros, Event event) {
        int module = event.type().moduleId();
        ServerSide side = sides[module];
        if (side == null) {
            metrics.events.labelValues("no_server_side").inc();
            return;
        }
        try {
            side.onEvent(st.contexts[module], timeMicros, event, store);
            delivered.inc();
        } catch (RuntimeException e) {
            metrics.events.labelValues("failed").inc();
            LOG.debug("module {} failed on {}: {}", module, event.type(), e.toString());
        }
    }

    /** Module 0 events of a stream (direct or forwarded): STATS, NOTICE. */
    private void onInternal(ProbeStream st, Event event) {
        if (event instanceof InternalEvents.Stats s) {
            List<String> names = new ArrayList<>();
            List<Long> values = new ArrayList<>();
            Map<String, Long> copy = new HashMap<>();
            for (Map.Entry<String, Long> e : s.counters().entrySet()) {
                if (copy.size() >= MAX_STATS) {
                    break;
                }
                copy.put(e.getKey(), e.getValue());
                names.add("stat." + e.getKey());
                values.add(e.getValue());
            }
            // cumulative per boot (spec 5.5): the maximum within a boot, a newer boot starting over
            store.hmaxPerBoot(probeKey(st.probeId), "stats_boot", st.boot, names.toArray(String[]::new), values
                    .stream().mapToLong(Long::longValue).toArray());
            probeStats.put(st.name, Map.copyOf(copy));
            metrics.events.labelValues("stats").inc();
        } else if (event instanceof InternalEvents.Notice n) {
            LOG.info("probe {}: notice {}: {}", st.name, n.severity(), n.text());
            store.hset(probeKey(st.probeId), "last_notice", n.text());
            metrics.events.labelValues("notice").inc();
        } else {
            metrics.events.labelValues("ignored").inc();
        }
    }

    /**
     * A FORWARD record that arrived in {@code via}'s authenticated session (spec 5.6): the origin's events, handled
     * as the origin's own in its stream. Taken only when the path ends with the relay's id and the origin is in the
     * secrets file.
     */
    private void onForward(Session via, Forward f) {
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
        ProbeStream o = stream(entry.probeId(), f.originBoot(), entry.name());
        o.lastSeenMillis = now;
        if (o.via != via) {
            if (o.via != null) {
                java.util.Set<ProbeStream> old = relayed.get(o.via);
                if (old != null) {
                    old.remove(o);
                }
            }
            relayed.computeIfAbsent(via, k -> java.util.Collections.newSetFromMap(new IdentityHashMap<>())).add(o);
            o.via = via;
        }
        o.viaId = via.probeId();
        o.path = join(path); // the latest route: it changes when a relay fails over
        o.remote = "relay " + via.probeId();
        // the parts of a split origin datagram share its sequence number: counted once
        if (o.relayWindow.check(f.originSequence())) {
            o.relayWindow.update(f.originSequence());
            o.datagrams++;
        }
        Datagram outer = current;
        Datagram part = new Datagram(o, f.originSequence(), outer.gen, via);
        current = part;
        try {
            int n = decoder.decode(Unpooled.wrappedBuffer(f.records()), f.originBaseTime(),
                    new RecordDecoder.Listener() {
                        @Override
                        public void onEvent(long t, Event e) {
                            if (part.bye) {
                                return; // spec 5.7: nothing after a BYE is delivered
                            }
                            if (e instanceof InternalEvents.Bye b) {
                                part.bye = true;
                                part.byeShutdown = b.reason() == InternalEvents.Bye.SHUTDOWN;
                            } else if (e.type().moduleId() == 0) {
                                // a FORWARD inside a FORWARD (relays re-wrap, never nest), a PING, a handshake
                                // record: not the origin's events
                                if (e instanceof InternalEvents.Stats || e instanceof InternalEvents.Notice) {
                                    onInternal(o, e);
                                } else {
                                    metrics.events.labelValues("ignored").inc();
                                }
                            } else {
                                dispatch(o, t, e);
                            }
                        }

                        @Override
                        public void onSkipped(DropReason r, String detail) {
                            metrics.drop(r);
                            LOG.debug("forwarded record of probe {} skipped: {}: {}", o.probeId, r.label(), detail);
                        }
                    });
            o.events += n;
        } finally {
            current = outer;
        }
        if (o.ended) {
            return;
        }
        ProbeStream.Pending p = o.relayed.get(part.seq);
        if (p == null) {
            o.relayed.put(part.seq, new ProbeStream.Pending(part.seq, part.gen, part.retry, now));
        } else {
            p.gen = Math.max(p.gen, part.gen);
            p.retry |= part.retry;
        }
        if (part.byeShutdown) {
            endStream(o, "probe said BYE (through relay " + via.probeId() + ")", true);
        }
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

    /** The stream of (probe, boot), made (with its module contexts) when new. */
    private ProbeStream stream(long probeId, long boot, String name) {
        StreamKey k = new StreamKey(probeId, boot);
        ProbeStream st = streams.get(k);
        if (st != null) {
            return st;
        }
        while (streams.size() >= MAX_STREAMS) {
            ProbeStream oldest = null;
            for (ProbeStream s : streams.values()) {
                if (oldest == null || s.lastSeenMillis < oldest.lastSeenMillis) {
                    oldest = s;
                }
            }
            endStream(oldest, "stream table full", false);
        }
        st = new ProbeStream(probeId, boot, name, now);
        streams.put(k, st);
        for (int i = 0; i < 256; i++) {
            if (sides[i] != null) {
                StreamContext ctx = new StreamContext(st);
                st.contexts[i] = ctx;
                try {
                    ctx.state = sides[i].openStream(ctx);
                } catch (RuntimeException e) {
                    LOG.warn("module {} failed to open boot {} of probe {}: {}", i, Long.toUnsignedString(boot), name,
                            e.toString());
                }
            }
        }
        LOG.info("probe {} (id {}) boot {} seen", name, probeId, Long.toUnsignedString(boot));
        return st;
    }

    /** The stream ends: its modules forget it, its status and this server's counts are written one last time. */
    private void endStream(ProbeStream st, String why, boolean bye) {
        if (st.ended) {
            return;
        }
        st.ended = true;
        streams.remove(new StreamKey(st.probeId, st.boot), st);
        if (st.via != null) {
            java.util.Set<ProbeStream> origins = relayed.get(st.via);
            if (origins != null) {
                origins.remove(st);
            }
        }
        for (int i = 0; i < 256; i++) {
            if (sides[i] != null && st.contexts[i] != null) {
                try {
                    sides[i].closeStream(st.contexts[i], store);
                } catch (RuntimeException e) {
                    LOG.warn("module {} failed to close a boot: {}", i, e.toString());
                }
            }
        }
        LOG.info("probe {} boot {} ended: {}", st.name, Long.toUnsignedString(st.boot), why);
        if (bye) {
            st.state = "closed";
        }
        writeStatus(st);
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
        ProbeStream st = stream(session.probeId(), session.boot(), session.probeName());
        st.direct = session;
        st.lastSeenMillis = now;
        st.remote = String.valueOf(session.remote());
        st.sessionId = session.sessionId();
        st.state = "open";
        if (session.hello() != null) {
            st.software = session.hello().software();
        }
        direct.put(session, st);
        LOG.info("probe {} (id {}) session {} of boot {} established from {}", session.probeName(), session
                .probeId(), Long.toUnsignedString(session.sessionId()), Long.toUnsignedString(session.boot()),
                session.remote());
        writeStatus(st);
    }

    @Override
    public void onSessionClosed(Session session, String why) {
        java.util.Set<ProbeStream> origins = relayed.remove(session);
        if (origins != null) {
            for (ProbeStream o : origins) {
                if (o.via == session) {
                    o.via = null; // acknowledgements wait for the next FORWARD's session
                }
            }
        }
        ProbeStream st = direct.remove(session);
        if (st == null) {
            return;
        }
        st.closedSessionGaps += session.lost();
        if (st.direct == session) {
            st.direct = null;
        }
        LOG.info("probe {} session {} closed: {}", session.probeName(), Long.toUnsignedString(session.sessionId()),
                why);
        Datagram d = current;
        if (d != null && d.session == session && d.byeShutdown) {
            endStream(st, "probe said BYE", true);
        }
    }

    @Override
    public List<Event> onPing(Session session) {
        updateAcks();
        List<Event> out = new ArrayList<>(2);
        int[] budget = {ACK_BYTES};
        List<Event> rest = new ArrayList<>();
        ProbeStream st = direct.get(session);
        if (st != null && !st.ended) {
            add(out, rest, budget, st.acks.durableAck(), st, false);
            add(out, rest, budget, st.acks.receivedAck(now - RECEIVED_AFTER_MILLIS), st, false);
        }
        java.util.Set<ProbeStream> origins = relayed.get(session);
        if (origins != null) {
            for (ProbeStream o : origins) {
                if (o != st && !o.ended) {
                    add(out, rest, budget, o.acks.durableAck(), o, true);
                    add(out, rest, budget, o.acks.receivedAck(now - RECEIVED_AFTER_MILLIS), o, true);
                }
            }
        }
        sendAll(session, rest);
        return out;
    }

    /** Adds an acknowledgement (as a FORWARD_ACK when relayed) to what fits the PONG, else to {@code rest}. */
    private void add(List<Event> out, List<Event> rest, int[] budget, Ack a, ProbeStream st, boolean relayed) {
        if (a == null) {
            return;
        }
        Event e = relayed ? new ForwardAck(st.probeId, st.boot, a.kind(), a.ranges()) : a;
        count(a.kind(), relayed);
        int size = size(a, relayed);
        if (size <= budget[0]) {
            budget[0] -= size;
            out.add(e);
        } else {
            rest.add(e);
        }
    }

    private void count(int kind, boolean relayed) {
        if (kind == Ack.DURABLE) {
            (relayed ? forwardAcksDurable : acksDurable).inc();
        } else {
            (relayed ? forwardAcksReceived : acksReceived).inc();
        }
    }

    /** An upper bound of an acknowledgement's encoded size: record header, fields, two 10-byte varints per range. */
    private static int size(Ack a, boolean relayed) {
        return 5 + 2 + 20 * a.ranges().count() + (relayed ? 12 : 0);
    }

    /** Sends {@code events} down {@code session} in as many sealed datagrams as they need. */
    private void sendAll(Session session, List<Event> events) {
        List<Event> batch = new ArrayList<>();
        int used = 0;
        for (Event e : events) {
            int size = e instanceof ForwardAck fa
                    ? size(new Ack(fa.kind(), fa.ranges()), true)
                    : size((Ack) e, false);
            if (used + size > ACK_BYTES && !batch.isEmpty()) {
                send(session, batch);
                batch = new ArrayList<>();
                used = 0;
            }
            batch.add(e);
            used += size;
        }
        if (!batch.isEmpty()) {
            send(session, batch);
        }
    }

    private void send(Session session, List<Event> events) {
        ByteBuf d = sessions.seal(session, events, now);
        if (d != null) {
            replier.send(d, session.remote());
        }
    }

    /**
     * Moves what the store confirmed into the streams' acknowledgement windows, and sends the acknowledgements that
     * have become due on their own (16 or more durable datagrams waiting). Under the lock.
     */
    private void updateAcks() {
        store.confirm();
        long w = store.watermark();
        if (w == ackedWatermark) {
            return;
        }
        ackedWatermark = w;
        for (int i = 0; i < waiting.size(); i++) {
            ProbeStream st = waiting.get(i);
            ProbeStream.Pending p;
            while ((p = st.pending.peek()) != null && p.gen <= w) {
                st.pending.poll();
                if (!p.retry) {
                    st.acks.durable(p.seq);
                }
            }
            if (!st.ended && st.acks.unsent() >= ACK_AFTER) {
                sendDurable(st);
            }
            if (st.pending.isEmpty() || st.ended) {
                waitingSet.remove(st);
                waiting.set(i, waiting.get(waiting.size() - 1));
                waiting.remove(waiting.size() - 1);
                i--;
            }
        }
    }

    /** The stream's durable acknowledgement, unsolicited: on its direct session and on its relay's. */
    private void sendDurable(ProbeStream st) {
        Ack a = st.acks.durableAck();
        if (a == null) {
            return;
        }
        if (st.direct != null) {
            count(a.kind(), false);
            send(st.direct, List.of(a));
        }
        if (st.via != null) {
            count(a.kind(), true);
            send(st.via, List.of(new ForwardAck(st.probeId, st.boot, a.kind(), a.ranges())));
        }
    }

    /** Replies from Redis arrived (writes confirmed, reads answered): on the ingest thread. */
    public void progress() {
        store.lock().lock();
        try {
            store.deliverReads();
            updateAcks();
        } catch (RuntimeException e) {
            LOG.warn("progress failed: {}", e.toString(), e);
        } finally {
            store.lock().unlock();
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

    /**
     * The probe's status: the newest report wins across servers (stamped with when the probe was last heard), and
     * this server's counts for the boot as its contribution, so several servers add up.
     */
    private void writeStatus(ProbeStream st) {
        String k = probeKey(st.probeId);
        String via = st.path.isEmpty() ? "" : Long.toString(st.viaId);
        store.hsetNewest(k, "last_seen", st.lastSeenMillis, new String[]{"name", "state", "boot", "session",
                "remote", "path", "via", "software", "established"},
                new String[]{st.name, st.state, Long
                        .toUnsignedString(st.boot), Long.toUnsignedString(st.sessionId), st.remote, st.path, via,
                        st.software, Long.toString(st.establishedMillis)});
        for (String f : COUNTS) {
            store.hsetIfAbsent(k, f, 0); // shown from the start: a contribution writes only growth
        }
        store.contribute(k, serverId + ":" + Long.toUnsignedString(st.boot), COUNTS, new long[]{st.datagrams,
                st.events, st.lost()}, st.ended);
        // the probe's status outlives its nodes: it says why a probe went quiet
        store.expire(k, Math.max(settings.nodeTtlSeconds(), 600));
        st.statusDatagrams = st.datagrams;
        st.statusMillis = now;
        st.statusState = st.state;
    }

    /**
     * Once per tick on the ingest thread: answered reads, module ticks, relayed datagrams into their
     * acknowledgement windows, probe status (silent after 2.5 s), idle boots, buffer expiry; then the store thread
     * is asked to write what changed ({@link RedisStore#requestFlush}), so the ingest thread never waits for Redis.
     */
    public void tick(long nowMillis) {
        store.lock().lock();
        try {
            now = nowMillis;
            store.now(nowMillis);
            if (nowMillis - lastSecond >= 1000) {
                lastSecond = nowMillis;
                sessions.expire(nowMillis, this);
            }
            store.deliverReads();
            // rate follow-ups, and a slice of the buffer per tick (the whole of it once a second)
            store.tick(nowMillis);
            for (ServerSide s : sides) {
                if (s != null) {
                    s.onTick(nowMillis, store);
                }
            }
            for (ProbeStream st : new ArrayList<>(streams.values())) {
                relayedToWindow(st);
                long quiet = nowMillis - st.lastSeenMillis;
                if (quiet > STREAM_IDLE_MILLIS) {
                    endStream(st, "silent for " + quiet / 1000 + " s", false);
                    continue;
                }
                if ("open".equals(st.state) && quiet > SILENT_AFTER_MILLIS) {
                    st.state = "silent";
                } else if ("silent".equals(st.state) && quiet <= SILENT_AFTER_MILLIS) {
                    st.state = "open";
                }
                if (st.datagrams != st.statusDatagrams || !st.state.equals(st.statusState)
                        || nowMillis - st.statusMillis > STATUS_REFRESH_MILLIS) {
                    writeStatus(st);
                }
            }
            updateAcks();
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

    /** The origin datagrams relays brought since the last tick, every part of each seen, into the ACK window. */
    private void relayedToWindow(ProbeStream st) {
        if (st.relayed.isEmpty()) {
            return;
        }
        for (ProbeStream.Pending p : st.relayed.values()) {
            if (p.retry) {
                retried.inc();
            } else if (p.seq > st.highestSeq - ProtocolConstants.REPLAY_WINDOW) {
                st.highestSeq = Math.max(st.highestSeq, p.seq);
                st.acks.accepted(p.seq, p.acceptedMillis);
                pend(st, p);
            }
        }
        st.relayed.clear();
    }

    /** Stops taking datagrams (a graceful stop): they are counted and dropped from now on. */
    public void stopReceiving() {
        stopping = true;
    }

    /**
     * The last acknowledgements of a graceful stop: what is durable now, to every stream, on its direct session and
     * on its relay's, and this server's counts closed. On the ingest thread.
     */
    public void finalAcks() {
        store.lock().lock();
        try {
            for (ProbeStream st : streams.values()) {
                relayedToWindow(st);
            }
            ackedWatermark = -1;
            updateAcks();
            for (ProbeStream st : streams.values()) {
                sendDurable(st);
            }
        } finally {
            store.lock().unlock();
        }
    }

    /** This server's counts in every probe status are final: closed, so their marks are pruned in time. */
    public void closeCounts() {
        store.lock().lock();
        try {
            for (ProbeStream st : streams.values()) {
                store.contribute(probeKey(st.probeId), serverId + ":" + Long.toUnsignedString(st.boot), COUNTS,
                        new long[]{st.datagrams, st.events, st.lost()}, true);
            }
        } finally {
            store.lock().unlock();
        }
    }

    public ReceiverSessions sessions() {
        return sessions;
    }

    /** The stream of a probe: its direct session's boot, else the most recently heard one. Safe from any thread. */
    public ProbeStream stream(long probeId) {
        ProbeStream best = null;
        for (ProbeStream s : streams.values()) {
            if (s.probeId == probeId && (best == null || s.lastSeenMillis > best.lastSeenMillis)) {
                best = s;
            }
        }
        return best;
    }

    /** Every followed probe boot. Safe from any thread. */
    public java.util.Collection<ProbeStream> streams() {
        return streams.values();
    }

    /** FORWARD records refused so far, by reason (bad_path, unknown_origin, own_origin). */
    public Map<String, Long> refused() {
        Map<String, Long> m = new LinkedHashMap<>();
        refused.forEach((k, v) -> m.put(k, v.sum()));
        return m;
    }

    public KeyCoalescer store() {
        return store;
    }

    /** The modules' server-side counters, by module name. Safe from any thread. */
    public Map<String, Map<String, Long>> moduleCounters() {
        Map<String, Map<String, Long>> m = new LinkedHashMap<>();
        for (int i = 0; i < 256; i++) {
            if (sides[i] != null) {
                m.put(names[i], sides[i].counters());
            }
        }
        return m;
    }

    List<ServerSide> sides() {
        return java.util.Arrays.stream(sides).filter(java.util.Objects::nonNull).toList();
    }
}
