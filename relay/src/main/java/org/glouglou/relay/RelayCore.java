package org.glouglou.relay;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiConsumer;
import org.glouglou.protocol.DatagramHeader;
import org.glouglou.protocol.DropReason;
import org.glouglou.protocol.Payload;
import org.glouglou.protocol.PayloadBuilder;
import org.glouglou.protocol.RecordDecoder;
import org.glouglou.protocol.internal.InternalEvents.Ack;
import org.glouglou.protocol.internal.InternalEvents.Forward;
import org.glouglou.protocol.internal.InternalEvents.ForwardAck;
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
 * The transport-free heart of a relay (spec 5.6): per-source rate limit, then {@link ReceiverSessions} exactly as on
 * the server (handshake against the relay's own probe secrets, AEAD, anti-replay, drops by reason), then every
 * authenticated datagram's records go upstream verbatim inside FORWARD records that name the origin probe, its boot,
 * sequence number and base time, with this relay's id as the path. A FORWARD from a downstream relay keeps its origin
 * fields and gets this relay appended to its path. What it forwarded is kept until a durable FORWARD_ACK names it
 * ({@link ForwardBuffer}) and sent again on every new upstream session; each FORWARD_ACK goes on towards its origin: as
 * an ACK on the origin's own session when it is one of this relay's probes, else as the same FORWARD_ACK to the
 * downstream relay its FORWARDs last came through. One receive thread runs it, like the server's ingest thread;
 * {@link #onUpstreamEvent} and {@link #resendPayloads} are called from the uplink's threads, and the counters are read
 * from any.
 */
public final class RelayCore implements ReceiverSessions.Handler {
    private static final Logger LOG = LoggerFactory.getLogger(RelayCore.class);

    /** The largest path a FORWARD may carry (spec 5.6): a longer chain is a loop or a misconfiguration. */
    static final int MAX_PATH = 8;
    /**
     * Acknowledged datagrams waiting for a probe or downstream relay that are worth a datagram on their own instead of
     * the next PONG: 16, as the server does (spec 5.8).
     */
    static final int UNSOLICITED_AT = 16;
    /** Bytes of acknowledgements put into one datagram to a probe: a PONG's room and then some, under 1200. */
    static final int ACK_BYTES = 1000;
    /**
     * Origins whose route (the downstream relay their FORWARDs came through) is remembered: 65536, far more than the
     * probes behind one relay; the least recently used is forgotten (its acknowledgements are then dropped, and the
     * origin sends again).
     */
    static final int MAX_ROUTES = 65536;

    private final ReceiverSessions sessions;
    private final SourceRateLimiter limiter;
    private final RecordDecoder decoder;
    private final ModuleRegistry registry;
    private final long relayId;
    private final int maxDatagram;
    private final EventSink upstream;
    private final long[] ownPath;
    /** What was forwarded and is not yet durable upstream; null beside a probe, whose resend buffer keeps it all. */
    private final ForwardBuffer kept;
    private final PayloadBuilder resendBuilder;
    private final ConcurrentLinkedQueue<ForwardAck> acksIn = new ConcurrentLinkedQueue<>();
    private final Map<ForwardBuffer.Origin, Session> routes = new LinkedHashMap<>(1024, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<ForwardBuffer.Origin, Session> eldest) {
            return size() > MAX_ROUTES;
        }
    };
    /** Acknowledgements waiting for each probe or downstream relay session (by identity), receive thread only. */
    private final Map<Session, PendingAcks> pending = new HashMap<>();
    private BiConsumer<ByteBuf, InetSocketAddress> replier = (d, to) -> d.release();

    private final LongAdder datagramsIn = new LongAdder();
    private final LongAdder eventsIn = new LongAdder();
    private final LongAdder forwards = new LongAdder();
    private final LongAdder forwardedEvents = new LongAdder();
    private final LongAdder droppedRecords = new LongAdder();
    private final LongAdder droppedEvents = new LongAdder();
    private final LongAdder droppedDatagrams = new LongAdder();
    private final LongAdder acksUp = new LongAdder();
    private final LongAdder acksRouted = new LongAdder();
    private final LongAdder acksUnrouted = new LongAdder();
    private final LongAdder acksSentOnTheirOwn = new LongAdder();
    private final Map<String, LongAdder> drops = new ConcurrentHashMap<>();

    /**
     * @param relayId     this relay's own probe id at its upstream: the hop it adds to every path
     * @param maxDatagram the upstream datagram size every FORWARD must fit (1200: any IPv6 path)
     * @param upstream    where the FORWARD events go: the upstream's export pipeline
     * @param keep        origin payloads kept until durable upstream (the relay's --queue), or 0 to keep none (beside
     *                    a probe: the probe's own resend buffer keeps the payloads that carry them)
     */
    public RelayCore(ModuleRegistry registry, ProbeSecrets secrets, ReceiverSessions.Config config,
            SourceRateLimiter limiter, long relayId, int maxDatagram, EventSink upstream, int keep) {
        this.registry = registry;
        this.decoder = new RecordDecoder(registry);
        this.sessions = new ReceiverSessions(decoder, secrets, config);
        this.limiter = limiter;
        this.relayId = relayId;
        this.maxDatagram = maxDatagram;
        this.upstream = upstream;
        this.ownPath = new long[]{relayId};
        this.kept = keep > 0 ? new ForwardBuffer(keep, ForwardBuffer.HORIZON_MILLIS, this::countEvents) : null;
        this.resendBuilder = new PayloadBuilder(registry, maxDatagram, 1000);
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
        emit(session.probeId(), session.boot(), header.sequence(), r);
    }

    /** Keeps the parts until durable upstream (kept first: the pipeline may drop them on the spot), then sends. */
    private void emit(long probe, long boot, long sequence, ForwardPacker.Result r) {
        long now = System.currentTimeMillis();
        if (kept != null && !(r.parts().size() == 1 && r.parts().get(0).records().length == 0)) {
            // an empty FORWARD (the origin's PING) carries nothing to keep: its sender does not keep it either
            kept.keep(probe, boot, sequence, r.parts(), now);
        }
        for (Forward f : r.parts()) {
            upstream.emit(now * 1000, f);
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
        // the acknowledgements of this origin go back the way its FORWARDs came
        routes.put(new ForwardBuffer.Origin(f.originProbe(), f.originBoot()), session);
        ForwardPacker.Result r = ForwardPacker.pack(f.originProbe(), f.originBoot(), f.originSequence(), f
                .originBaseTime(), ForwardPacker.append(path, relayId), Unpooled.wrappedBuffer(f.records()),
                maxDatagram, registry);
        droppedRecords.add(r.droppedRecords());
        forwardedEvents.add(nested);
        emit(f.originProbe(), f.originBoot(), f.originSequence(), r);
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
                    if (kept != null) {
                        kept.forget(f.originProbe(), f.originBoot(), f.originSequence()); // never sent
                    }
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

    /**
     * An event from the upstream on the relay's own session (the uplink's receive thread): a FORWARD_ACK forgets the
     * payloads it names at once and goes to the receive thread, which passes it on towards the origin.
     */
    public void onUpstreamEvent(Event e) {
        if (e instanceof ForwardAck fa) {
            acksUp.increment();
            if (kept != null && fa.kind() == Ack.DURABLE) {
                kept.durable(fa.originProbe(), fa.originBoot(), fa.ranges());
            }
            acksIn.add(fa);
        }
    }

    /**
     * Passes the FORWARD_ACKs from upstream on towards their origins (spec 5.6): as an ACK on the origin's own session
     * when it is one of this relay's probes with that boot, else as the same FORWARD_ACK to the downstream relay its
     * FORWARDs last came through; dropped when there is no route (the origin sends again). They ride on the next PONG
     * to that session, or leave on their own once {@link #UNSOLICITED_AT} datagrams wait. Receive thread; call it after
     * every datagram and when idle.
     */
    public void routeAcks(long nowMillis) {
        ForwardAck fa;
        List<Session> touched = null;
        while ((fa = acksIn.poll()) != null) {
            ForwardBuffer.Origin o = new ForwardBuffer.Origin(fa.originProbe(), fa.originBoot());
            Session direct = sessions.current(fa.originProbe());
            Session to;
            if (direct != null && direct.boot() == fa.originBoot()) {
                to = direct;
            } else {
                to = routes.get(o);
                if (to == null || sessions.current(to.probeId()) != to) {
                    acksUnrouted.increment();
                    continue;
                }
            }
            // kept while the session lasts (not only while acknowledgements wait): it remembers what was passed on
            pending.computeIfAbsent(to, s -> new PendingAcks(new ForwardBuffer.Origin(s.probeId(), s.boot()))).add(o,
                    fa.kind(), fa.ranges());
            acksRouted.increment();
            if (touched == null) {
                touched = new ArrayList<>(1);
            }
            if (!touched.contains(to)) {
                touched.add(to);
            }
        }
        if (touched == null) {
            return;
        }
        for (Session s : touched) {
            PendingAcks p = pending.get(s);
            if (p.newDurable() >= UNSOLICITED_AT && s.remote() != null) {
                ByteBuf d = sessions.seal(s, p.take(ACK_BYTES), nowMillis);
                if (d != null) {
                    acksSentOnTheirOwn.increment();
                    replier.accept(d, s.remote());
                }
            }
        }
    }

    @Override
    public List<Event> onPing(Session session) {
        PendingAcks p = pending.get(session);
        return p == null || p.isEmpty() ? List.of() : p.take(ACK_BYTES);
    }

    /**
     * The payloads to send first on a new upstream session (spec 5.6): every origin payload kept, in the order
     * forwarded, packed anew. Called on the uplink's send thread.
     */
    public List<Payload> resendPayloads() {
        if (kept == null) {
            return List.of();
        }
        long now = System.currentTimeMillis();
        List<Payload> out = new ArrayList<>();
        for (Forward f : kept.resend(now)) {
            if (!resendBuilder.add(now * 1000, f)) {
                out.add(resendBuilder.take());
                resendBuilder.add(now * 1000, f);
            }
        }
        if (!resendBuilder.isEmpty()) {
            out.add(resendBuilder.take());
        }
        if (!out.isEmpty()) {
            LOG.info("new upstream session: sending {} kept origin payloads again in {} datagrams", kept.size(), out
                    .size());
        }
        return out;
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
        pending.remove(session);
        routes.values().removeIf(s -> s == session); // routes are forgotten with their sessions
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
        c.put("forward_dropped_events", droppedEvents.sum() + (kept == null ? 0 : kept.droppedEvents()));
        c.put("forward_dropped_datagrams", droppedDatagrams.sum());
        c.put("forward_dropped_records", droppedRecords.sum());
        if (kept != null) {
            c.put("forward_kept", (long) kept.size());
            c.put("forward_kept_dropped", kept.droppedPayloads());
            c.put("forward_resent", kept.resentParts());
            c.put("forward_expired_events", kept.expiredEvents());
        }
        c.put("forward_acks_in", acksUp.sum());
        c.put("forward_acks_routed", acksRouted.sum());
        c.put("forward_acks_unrouted", acksUnrouted.sum());
        c.put("forward_acks_unsolicited", acksSentOnTheirOwn.sum());
        long lost = 0;
        for (Session s : sessions.sessions()) {
            lost += s.lost();
        }
        c.put("forward_lost_in", lost);
        drops.forEach((k, v) -> c.put("drops_" + k, v.sum()));
        return c;
    }
}
