package org.glouglou.relay;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiConsumer;
import org.glouglou.protocol.DatagramHeader;
import org.glouglou.protocol.DropReason;
import org.glouglou.protocol.Payload;
import org.glouglou.protocol.RecordDecoder;
import org.glouglou.protocol.internal.InternalEvents.Forward;
import org.glouglou.protocol.session.ProbeSecrets;
import org.glouglou.protocol.session.ReceiverSessions;
import org.glouglou.protocol.session.ReceiverSessions.Session;
import org.glouglou.protocol.transport.SourceRateLimiter;
import org.glouglou.spi.Event;
import org.glouglou.spi.EventSink;
import org.glouglou.spi.ModuleRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The transport-free heart of a relay (issue 7, spec 5.6): per-source rate limit, then {@link ReceiverSessions}
 * exactly as on the server (handshake against the relay's own probe secrets, AEAD, anti-replay, drops by reason), then
 * every authenticated datagram's records go upstream verbatim inside FORWARD records that name the origin probe, its
 * session, sequence number and base time, with this relay's id as the path. A FORWARD from a downstream relay keeps
 * its origin fields and gets this relay appended to its path. Not thread-safe: one receive thread, like the server's
 * ingest thread; the counters are read from other threads.
 */
public final class RelayCore implements ReceiverSessions.Handler {
    private static final Logger LOG = LoggerFactory.getLogger(RelayCore.class);

    /** The largest path a FORWARD may carry (spec 5.6): a longer chain is a loop or a misconfiguration. */
    static final int MAX_PATH = 8;

    private final ReceiverSessions sessions;
    private final SourceRateLimiter limiter;
    private final RecordDecoder decoder;
    private final ModuleRegistry registry;
    private final long relayId;
    private final int maxDatagram;
    private final EventSink upstream;
    private final long[] ownPath;
    private BiConsumer<ByteBuf, InetSocketAddress> replier = (d, to) -> d.release();

    private final LongAdder datagramsIn = new LongAdder();
    private final LongAdder eventsIn = new LongAdder();
    private final LongAdder forwards = new LongAdder();
    private final LongAdder forwardedEvents = new LongAdder();
    private final LongAdder droppedRecords = new LongAdder();
    private final LongAdder droppedEvents = new LongAdder();
    private final LongAdder droppedDatagrams = new LongAdder();
    private final Map<String, LongAdder> drops = new ConcurrentHashMap<>();

    /**
     * @param relayId     this relay's own probe id at its upstream: the hop it adds to every path
     * @param maxDatagram the upstream datagram size every FORWARD must fit (1200: any IPv6 path)
     * @param upstream    where the FORWARD events go: the upstream's export pipeline
     */
    public RelayCore(ModuleRegistry registry, ProbeSecrets secrets, ReceiverSessions.Config config,
            SourceRateLimiter limiter, long relayId, int maxDatagram, EventSink upstream) {
        this.registry = registry;
        this.decoder = new RecordDecoder(registry);
        this.sessions = new ReceiverSessions(decoder, secrets, config);
        this.limiter = limiter;
        this.relayId = relayId;
        this.maxDatagram = maxDatagram;
        this.upstream = upstream;
        this.ownPath = new long[]{relayId};
    }

    /** Where replies to probes (CHALLENGE, AUTH_OK, PONG, AUTH_FAIL) go: the listening socket. */
    public void replier(BiConsumer<ByteBuf, InetSocketAddress> r) {
        this.replier = r;
    }

    /** Handles one datagram from a probe or a downstream relay. Never throws: untrusted input ends here. */
    public void receive(ByteBuf datagram, InetSocketAddress from, long nowMillis, long nowNanos) {
        if (!limiter.tryAcquire(from.getAddress(), nowNanos)) {
            count(DropReason.RATE_LIMITED);
            return;
        }
        try {
            sessions.receive(datagram, from, nowMillis, this);
        } catch (RuntimeException e) {
            // a bug, not bad input (bad input arrives as drops): keep serving the other probes
            LOG.warn("datagram from {} failed: {}", from, e.toString());
            count(DropReason.MALFORMED_RECORD);
        }
    }

    @Override
    public void onPayload(Session session, DatagramHeader header, ByteBuf records) {
        datagramsIn.increment();
        ForwardPacker.Result r = ForwardPacker.pack(session.probeId(), session.boot(), header.sequence(), header
                .baseTimeMicros(), ownPath, records, maxDatagram, registry);
        droppedRecords.add(r.droppedRecords());
        emit(r);
    }

    private void emit(ForwardPacker.Result r) {
        long now = System.currentTimeMillis() * 1000;
        for (Forward f : r.parts()) {
            upstream.emit(now, f);
            forwards.increment();
        }
    }

    @Override
    public void onEvent(Session session, long timeMicros, Event event) {
        if (!(event instanceof Forward f)) {
            eventsIn.increment(); // already on its way, verbatim, from onPayload
            forwardedEvents.increment();
            return;
        }
        // a downstream relay's FORWARD: keep the origin, add this hop
        long[] path = f.path();
        int nested = countEvents(f);
        eventsIn.add(nested);
        if (path[path.length - 1] != session.probeId()) {
            countDrop("forward_bad_path", nested);
            return;
        }
        if (path.length >= MAX_PATH) {
            countDrop("forward_path_too_long", nested);
            return;
        }
        ForwardPacker.Result r = ForwardPacker.pack(f.originProbe(), f.originBoot(), f.originSequence(), f
                .originBaseTime(), ForwardPacker.append(path, relayId), Unpooled.wrappedBuffer(f.records()),
                maxDatagram, registry);
        droppedRecords.add(r.droppedRecords());
        forwardedEvents.add(nested);
        emit(r);
    }

    private void countDrop(String reason, int events) {
        drops.computeIfAbsent(reason, k -> new LongAdder()).increment();
        droppedEvents.add(events);
    }

    /** Events inside a FORWARD's records (decoded only to count them). */
    int countEvents(Forward f) {
        return decoder.decode(Unpooled.wrappedBuffer(f.records()), f.originBaseTime(), new RecordDecoder.Listener() {
            @Override
            public void onEvent(long t, Event e) {
            }

            @Override
            public void onSkipped(DropReason r, String detail) {
            }
        });
    }

    /**
     * An upstream payload the queue had no room for: counts the origin events its FORWARD records carried (called
     * by the export pipeline on the thread that dropped it).
     */
    public void onUpstreamDrop(Payload p) {
        int[] found = new int[2];
        decoder.decode(Unpooled.wrappedBuffer(p.records()), p.baseTimeMicros(), new RecordDecoder.Listener() {
            @Override
            public void onEvent(long t, Event e) {
                if (e instanceof Forward f) {
                    found[0]++;
                    found[1] += countEvents(f);
                }
            }

            @Override
            public void onSkipped(DropReason r, String detail) {
            }
        });
        if (found[0] > 0) { // beside a probe, the probe's own payloads share the queue: not this relay's to count
            droppedDatagrams.increment();
            droppedEvents.add(found[1]);
        }
    }

    @Override
    public void onDrop(DropReason reason, long probeId, String detail) {
        count(reason);
        LOG.debug("drop {} probe {}: {}", reason.label(), probeId, detail);
    }

    private void count(DropReason reason) {
        drops.computeIfAbsent(reason.label(), k -> new LongAdder()).increment();
    }

    @Override
    public void onSessionEstablished(Session session) {
        LOG.info("probe {} (id {}) session {} established from {}", session.probeName(), session.probeId(), Long
                .toUnsignedString(session.sessionId()), session.remote());
    }

    @Override
    public void onSessionClosed(Session session, String why) {
        LOG.info("probe {} session {} closed: {}", session.probeName(), Long.toUnsignedString(session.sessionId()),
                why);
    }

    @Override
    public void reply(ByteBuf datagram, InetSocketAddress to) {
        replier.accept(datagram, to);
    }

    /** Closes idle sessions; call about once a second on the receive thread. */
    public void expire(long nowMillis) {
        sessions.expire(nowMillis, this);
    }

    public ReceiverSessions sessions() {
        return sessions;
    }

    /**
     * This hop's counters for the relay's STATS (spec 5.5): what came in, what went upstream, what was dropped here
     * and why. Cumulative since start. Safe from any thread.
     */
    public Map<String, Long> counters() {
        Map<String, Long> c = new LinkedHashMap<>();
        c.put("probes", (long) sessions.sessions().size());
        c.put("forward_datagrams_in", datagramsIn.sum());
        c.put("forward_events_in", eventsIn.sum());
        c.put("forwards", forwards.sum());
        c.put("forwarded_events", forwardedEvents.sum());
        c.put("forward_dropped_events", droppedEvents.sum());
        c.put("forward_dropped_datagrams", droppedDatagrams.sum());
        c.put("forward_dropped_records", droppedRecords.sum());
        long lost = 0;
        for (Session s : sessions.sessions()) {
            lost += s.lost();
        }
        c.put("forward_lost_in", lost);
        drops.forEach((k, v) -> c.put("drops_" + k, v.sum()));
        return c;
    }
}
