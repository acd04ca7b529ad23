package org.glouglou.protocol;

import static org.junit.jupiter.api.Assertions.*;

import io.netty.buffer.ByteBuf;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.glouglou.protocol.internal.InternalEvents;
import org.glouglou.protocol.session.ProbeSecrets;
import org.glouglou.protocol.session.ProbeSession;
import org.glouglou.protocol.session.ReceiverSessions;
import org.glouglou.spi.Event;
import org.glouglou.spi.ModuleRegistry;
import org.junit.jupiter.api.Test;

/** The handshake and sealed traffic between a ProbeSession and ReceiverSessions, datagram by datagram (spec 5). */
class SessionHandshakeTest {
    static final InetSocketAddress FROM = new InetSocketAddress("127.0.0.1", 40000);
    final ModuleRegistry registry = ModuleRegistry.internalOnly();
    final byte[] secret = VectorGenerator.seq(32, 1);
    final ProbeSecrets secrets = new ProbeSecrets(Map.of(5L, new ProbeSecrets.Entry(5, secret, "edge")));

    /** Collects what the receiver hands out. */
    static final class Recorder implements ReceiverSessions.Handler {
        final List<Event> events = new ArrayList<>();
        final List<DropReason> drops = new ArrayList<>();
        final List<ByteBuf> replies = new ArrayList<>();
        final List<ReceiverSessions.Session> established = new ArrayList<>();

        @Override
        public void onEvent(ReceiverSessions.Session s, long t, Event e) {
            events.add(e);
        }

        @Override
        public void onDrop(DropReason reason, long probeId, String detail) {
            drops.add(reason);
        }

        @Override
        public void onSessionEstablished(ReceiverSessions.Session s) {
            established.add(s);
        }

        @Override
        public void reply(ByteBuf d, InetSocketAddress to) {
            replies.add(d);
        }

        ByteBuf lastReply() {
            return replies.get(replies.size() - 1);
        }
    }

    ReceiverSessions receiver() {
        return new ReceiverSessions(new RecordDecoder(registry), secrets, ReceiverSessions.Config.defaults());
    }

    static ByteBuf copy(ByteBuf b) {
        return b.copy();
    }

    ProbeSession establish(ReceiverSessions rx, Recorder rec, byte[] probeSecret) throws ProtocolException {
        ProbeSession p = new ProbeSession(registry, 5, probeSecret, "edge", "test", false);
        rx.receive(p.hello(1), FROM, 0, rec);
        ByteBuf auth = p.receive(rec.lastReply(), 2, null);
        assertNotNull(auth, "AUTH after CHALLENGE");
        rx.receive(auth, FROM, 1, rec);
        return p;
    }

    @Test
    void establishesAndCarriesSealedEvents() throws ProtocolException {
        ReceiverSessions rx = receiver();
        Recorder rec = new Recorder();
        ProbeSession p = establish(rx, rec, secret);
        assertNull(p.receive(rec.lastReply(), 3, null));
        assertTrue(p.established());
        assertEquals(1, rec.established.size());
        assertEquals("edge", rec.established.get(0).probeName());

        PayloadBuilder b = new PayloadBuilder(registry, 1200, 1000);
        b.add(10, new InternalEvents.Notice(6, "hello"));
        b.add(10, new InternalEvents.Ping(9));
        ByteBuf d = p.seal(b);
        assertTrue(new DatagramHeader(0, 0, 0, 0, 0).equals(new DatagramHeader(0, 0, 0, 0, 0)));
        ByteBuf replay = copy(d);
        rx.receive(d, FROM, 2, rec);
        assertEquals(List.of(new InternalEvents.Notice(6, "hello")), rec.events, "PING is answered, not delivered");
        List<Event> pong = new ArrayList<>();
        p.receive(rec.lastReply(), 4, new RecordDecoder.Listener() {
            @Override
            public void onEvent(long t, Event e) {
                pong.add(e);
            }

            @Override
            public void onSkipped(DropReason r, String detail) {
                fail(detail);
            }
        });
        assertEquals(List.of(new InternalEvents.Pong(9)), pong);

        rx.receive(replay, FROM, 3, rec);
        assertEquals(List.of(DropReason.REPLAYED), rec.drops);
        assertEquals(1, rec.events.size());
    }

    @Test
    void wrongSecretIsRefusedAndNothingIsDelivered() throws ProtocolException {
        ReceiverSessions rx = receiver();
        Recorder rec = new Recorder();
        establish(rx, rec, VectorGenerator.seq(32, 2));
        assertEquals(List.of(DropReason.BAD_PROOF), rec.drops);
        assertTrue(rec.established.isEmpty());
        assertTrue(rx.sessions().isEmpty());
    }

    @Test
    void receiverWithoutTheSecretCannotImpersonateTheServer() throws ProtocolException {
        // a receiver that has another secret for probe 5 answers AUTH? No: it refuses the probe's proof first.
        // Here the probe checks the receiver's proof: forge an AUTH_OK sealed under keys the forger cannot know.
        ProbeSession p = new ProbeSession(registry, 5, secret, "edge", "test", false);
        ProbeSecrets other = new ProbeSecrets(Map.of(5L, new ProbeSecrets.Entry(5, VectorGenerator.seq(32, 3), "x")));
        ReceiverSessions fake = new ReceiverSessions(new RecordDecoder(registry), other, ReceiverSessions.Config
                .defaults());
        Recorder rec = new Recorder();
        fake.receive(p.hello(1), FROM, 0, rec);
        ByteBuf auth = p.receive(rec.lastReply(), 2, null);
        fake.receive(auth, FROM, 1, rec);
        assertEquals(List.of(DropReason.BAD_PROOF), rec.drops, "the fake cannot verify the probe either");
        assertFalse(p.established());
    }

    @Test
    void unknownProbeAndUnsealedDataAreDropped() {
        ReceiverSessions rx = receiver();
        Recorder rec = new Recorder();
        ProbeSession stranger = new ProbeSession(registry, 6, secret, "x", "test", false);
        rx.receive(stranger.hello(1), FROM, 0, rec);
        ProbeSession plain = new ProbeSession(registry, 5, null, "x", "test", true);
        PayloadBuilder b = new PayloadBuilder(registry, 1200, 1000);
        b.add(1, new InternalEvents.Notice(6, "plain"));
        rx.receive(plain.seal(b), FROM, 0, rec);
        assertEquals(List.of(DropReason.UNKNOWN_PROBE, DropReason.UNSEALED_REFUSED), rec.drops);
        assertTrue(rec.events.isEmpty());
    }

    @Test
    void plainModeOnlyWhenConfigured() {
        ReceiverSessions rx = new ReceiverSessions(new RecordDecoder(registry), secrets, ReceiverSessions.Config
                .defaults().withAllowPlain(true));
        Recorder rec = new Recorder();
        ProbeSession plain = new ProbeSession(registry, 5, null, "x", "test", true);
        PayloadBuilder b = new PayloadBuilder(registry, 1200, 1000);
        b.add(1, new InternalEvents.Notice(6, "plain"));
        rx.receive(plain.seal(b), FROM, 0, rec);
        assertEquals(List.of(new InternalEvents.Notice(6, "plain")), rec.events);
    }

    @Test
    void sessionSurvivesLossAndCountsIt() throws ProtocolException {
        ReceiverSessions rx = receiver();
        Recorder rec = new Recorder();
        ProbeSession p = establish(rx, rec, secret);
        p.receive(rec.lastReply(), 3, null);
        PayloadBuilder b = new PayloadBuilder(registry, 1200, 1000);
        for (int i = 0; i < 10; i++) {
            b.add(i, new InternalEvents.Notice(6, "n" + i));
            ByteBuf d = p.seal(b);
            if (i % 3 != 1) {
                rx.receive(d, FROM, 2, rec);
            }
        }
        assertEquals(7, rec.events.size());
        assertEquals(3, rx.current(5).lost());
    }

    /** Events a probe session hands out, and what it skipped. */
    static final class Heard implements RecordDecoder.Listener {
        final List<Event> events = new ArrayList<>();
        final List<DropReason> skipped = new ArrayList<>();

        @Override
        public void onEvent(long t, Event e) {
            events.add(e);
        }

        @Override
        public void onSkipped(DropReason r, String detail) {
            skipped.add(r);
        }
    }

    @Test
    void serverRestartSendsAnExpiredHintThatChangesNothingButIsHandedOn() throws ProtocolException {
        ReceiverSessions rx = receiver();
        Recorder rec = new Recorder();
        ProbeSession p = establish(rx, rec, secret);
        p.receive(rec.lastReply(), 3, null);
        long sid = p.sessionId();
        ReceiverSessions restarted = receiver();
        PayloadBuilder b = new PayloadBuilder(registry, 1200, 1000);
        b.add(1, new InternalEvents.Notice(6, "after restart"));
        Recorder rec2 = new Recorder();
        restarted.receive(p.seal(b), FROM, 0, rec2);
        assertEquals(List.of(DropReason.UNKNOWN_SESSION), rec2.drops);
        Heard heard = new Heard();
        assertNull(p.receive(rec2.lastReply(), 5, heard));
        assertEquals(ProbeSession.State.ESTABLISHED, p.state(), "AUTH_FAIL is unauthenticated: only silence ends"
                + " a session (spec 5.7)");
        assertEquals(sid, p.sessionId());
        assertEquals(1, heard.events.size(), "the hint goes to the uplink, which PINGs");
        assertEquals(InternalEvents.AuthFail.EXPIRED, ((InternalEvents.AuthFail) heard.events.get(0)).code());
    }

    @Test
    void forgedAuthFailChallengeAndByeChangeNothingDuringASession() throws ProtocolException {
        ReceiverSessions rx = receiver();
        Recorder rec = new Recorder();
        ProbeSession p = establish(rx, rec, secret);
        p.receive(rec.lastReply(), 3, null);
        long sid = p.sessionId();
        PayloadBuilder forger = new PayloadBuilder(registry, 1200, 1000);
        for (int code = 1; code <= 4; code++) {
            forger.add(10, new InternalEvents.AuthFail(code, "forged"));
            p.receive(forger.finish(5, code == 3 ? sid : 0, 0, null), 10, new Heard());
        }
        forger.add(10, new InternalEvents.Challenge(new byte[32], 77, 0));
        assertEquals(DropReason.UNSEALED_REFUSED, assertThrows(ProtocolException.class, () -> p.receive(forger.finish(
                5, 77, 0, null), 11, new Heard())).reason(), "a CHALLENGE is taken only after a HELLO");
        forger.add(10, new InternalEvents.Bye(InternalEvents.Bye.SHUTDOWN));
        assertEquals(DropReason.UNSEALED_REFUSED, assertThrows(ProtocolException.class, () -> p.receive(forger.finish(
                5, sid, 1, null), 12, new Heard())).reason(), "a BYE must be sealed");
        forger.add(10, new InternalEvents.Bye(InternalEvents.Bye.SHUTDOWN));
        ByteBuf sealedWithoutKey = forger.finish(5, sid, 2, new org.glouglou.protocol.crypto.SessionCipher(
                new byte[32]));
        assertEquals(DropReason.BAD_TAG, assertThrows(ProtocolException.class, () -> p.receive(sealedWithoutKey, 13,
                new Heard())).reason(), "nor can a BYE be sealed without the session's key");
        assertTrue(p.established());
        assertEquals(sid, p.sessionId());
        assertNull(p.lastFailure(), "a forged message is not even taken as the reason of anything");
        // and the session goes on: the receiver still opens what the probe seals
        PayloadBuilder b = new PayloadBuilder(registry, 1200, 1000);
        b.add(20, new InternalEvents.Notice(6, "still here"));
        rx.receive(p.seal(b), FROM, 20, rec);
        assertEquals(List.of(new InternalEvents.Notice(6, "still here")), rec.events);
    }

    @Test
    void sequenceNumbersRunOnAcrossSessionsAndTheReceiverTakesThem() throws ProtocolException {
        ReceiverSessions rx = receiver();
        Recorder rec = new Recorder();
        ProbeSession p = establish(rx, rec, secret);
        p.receive(rec.lastReply(), 3, null);
        PayloadBuilder b = new PayloadBuilder(registry, 1200, 1000);
        for (int i = 1; i <= 3; i++) {
            b.add(i, new InternalEvents.Notice(6, "first " + i));
            ByteBuf d = p.seal(b);
            assertEquals(i, ProbeSession.sequenceOf(d));
            rx.receive(d, FROM, 2, rec);
        }
        p.reset(); // the receiver went silent: handshake again, with another receiver this time
        ReceiverSessions other = receiver();
        Recorder rec2 = new Recorder();
        other.receive(p.hello(10), FROM, 10, rec2);
        other.receive(p.receive(rec2.lastReply(), 11, null), FROM, 11, rec2);
        p.receive(rec2.lastReply(), 12, null);
        assertTrue(p.established());
        b.add(20, new InternalEvents.Notice(6, "second"));
        ByteBuf d = p.seal(b);
        assertEquals(4, ProbeSession.sequenceOf(d), "the new session continues the boot's count (spec 5.8)");
        assertEquals(4, p.sequence());
        other.receive(d, FROM, 20, rec2);
        assertEquals(List.of(new InternalEvents.Notice(6, "second")), rec2.events);
        assertEquals(0, other.current(5).lost(), "a session may start anywhere in its sender's boot");
        assertEquals(rx.current(5).boot(), other.current(5).boot(), "one boot across both sessions");
    }

    @Test
    void acknowledgementsSealedUnderThePreviousSessionAreStillTakenForAWhile() throws ProtocolException {
        ReceiverSessions rx = receiver();
        Recorder rec = new Recorder();
        ProbeSession p = establish(rx, rec, secret);
        p.receive(rec.lastReply(), 3, null);
        ReceiverSessions.Session old = rx.current(5);
        p.reset();
        ReceiverSessions other = receiver();
        Recorder rec2 = new Recorder();
        other.receive(p.hello(10_000), FROM, 10, rec2);
        other.receive(p.receive(rec2.lastReply(), 11_000, null), FROM, 11, rec2);
        p.receive(rec2.lastReply(), 12_000, null);
        assertTrue(p.established());
        InternalEvents.Ack ack = new InternalEvents.Ack(InternalEvents.Ack.DURABLE, InternalEvents.SeqRanges.of(1, 3));
        long now = System.currentTimeMillis();
        Heard heard = new Heard();
        p.receive(rx.seal(old, List.of(ack, new InternalEvents.Notice(6, "not for the new session")), now), now
                * 1000, heard);
        assertEquals(List.of(ack), heard.events, "only the acknowledgements of the ended session are taken");
        ByteBuf late = rx.seal(old, List.of(ack), now);
        assertEquals(DropReason.UNKNOWN_SESSION, assertThrows(ProtocolException.class, () -> p.receive(late, (now
                + ProbeSession.PREVIOUS_SESSION_MILLIS + 1000) * 1000, new Heard())).reason(),
                "not after the grace period");
    }

    /** Regression: a CHALLENGE overtaken by a HELLO retry was answered with the new nonce and failed the proof. */
    @Test
    void challengeOfAnEarlierHelloIsIgnored() throws ProtocolException {
        ReceiverSessions rx = receiver();
        Recorder rec = new Recorder();
        ProbeSession p = new ProbeSession(registry, 5, secret, "edge", "test", false);
        rx.receive(p.hello(1), FROM, 0, rec);
        ByteBuf stale = rec.lastReply();
        rx.receive(p.hello(2), FROM, 1, rec);
        ByteBuf fresh = rec.lastReply();
        assertEquals(DropReason.UNKNOWN_SESSION, assertThrows(ProtocolException.class, () -> p.receive(stale, 3,
                null)).reason());
        rx.receive(p.receive(fresh, 4, null), FROM, 2, rec);
        p.receive(rec.lastReply(), 5, null);
        assertTrue(p.established());
        assertTrue(rec.drops.isEmpty(), rec.drops.toString());
    }

    /**
     * Regression, found by ReceiverSessionsFuzzTest (seed regression-events-after-bye): records after a BYE were
     * delivered to the session the BYE had just closed, and a PING before it was answered on the closed session.
     */
    @Test
    void eventsAfterByeAreNotDeliveredToTheClosedSession() throws ProtocolException {
        ReceiverSessions rx = receiver();
        Recorder rec = new Recorder();
        ProbeSession p = establish(rx, rec, secret);
        p.receive(rec.lastReply(), 3, null);
        int replies = rec.replies.size();
        PayloadBuilder b = new PayloadBuilder(registry, 1200, 1000);
        b.add(10, new InternalEvents.Ping(1));
        b.add(10, new InternalEvents.Bye(InternalEvents.Bye.SHUTDOWN));
        b.add(10, new InternalEvents.Notice(6, "after bye"));
        rx.receive(p.seal(b), FROM, 2, rec);
        assertEquals(List.of(), rec.events, "nothing after BYE is delivered");
        assertNull(rx.current(5), "BYE closed the session");
        assertEquals(replies, rec.replies.size(), "no PONG on a closed session");
    }
}
