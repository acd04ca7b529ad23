package org.glouglou.protocol.fuzz;

import static org.junit.jupiter.api.Assertions.*;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.glouglou.protocol.DatagramHeader;
import org.glouglou.protocol.DropReason;
import org.glouglou.protocol.PayloadBuilder;
import org.glouglou.protocol.ProtocolConstants;
import org.glouglou.protocol.ProtocolException;
import org.glouglou.protocol.RecordDecoder;
import org.glouglou.protocol.crypto.HandshakeCrypto;
import org.glouglou.protocol.crypto.HandshakeCrypto.Transcript;
import org.glouglou.protocol.crypto.SessionCipher;
import org.glouglou.protocol.internal.InternalEvents;
import org.glouglou.protocol.internal.InternalEvents.Auth;
import org.glouglou.protocol.internal.InternalEvents.Challenge;
import org.glouglou.protocol.internal.InternalEvents.Hello;
import org.glouglou.protocol.session.ProbeSecrets;
import org.glouglou.protocol.session.ReceiverSessions;
import org.glouglou.spi.Event;
import org.glouglou.spi.ModuleRegistry;

/**
 * Fuzz target (b): {@link ReceiverSessions#receive} on sequences of arbitrary datagrams, plain mode off and on (spec
 * 5.2 to 5.7). It must never throw, never establish a session nor deliver an event the fuzzer could not have made
 * legitimately, never deliver to a session that is closed, and never answer with more than one datagram of at most
 * three times the size of what it received (no amplification). To reach the code behind the tag, the harness can
 * run a real handshake first and seal fuzzer-chosen payloads under that session.
 *
 * <p>
 * Input: a control byte (bit 0 plain mode, bit 1 handshake first), then chunks of kind (0 raw datagram, 1 payload to
 * seal under the harness's session, preceded by its 8-byte sequence number), time step in ms, 16-bit length, bytes.
 * Bytes that do not form a chunk are one last raw datagram.
 */
class ReceiverSessionsFuzzTest {
    static final long PROBE = 7;
    static final byte[] SECRET = new byte[32];
    static {
        for (int i = 0; i < 32; i++) {
            SECRET[i] = (byte) (0x10 + i);
        }
    }
    static final ModuleRegistry REGISTRY = ModuleRegistry.internalOnly();
    static final ProbeSecrets SECRETS = new ProbeSecrets(Map.of(PROBE, new ProbeSecrets.Entry(PROBE, SECRET,
            "fuzz"), 9L, new ProbeSecrets.Entry(9, SECRET.clone(), "other")));
    static final InetSocketAddress FROM = new InetSocketAddress("192.0.2.1", 40000);
    static final int MAX_CHUNKS = 16;
    /** RFC 9000 8.1 allows a server three times what it received before the address is validated. */
    static final int AMPLIFICATION_LIMIT = 3;

    /** What the receiver did, checked as it happens. */
    static final class Checker implements ReceiverSessions.Handler {
        final ReceiverSessions rx;
        final boolean plain;
        boolean handshaking;
        boolean wrapped;
        ReceiverSessions.Session legit;
        final List<ByteBuf> replies = new ArrayList<>();

        Checker(ReceiverSessions rx, boolean plain) {
            this.rx = rx;
            this.plain = plain;
        }

        @Override
        public void onEvent(ReceiverSessions.Session s, long timeMicros, Event e) {
            assertTrue(rx.sessions().contains(s), e.type() + " delivered to a session that is closed");
            assertFalse(e instanceof Hello || e instanceof Challenge || e instanceof Auth
                    || e instanceof InternalEvents.AuthOk || e instanceof InternalEvents.AuthFail,
                    "handshake record delivered as an event: " + e.type());
            if (wrapped) {
                assertSame(legit, s, "a sealed payload's events go to its own session");
            } else {
                assertTrue(plain, e.type() + " delivered from a datagram the fuzzer could not seal, plain mode off");
                assertNull(s.hello(), "an unsealed datagram delivered into an authenticated session");
            }
        }

        @Override
        public void onDrop(DropReason reason, long probeId, String detail) {
            assertNotNull(reason, detail);
        }

        @Override
        public void onSessionEstablished(ReceiverSessions.Session s) {
            assertTrue(handshaking || plain, "session " + s.sessionId() + " established without a valid proof");
        }

        @Override
        public void reply(ByteBuf datagram, InetSocketAddress to) {
            replies.add(datagram);
        }
    }

    @FuzzTest
    void receive(byte[] data) throws ProtocolException {
        if (data.length == 0) {
            return;
        }
        boolean plain = (data[0] & 1) != 0;
        ReceiverSessions rx = new ReceiverSessions(new RecordDecoder(REGISTRY), SECRETS,
                ReceiverSessions.Config.defaults().withAllowPlain(plain));
        Checker c = new Checker(rx, plain);
        long now = 1_000_000;
        byte[] upKey = null;
        long sessionId = 0;
        if ((data[0] & 2) != 0) {
            c.handshaking = true;
            upKey = handshake(rx, c, now);
            c.handshaking = false;
            c.legit = rx.current(PROBE);
            sessionId = c.legit.sessionId();
        }
        int at = 1;
        for (int chunk = 0; chunk < MAX_CHUNKS && at < data.length; chunk++) {
            int kind;
            byte[] bytes;
            if (data.length - at >= 4 && data.length - at - 4 >= ((data[at + 2] & 0xFF) << 8 | data[at + 3] & 0xFF)) {
                kind = data[at] & 1;
                now += data[at + 1] & 0xFF;
                int len = (data[at + 2] & 0xFF) << 8 | data[at + 3] & 0xFF;
                bytes = java.util.Arrays.copyOfRange(data, at + 4, at + 4 + len);
                at += 4 + len;
            } else {
                kind = 0;
                bytes = java.util.Arrays.copyOfRange(data, at, data.length);
                at = data.length;
            }
            ByteBuf d;
            c.wrapped = kind == 1 && upKey != null && bytes.length >= 8;
            if (c.wrapped) {
                d = Unpooled.buffer();
                long seq = Unpooled.wrappedBuffer(bytes).readLong();
                new DatagramHeader(ProtocolConstants.FLAG_SEALED, PROBE, sessionId, seq, now * 1000).write(d);
                d.writeBytes(bytes, 8, bytes.length - 8);
                // a fresh cipher: the fuzzer may seal one sequence twice (a replay), which Bouncy Castle refuses
                // to do on one instance
                new SessionCipher(upKey).seal(d);
            } else {
                d = Unpooled.wrappedBuffer(bytes);
            }
            int size = d.readableBytes();
            c.replies.clear();
            rx.receive(d, FROM, now, c);
            assertTrue(c.replies.size() <= 1, c.replies.size() + " replies to one datagram");
            for (ByteBuf r : c.replies) {
                assertTrue(r.readableBytes() <= ProtocolConstants.DEFAULT_MAX_DATAGRAM);
                if (!c.wrapped) {
                    assertTrue(r.readableBytes() <= AMPLIFICATION_LIMIT * size, "a reply of " + r.readableBytes()
                            + " bytes to an unauthenticated datagram of " + size);
                }
                DatagramHeader.read(r.duplicate()); // a reply is always a well-formed datagram
            }
            c.wrapped = false;
        }
        rx.expire(now + 3_600_000, c);
        assertTrue(rx.sessions().isEmpty(), "every session expires after an hour of silence");
    }

    /** A real handshake as probe 7: returns the probe-to-receiver key of the new session. */
    static byte[] handshake(ReceiverSessions rx, Checker c, long now) throws ProtocolException {
        byte[] nonce = HandshakeCrypto.nonce();
        PayloadBuilder b = new PayloadBuilder(REGISTRY, ProtocolConstants.DEFAULT_MAX_DATAGRAM, 1000);
        b.add(now * 1000, new Hello(nonce, 1, "fuzz", "fuzz", List.of()));
        ByteBuf hello = b.finish(PROBE, 0, 0, null);
        byte[] payload = new byte[hello.readableBytes() - ProtocolConstants.HEADER_LENGTH];
        hello.getBytes(ProtocolConstants.HEADER_LENGTH, payload);
        rx.receive(hello, FROM, now, c);
        ByteBuf reply = c.replies.remove(0);
        DatagramHeader h = DatagramHeader.read(reply);
        Challenge[] ch = new Challenge[1];
        new RecordDecoder(REGISTRY).decode(reply, h.baseTimeMicros(), new RecordDecoder.Listener() {
            @Override
            public void onEvent(long t, Event e) {
                ch[0] = (Challenge) e;
            }

            @Override
            public void onSkipped(DropReason r, String detail) {
                fail(detail);
            }
        });
        Transcript t = new Transcript(PROBE, ch[0].sessionId(), nonce, ch[0].serverNonce(), HandshakeCrypto.sha256(
                payload));
        b.add(now * 1000, new Auth(HandshakeCrypto.probeProof(SECRET, t)));
        rx.receive(b.finish(PROBE, ch[0].sessionId(), 0, null), FROM, now, c);
        c.replies.clear();
        assertNotNull(rx.current(PROBE), "the harness's own handshake failed");
        return HandshakeCrypto.keys(SECRET, t).up();
    }
}
