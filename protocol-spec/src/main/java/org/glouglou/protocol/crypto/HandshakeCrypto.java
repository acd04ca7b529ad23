package org.glouglou.protocol.crypto;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.generators.HKDFBytesGenerator;
import org.bouncycastle.crypto.macs.HMac;
import org.bouncycastle.crypto.params.HKDFParameters;
import org.bouncycastle.crypto.params.KeyParameter;
import org.glouglou.protocol.ProtocolConstants;

/**
 * The handshake's proofs and key schedule (spec 5.2). Both proofs are HMAC-SHA256 under the probe's secret over the
 * whole transcript (both nonces, the probe and session ids, and a hash of the HELLO body), with a label per side so
 * that one side's proof can never be replayed as the other's. The session keys come from HKDF-SHA256 over the same
 * secret and nonces. The secret itself never crosses the wire.
 */
public final class HandshakeCrypto {
    private static final byte[] CLIENT_LABEL = "glouglou v3 probe proof".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] SERVER_LABEL = "glouglou v3 receiver proof".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] KEYS_LABEL = "glouglou v3 session keys".getBytes(StandardCharsets.US_ASCII);
    private static final SecureRandom RANDOM = new SecureRandom();

    private HandshakeCrypto() {
    }

    public static byte[] nonce() {
        byte[] n = new byte[ProtocolConstants.NONCE_LENGTH];
        RANDOM.nextBytes(n);
        return n;
    }

    /** A fresh random session id, never 0. */
    public static long sessionId() {
        long id;
        do {
            id = RANDOM.nextInt() & 0xFFFFFFFFL;
        } while (id == 0);
        return id;
    }

    public static byte[] sha256(byte[] data) {
        SHA256Digest d = new SHA256Digest();
        d.update(data, 0, data.length);
        byte[] out = new byte[32];
        d.doFinal(out, 0);
        return out;
    }

    public static byte[] probeProof(byte[] secret, Transcript t) {
        return mac(secret, CLIENT_LABEL, t);
    }

    public static byte[] receiverProof(byte[] secret, Transcript t) {
        return mac(secret, SERVER_LABEL, t);
    }

    /** Constant-time comparison. */
    public static boolean verify(byte[] expected, byte[] actual) {
        return MessageDigest.isEqual(expected, actual);
    }

    /** Derives the two session keys. */
    public static SessionKeys keys(byte[] secret, Transcript t) {
        HKDFBytesGenerator hkdf = new HKDFBytesGenerator(new SHA256Digest());
        byte[] salt = new byte[2 * ProtocolConstants.NONCE_LENGTH];
        System.arraycopy(t.clientNonce(), 0, salt, 0, ProtocolConstants.NONCE_LENGTH);
        System.arraycopy(t.serverNonce(), 0, salt, ProtocolConstants.NONCE_LENGTH, ProtocolConstants.NONCE_LENGTH);
        byte[] info = ByteBuffer.allocate(KEYS_LABEL.length + 8 + 32).put(KEYS_LABEL).putInt((int) t.probeId())
                .putInt((int) t.sessionId()).put(t.helloHash()).array();
        hkdf.init(new HKDFParameters(secret, salt, info));
        byte[] up = new byte[32];
        byte[] down = new byte[32];
        hkdf.generateBytes(up, 0, 32);
        hkdf.generateBytes(down, 0, 32);
        return new SessionKeys(up, down);
    }

    private static byte[] mac(byte[] secret, byte[] label, Transcript t) {
        HMac h = new HMac(new SHA256Digest());
        h.init(new KeyParameter(secret));
        h.update(label, 0, label.length);
        byte[] ids = ByteBuffer.allocate(8).putInt((int) t.probeId()).putInt((int) t.sessionId()).array();
        h.update(ids, 0, 8);
        h.update(t.clientNonce(), 0, t.clientNonce().length);
        h.update(t.serverNonce(), 0, t.serverNonce().length);
        h.update(t.helloHash(), 0, t.helloHash().length);
        byte[] out = new byte[32];
        h.doFinal(out, 0);
        return out;
    }

    /** What both proofs and the keys are bound to. */
    public record Transcript(long probeId, long sessionId, byte[] clientNonce, byte[] serverNonce, byte[] helloHash) {
    }

    /**
     * @param up   probe to receiver
     * @param down receiver to probe
     */
    public record SessionKeys(byte[] up, byte[] down) {
    }
}
