package org.glouglou.relay;

import static org.junit.jupiter.api.Assertions.*;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.glouglou.protocol.DropReason;
import org.glouglou.protocol.Payload;
import org.glouglou.protocol.PayloadBuilder;
import org.glouglou.protocol.ProtocolException;
import org.glouglou.protocol.RecordDecoder;
import org.glouglou.protocol.internal.InternalEvents;
import org.glouglou.protocol.internal.InternalEvents.Ack;
import org.glouglou.protocol.internal.InternalEvents.Forward;
import org.glouglou.protocol.internal.InternalEvents.ForwardAck;
import org.glouglou.protocol.internal.InternalEvents.SeqRanges;
import org.glouglou.protocol.session.ProbeSecrets;
import org.glouglou.protocol.session.ProbeSession;
import org.glouglou.protocol.session.ReceiverSessions;
import org.glouglou.protocol.transport.SourceRateLimiter;
import org.glouglou.spi.Event;
import org.glouglou.spi.ModuleRegistry;
import org.junit.jupiter.api.Test;

/**
 * RelayCore datagram by datagram (spec 5.6): FORWARD_ACKs from upstream go back as an ACK to a probe of this relay
 * (on its next PONG, or on their own when 16 wait) and as the same FORWARD_ACK to the downstream relay an origin's
 * FORWARDs came through; what was forwarded is kept until durable and given for a new upstream session, in order;
 * the bound gives the oldest up, counted.
 */
class RelayCoreTest {
    static final ModuleRegistry REGISTRY = ModuleRegistry.internalOnly();
    static final long RELAY = 201;
    static final byte[] S7 = secret(7);
    static final byte[] S101 = secret(101);
    static final InetSocketAddress FROM7 = new InetSocketAddress("127.0.0.1", 40007);
    static final InetSocketAddress FROM101 = new InetSocketAddress("127.0.0.1", 40101);

    final List<Forward> up = new ArrayList<>();
    final List<ByteBuf> toProbe7 = new ArrayList<>();
    final List<ByteBuf> toRelay101 = new ArrayList<>();
    long now = System.currentTimeMillis();

    static byte[] secret(int seed) {
        byte[] s = new byte[32];
        java.util.Arrays.fill(s, (byte) seed);
        return s;
    }

    RelayCore core(int keep) {
        ProbeSecrets secrets = new ProbeSecrets(Map.of(7L, new ProbeSecrets.Entry(7, S7, "p7"), 101L,
                new ProbeSecrets.Entry(101, S101, "r101")));
        RelayCore c = new RelayCore(REGISTRY, secrets, ReceiverSessions.Config.defaults(), new SourceRateLimiter(1e9,
                2e9, 16), RELAY, 1200, (t, e) -> up.add((Forward) e), keep);
        c.replier((d, to) -> (to.equals(FROM7) ? toProbe7 : toRelay101).add(d));
        return c;
    }

    ProbeSession connect(RelayCore c, long id, byte[] secret, InetSocketAddress from) throws ProtocolException {
        List<ByteBuf> replies = from.equals(FROM7) ? toProbe7 : toRelay101;
        ProbeSession p = new ProbeSession(REGISTRY, id, secret, "p" + id, "test", false);
        c.receive(p.hello(now * 1000), from, now, System.nanoTime());
        c.receive(p.receive(last(replies), now * 1000, null), from, now, System.nanoTime());
        p.receive(last(replies), now * 1000, null);
        assertTrue(p.established());
        replies.clear();
        return p;
    }

    static ByteBuf last(List<ByteBuf> l) {
        return l.get(l.size() - 1);
    }

    static void send(RelayCore c, ProbeSession p, InetSocketAddress from, Event... events) {
        PayloadBuilder b = new PayloadBuilder(REGISTRY, 1200, 1000);
        for (Event e : events) {
            b.add(System.currentTimeMillis() * 1000, e);
        }
        c.receive(p.seal(b), from, System.currentTimeMillis(), System.nanoTime());
    }

    /** The events a probe (or downstream relay) opens from a datagram the relay sent it. */
    static List<Event> open(ProbeSession p, ByteBuf d) throws ProtocolException {
        List<Event> out = new ArrayList<>();
        p.receive(d, System.currentTimeMillis() * 1000, new RecordDecoder.Listener() {
            @Override
            public void onEvent(long t, Event e) {
                out.add(e);
            }

            @Override
            public void onSkipped(DropReason r, String detail) {
                fail(detail);
            }
        });
        return out;
    }

    /** The FORWARDs in payloads, in order. */
    static List<Forward> forwards(List<Payload> payloads) {
        List<Forward> out = new ArrayList<>();
        for (Payload p : payloads) {
            new RecordDecoder(REGISTRY).decode(Unpooled.wrappedBuffer(p.records()), p.baseTimeMicros(),
                    new RecordDecoder.Listener() {
                        @Override
                        public void onEvent(long t, Event e) {
                            out.add((Forward) e);
                        }

                        @Override
                        public void onSkipped(DropReason r, String detail) {
                            fail(detail);
                        }
                    });
        }
        return out;
    }

    static InternalEvents.Notice notice(int i) {
        return new InternalEvents.Notice(6, "n" + i);
    }

    @Test
    void aForwardAckForAProbeOfThisRelayRidesOnItsNextPongAsAnAck() throws Exception {
        RelayCore c = core(64);
        ProbeSession p7 = connect(c, 7, S7, FROM7);
        for (int i = 1; i <= 3; i++) {
            send(c, p7, FROM7, notice(i));
        }
        assertEquals(List.of(1L, 2L, 3L), up.stream().map(Forward::originSequence).toList());
        assertTrue(up.stream().allMatch(f -> f.originProbe() == 7 && f.originBoot() == p7.boot()));
        c.onUpstreamEvent(new ForwardAck(7, p7.boot(), Ack.DURABLE, SeqRanges.of(1, 2)));
        c.onUpstreamEvent(new ForwardAck(7, p7.boot(), Ack.RECEIVED, SeqRanges.of(3, 3)));
        c.routeAcks(now);
        assertTrue(toProbe7.isEmpty(), "2 datagrams are not worth a datagram of their own");
        assertEquals(1L, c.counters().get("forward_kept"), "1 and 2 are durable upstream: forgotten");
        send(c, p7, FROM7, new InternalEvents.Ping(1));
        assertEquals(List.of(new InternalEvents.Pong(1), new Ack(Ack.DURABLE, SeqRanges.of(1, 2)), new Ack(
                Ack.RECEIVED, SeqRanges.of(3, 3))), open(p7, last(toProbe7)), "the ACKs ride on the PONG");
        send(c, p7, FROM7, new InternalEvents.Ping(2));
        assertEquals(List.of(new InternalEvents.Pong(2)), open(p7, last(toProbe7)), "once");
        assertEquals(2L, c.counters().get("forward_acks_routed"));
    }

    @Test
    void sixteenAcknowledgedDatagramsLeaveOnTheirOwnMergedIntoOneAck() throws Exception {
        RelayCore c = core(64);
        ProbeSession p7 = connect(c, 7, S7, FROM7);
        for (int i = 1; i <= 20; i++) {
            send(c, p7, FROM7, notice(i));
        }
        c.onUpstreamEvent(new ForwardAck(7, p7.boot(), Ack.DURABLE, SeqRanges.of(1, 10)));
        c.onUpstreamEvent(new ForwardAck(7, p7.boot(), Ack.DURABLE, new SeqRanges(new long[]{1, 10, 12, 20})));
        c.routeAcks(now);
        assertEquals(1, toProbe7.size(), "sent without waiting for a PING");
        assertEquals(List.of(new Ack(Ack.DURABLE, new SeqRanges(new long[]{1, 10, 12, 20}))), open(p7, toProbe7.get(
                0)));
        c.onUpstreamEvent(new ForwardAck(7, p7.boot(), Ack.DURABLE, SeqRanges.of(1, 20)));
        c.routeAcks(now);
        assertEquals(1, toProbe7.size(), "one number new since: it waits for the next PONG");
        assertEquals(1L, c.counters().get("forward_acks_unsolicited"));
    }

    @Test
    void aForwardAckForAnOriginBehindADownstreamRelayGoesBackTheWayItsForwardsCame() throws Exception {
        RelayCore c = core(64);
        ProbeSession r101 = connect(c, 101, S101, FROM101);
        PayloadBuilder inner = new PayloadBuilder(REGISTRY, 1200, 1000);
        inner.add(1_000, notice(1));
        byte[] records = inner.take().records();
        send(c, r101, FROM101, new Forward(9, 99, 5, 1_000, new long[]{101}, records));
        List<Forward> of9 = up.stream().filter(f -> f.originProbe() == 9).toList();
        assertEquals(1, of9.size());
        assertArrayEquals(new long[]{101, RELAY}, of9.get(0).path());
        c.onUpstreamEvent(new ForwardAck(9, 99, Ack.DURABLE, SeqRanges.of(5, 5)));
        c.onUpstreamEvent(new ForwardAck(9, 98, Ack.DURABLE, SeqRanges.of(5, 5))); // another boot: no route
        c.onUpstreamEvent(new ForwardAck(8, 99, Ack.DURABLE, SeqRanges.of(5, 5))); // never seen
        c.routeAcks(now);
        send(c, r101, FROM101, new InternalEvents.Ping(1));
        assertEquals(List.of(new InternalEvents.Pong(1), new ForwardAck(9, 99, Ack.DURABLE, SeqRanges.of(5, 5))),
                open(r101, last(toRelay101)));
        assertEquals(2L, c.counters().get("forward_acks_unrouted"));
        assertEquals(0L, c.counters().get("forward_kept"), "origin 9's is forgotten; the relay's own two datagrams"
                + " are passed on as empty FORWARDs (they held only FORWARD and PING records), which are not kept");
        // the route is forgotten with the session
        send(c, r101, FROM101, new InternalEvents.Bye(InternalEvents.Bye.SHUTDOWN));
        c.onUpstreamEvent(new ForwardAck(9, 99, Ack.DURABLE, SeqRanges.of(6, 6)));
        c.routeAcks(now);
        assertEquals(3L, c.counters().get("forward_acks_unrouted"));
    }

    @Test
    void aProbeBesideARelayGetsItsOwnAckAndTheForwardAcksOfItsOrigins() throws Exception {
        // probe 101 runs a relay beside it: its session carries its own datagrams and FORWARDs of probe 9
        RelayCore c = core(64);
        ProbeSession r101 = connect(c, 101, S101, FROM101);
        PayloadBuilder inner = new PayloadBuilder(REGISTRY, 1200, 1000);
        inner.add(1_000, notice(1));
        send(c, r101, FROM101, notice(0), new Forward(9, 99, 5, 1_000, new long[]{101}, inner.take().records()));
        c.onUpstreamEvent(new ForwardAck(101, r101.boot(), Ack.DURABLE, SeqRanges.of(1, 1)));
        c.onUpstreamEvent(new ForwardAck(9, 99, Ack.DURABLE, SeqRanges.of(5, 5)));
        c.routeAcks(now);
        send(c, r101, FROM101, new InternalEvents.Ping(1));
        assertEquals(List.of(new InternalEvents.Pong(1), new Ack(Ack.DURABLE, SeqRanges.of(1, 1)), new ForwardAck(9,
                99, Ack.DURABLE, SeqRanges.of(5, 5))), open(r101, last(toRelay101)));
    }

    @Test
    void keptPayloadsAreGivenForANewUpstreamSessionInOrderUntilDurable() throws Exception {
        RelayCore c = core(64);
        ProbeSession p7 = connect(c, 7, S7, FROM7);
        for (int i = 1; i <= 5; i++) {
            send(c, p7, FROM7, notice(i));
        }
        c.onUpstreamEvent(new ForwardAck(7, p7.boot(), Ack.DURABLE, SeqRanges.of(1, 2)));
        c.onUpstreamEvent(new ForwardAck(7, p7.boot(), Ack.RECEIVED, SeqRanges.of(3, 5)));
        List<Forward> again = forwards(c.resendPayloads());
        assertEquals(List.of(3L, 4L, 5L), again.stream().map(Forward::originSequence).toList(),
                "received is not durable: those go again, oldest first");
        assertEquals(up.subList(2, 5), again, "the very parts first forwarded");
        c.onUpstreamEvent(new ForwardAck(7, p7.boot(), Ack.DURABLE, SeqRanges.of(3, 5)));
        assertEquals(List.of(), c.resendPayloads());
        assertEquals(3L, c.counters().get("forward_resent"));
    }

    @Test
    void whenFullTheOldestKeptGoFirstAndAreCounted() throws Exception {
        RelayCore c = core(4);
        ProbeSession p7 = connect(c, 7, S7, FROM7);
        for (int i = 1; i <= 6; i++) {
            send(c, p7, FROM7, notice(i), notice(100 + i));
        }
        Map<String, Long> k = c.counters();
        assertEquals(4L, k.get("forward_kept"));
        assertEquals(2L, k.get("forward_kept_dropped"));
        assertEquals(4L, k.get("forward_dropped_events"), "two events in each of the two given up");
        assertEquals(List.of(3L, 4L, 5L, 6L), forwards(c.resendPayloads()).stream().map(Forward::originSequence)
                .toList());
    }

    @Test
    void besideAProbeNothingIsKeptButAcksAreStillRouted() throws Exception {
        RelayCore c = core(0);
        ProbeSession p7 = connect(c, 7, S7, FROM7);
        send(c, p7, FROM7, notice(1));
        assertNull(c.counters().get("forward_kept"), "the probe's resend buffer keeps the payloads");
        assertEquals(List.of(), c.resendPayloads());
        c.onUpstreamEvent(new ForwardAck(7, p7.boot(), Ack.DURABLE, SeqRanges.of(1, 1)));
        c.routeAcks(now);
        send(c, p7, FROM7, new InternalEvents.Ping(1));
        assertEquals(List.of(new InternalEvents.Pong(1), new Ack(Ack.DURABLE, SeqRanges.of(1, 1))), open(p7, last(
                toProbe7)));
    }
}
