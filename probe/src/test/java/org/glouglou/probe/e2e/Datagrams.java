package org.glouglou.probe.e2e;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Datagrams of wire protocol v3 written and read by hand from SPEC.md (3.1 header, 3.2 records, 5.1 internal events),
 * not with the codec under test: what an attacker, or a tool watching the wire, would write and read. Only the clear
 * parts: the header of every datagram, and the records of unsealed (handshake) datagrams.
 */
final class Datagrams {
    static final int HEADER = 26;
    static final int SEALED = 0x01;
    static final int HELLO = 1;
    static final int CHALLENGE = 2;
    static final int AUTH = 3;
    static final int AUTH_FAIL = 5;
    static final int BYE = 12;
    /** AUTH_FAIL codes (5.1). */
    static final int EXPIRED = 3;

    private static final SecureRandom RANDOM = new SecureRandom();

    private Datagrams() {
    }

    /** The clear header of a datagram, and for an unsealed one the module and type of its first record. */
    record Header(int version, int flags, long probeId, long sessionId, long sequence, int module, int type) {
        boolean sealed() {
            return (flags & SEALED) != 0;
        }

        /** An unsealed datagram whose first record is internal event {@code t}. */
        boolean is(int t) {
            return !sealed() && module == 0 && type == t;
        }

        static Header parse(byte[] d, int length) {
            if (length < HEADER) {
                return null;
            }
            ByteBuffer b = ByteBuffer.wrap(d, 0, length);
            int version = b.get() & 0xff;
            int flags = b.get() & 0xff;
            long probe = Integer.toUnsignedLong(b.getInt());
            long session = Integer.toUnsignedLong(b.getInt());
            long seq = b.getLong();
            b.getLong();
            int module = -1;
            int type = -1;
            if ((flags & SEALED) == 0 && b.remaining() >= 2) {
                module = b.get() & 0xff;
                type = b.get() & 0xff;
            }
            return new Header(version, flags, probe, session, seq, module, type);
        }
    }

    /**
     * The hello tag a CHALLENGE must carry for this HELLO (5.2): the first 8 bytes of its client nonce; -1 if
     * {@code d} is not a HELLO.
     */
    static long helloTag(byte[] d, int length) {
        Header h = Header.parse(d, length);
        if (h == null || !h.is(HELLO)) {
            return -1;
        }
        ByteBuffer b = ByteBuffer.wrap(d, HEADER + 2, length - HEADER - 2);
        skipVarint(b); // record length
        return b.remaining() >= 8 ? b.getLong() : -1;
    }

    private static void skipVarint(ByteBuffer b) {
        while (b.hasRemaining() && (b.get() & 0x80) != 0) {
            // continuation bytes
        }
    }

    /** A HELLO from a probe id the receiver does not know: any receiver answers it (AUTH_FAIL), so it is alive. */
    static byte[] hello(long probeId) {
        byte[] nonce = new byte[32];
        RANDOM.nextBytes(nonce);
        return hello(probeId, nonce);
    }

    private static byte[] hello(long probeId, byte[] nonce) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(nonce);
        body.writeBytes(ByteBuffer.allocate(8).putLong(System.currentTimeMillis() * 1000).array()); // boot
        string(body, "e2e-liveness");
        string(body, "glouglou-e2e");
        body.write(0); // no modules
        return datagram(0, probeId, 0, HELLO, body.toByteArray());
    }

    /** An unsealed AUTH_FAIL, as a receiver that lost the session would send it, naming {@code sessionId}. */
    static byte[] authFail(long probeId, long sessionId, int code, String message) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(code);
        string(body, message);
        return datagram(0, probeId, sessionId, AUTH_FAIL, body.toByteArray());
    }

    /** An unsealed BYE (shutdown) in session {@code sessionId}: a BYE is only valid sealed. */
    static byte[] unsealedBye(long probeId, long sessionId) {
        return datagram(0, probeId, sessionId, BYE, new byte[]{0});
    }

    /**
     * A datagram flagged sealed in session {@code sessionId} whose ciphertext and tag are random: what a forger of a
     * BYE can at best send, since it has no key.
     */
    static byte[] fakeSealed(long probeId, long sessionId, long sequence) {
        byte[] junk = new byte[4 + 16];
        RANDOM.nextBytes(junk);
        ByteBuffer b = ByteBuffer.allocate(HEADER + junk.length);
        header(b, SEALED, probeId, sessionId, sequence);
        b.put(junk);
        return b.array();
    }

    /** A CHALLENGE assigning {@code sessionId}, answering the HELLO whose tag is {@code helloTag}. */
    static byte[] challenge(long probeId, long sessionId, long helloTag) {
        ByteBuffer body = ByteBuffer.allocate(44);
        byte[] nonce = new byte[32];
        RANDOM.nextBytes(nonce);
        body.put(nonce).putInt((int) sessionId).putLong(helloTag);
        return datagram(0, probeId, sessionId, CHALLENGE, body.array());
    }

    /**
     * One whole handshake (5.2) with the receiver at {@code to}, as probe {@code probeId} with {@code secret}: HELLO,
     * CHALLENGE, AUTH with the probe proof, and the sealed AUTH_OK (not opened). True when the receiver established
     * the session. The session is then left to time out.
     */
    static boolean handshake(DatagramSocket socket, InetSocketAddress to, long probeId, byte[] secret)
            throws Exception {
        byte[] nonce = new byte[32];
        RANDOM.nextBytes(nonce);
        byte[] hello = hello(probeId, nonce);
        byte[] helloHash = MessageDigest.getInstance("SHA-256").digest(Arrays.copyOfRange(hello, HEADER,
                hello.length));
        socket.send(new DatagramPacket(hello, hello.length, to));
        byte[] buf = new byte[2048];
        DatagramPacket p = new DatagramPacket(buf, buf.length);
        socket.receive(p);
        Header h = Header.parse(buf, p.getLength());
        if (h == null || !h.is(CHALLENGE)) {
            return false;
        }
        ByteBuffer b = ByteBuffer.wrap(buf, HEADER + 2, p.getLength() - HEADER - 2);
        skipVarint(b);
        byte[] serverNonce = new byte[32];
        b.get(serverNonce);
        long session = h.sessionId();
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(secret, "HmacSHA256"));
        mac.update("glouglou v3 probe proof".getBytes(StandardCharsets.US_ASCII));
        mac.update(ByteBuffer.allocate(8).putInt((int) probeId).putInt((int) session).array());
        mac.update(nonce);
        mac.update(serverNonce);
        mac.update(helloHash);
        byte[] auth = datagram(0, probeId, session, AUTH, mac.doFinal());
        socket.send(new DatagramPacket(auth, auth.length, to));
        p.setLength(buf.length);
        socket.receive(p);
        h = Header.parse(buf, p.getLength());
        return h != null && h.sealed() && h.sessionId() == session;
    }

    private static byte[] datagram(int flags, long probeId, long sessionId, int type, byte[] body) {
        ByteArrayOutputStream rec = new ByteArrayOutputStream();
        rec.write(0); // module 0, internal
        rec.write(type);
        varint(rec, body.length);
        rec.writeBytes(body);
        ByteBuffer b = ByteBuffer.allocate(HEADER + rec.size());
        header(b, flags, probeId, sessionId, 0);
        b.put(rec.toByteArray());
        return b.array();
    }

    private static void header(ByteBuffer b, int flags, long probeId, long sessionId, long sequence) {
        b.put((byte) 3).put((byte) flags).putInt((int) probeId).putInt((int) sessionId).putLong(sequence).putLong(
                System.currentTimeMillis() * 1000);
    }

    private static void string(ByteArrayOutputStream out, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        varint(out, b.length);
        out.writeBytes(b);
    }

    private static void varint(ByteArrayOutputStream out, long v) {
        while ((v & ~0x7fL) != 0) {
            out.write((int) (v & 0x7f) | 0x80);
            v >>>= 7;
        }
        out.write((int) v);
    }
}
