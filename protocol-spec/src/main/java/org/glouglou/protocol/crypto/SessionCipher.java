package org.glouglou.protocol.crypto;

import io.netty.buffer.ByteBuf;
import org.bouncycastle.crypto.InvalidCipherTextException;
import org.bouncycastle.crypto.modes.ChaCha20Poly1305;
import org.bouncycastle.crypto.params.AEADParameters;
import org.bouncycastle.crypto.params.KeyParameter;
import org.glouglou.protocol.DatagramHeader;
import org.glouglou.protocol.DropReason;
import org.glouglou.protocol.ProtocolConstants;
import org.glouglou.protocol.ProtocolException;

/**
 * ChaCha20-Poly1305 (RFC 8439) over one direction of a session (spec 5.3). The 12-byte nonce is the header's
 * session id and sequence number, so nothing extra travels; the 26-byte header is the associated data. One key per
 * direction keeps nonces unique without coordination. Not thread-safe: one instance per direction and thread.
 */
public final class SessionCipher {
    private final KeyParameter key;
    private final ChaCha20Poly1305 aead = new ChaCha20Poly1305();
    private final byte[] nonce = new byte[12];
    private final byte[] aad = new byte[ProtocolConstants.HEADER_LENGTH];

    public SessionCipher(byte[] key32) {
        if (key32.length != 32) {
            throw new IllegalArgumentException("ChaCha20-Poly1305 key must be 32 bytes");
        }
        this.key = new KeyParameter(key32);
    }

    /**
     * Encrypts in place the payload of a datagram whose header is at {@code buf.readerIndex()}, and appends the tag.
     * The buffer must have an accessible array (heap buffer).
     */
    public void seal(ByteBuf buf) {
        int start = buf.readerIndex();
        int payloadLen = buf.writerIndex() - start - ProtocolConstants.HEADER_LENGTH;
        buf.ensureWritable(ProtocolConstants.TAG_LENGTH);
        init(true, buf, start);
        byte[] a = buf.array();
        int off = buf.arrayOffset() + start + ProtocolConstants.HEADER_LENGTH;
        int n = aead.processBytes(a, off, payloadLen, a, off);
        try {
            n += aead.doFinal(a, off + n);
        } catch (InvalidCipherTextException e) {
            throw new IllegalStateException("sealing cannot fail", e);
        }
        buf.writerIndex(start + ProtocolConstants.HEADER_LENGTH + n);
    }

    /**
     * Verifies and decrypts in place; on success the payload is plaintext and the tag is removed from the buffer.
     * On failure the buffer's content is unspecified and {@link DropReason#BAD_TAG} is thrown.
     */
    public void open(ByteBuf buf) throws ProtocolException {
        int start = buf.readerIndex();
        int len = buf.writerIndex() - start - ProtocolConstants.HEADER_LENGTH;
        if (len < ProtocolConstants.TAG_LENGTH) {
            throw new ProtocolException(DropReason.BAD_TAG,
                    "sealed payload of " + len + " bytes has no room for a tag");
        }
        init(false, buf, start);
        byte[] a = buf.array();
        int off = buf.arrayOffset() + start + ProtocolConstants.HEADER_LENGTH;
        try {
            int n = aead.processBytes(a, off, len, a, off);
            n += aead.doFinal(a, off + n);
            buf.writerIndex(start + ProtocolConstants.HEADER_LENGTH + n);
        } catch (InvalidCipherTextException e) {
            throw new ProtocolException(DropReason.BAD_TAG, "authentication tag does not verify");
        }
    }

    private void init(boolean encrypt, ByteBuf buf, int start) {
        buf.getBytes(start, aad);
        // nonce = session id (header bytes 6..9) || sequence (header bytes 10..17)
        System.arraycopy(aad, 6, nonce, 0, 12);
        aead.init(encrypt, new AEADParameters(key, 128, nonce, aad));
    }

    /** The nonce a header yields, for the spec's worked example. */
    static byte[] nonceOf(DatagramHeader h) {
        byte[] n = new byte[12];
        for (int i = 0; i < 4; i++) {
            n[i] = (byte) (h.sessionId() >>> (24 - 8 * i));
        }
        for (int i = 0; i < 8; i++) {
            n[4 + i] = (byte) (h.sequence() >>> (56 - 8 * i));
        }
        return n;
    }
}
