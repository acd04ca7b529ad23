package org.glouglou.protocol.fuzz;

import static org.junit.jupiter.api.Assertions.*;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.Arrays;
import org.glouglou.protocol.DropReason;
import org.glouglou.protocol.ProtocolConstants;
import org.glouglou.protocol.ProtocolException;
import org.glouglou.protocol.crypto.SessionCipher;

/**
 * Fuzz target (c): {@link SessionCipher#open} on arbitrary bytes (spec 5.3). It may only ever refuse with
 * {@code bad_tag}, and nothing the fuzzer writes may open under a key it does not know. Inputs whose first byte is 0
 * (never a datagram's: that is the version) also check that sealing then opening round-trips and that any single bit flip is refused.
 */
class SessionCipherFuzzTest {
    /** The key of the sealed-session test vector, so the vector datagrams seed this target. */
    private static final byte[] KEY = new byte[32];
    static {
        for (int i = 0; i < 32; i++) {
            KEY[i] = (byte) (0xA0 + i);
        }
    }

    @FuzzTest
    void open(byte[] data) {
        if (data.length >= 3 + ProtocolConstants.HEADER_LENGTH && data[0] == 0) {
            roundTrip(Arrays.copyOfRange(data, 1, data.length));
            return;
        }
        // an offset inside a larger array: the cipher must honour arrayOffset and readerIndex
        byte[] framed = new byte[data.length + 3];
        System.arraycopy(data, 0, framed, 3, data.length);
        ByteBuf buf = Unpooled.wrappedBuffer(framed, 1, framed.length - 1);
        buf.readerIndex(2);
        try {
            new SessionCipher(KEY).open(buf);
            // possible only for the sealed-session vector datagrams themselves
            assertTrue(buf.readableBytes() >= ProtocolConstants.HEADER_LENGTH);
        } catch (ProtocolException e) {
            assertEquals(DropReason.BAD_TAG, e.reason(), e.toString());
        }
    }

    private static void roundTrip(byte[] d) {
        // first two bytes pick a bit to flip, the rest is a header and a payload
        int flip = ((d[0] & 0xFF) << 8 | (d[1] & 0xFF));
        byte[] datagram = Arrays.copyOfRange(d, 2, d.length);
        ByteBuf buf = Unpooled.buffer(datagram.length + ProtocolConstants.TAG_LENGTH);
        buf.writeBytes(datagram);
        new SessionCipher(KEY).seal(buf);
        assertEquals(datagram.length + ProtocolConstants.TAG_LENGTH, buf.readableBytes());
        byte[] sealed = new byte[buf.readableBytes()];
        buf.getBytes(0, sealed);
        try {
            new SessionCipher(KEY).open(buf);
        } catch (ProtocolException e) {
            fail("a datagram just sealed does not open: " + e);
        }
        byte[] opened = new byte[buf.readableBytes()];
        buf.getBytes(0, opened);
        assertArrayEquals(datagram, opened);
        int bit = flip % (sealed.length * 8);
        sealed[bit / 8] ^= (byte) (1 << (bit % 8));
        ProtocolException refused = assertThrows(ProtocolException.class, () -> new SessionCipher(KEY).open(
                Unpooled.wrappedBuffer(sealed)), "bit " + bit + " flipped and the datagram still opens");
        assertEquals(DropReason.BAD_TAG, refused.reason());
    }
}
