package org.glouglou.protocol;

import static org.junit.jupiter.api.Assertions.*;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.Random;
import org.junit.jupiter.api.Test;

class VarintTest {
    @Test
    void roundTripsAndSizes() throws ProtocolException {
        Random r = new Random(1);
        ByteBuf b = Unpooled.buffer();
        for (int i = 0; i < 10_000; i++) {
            long v = r.nextLong() >>> r.nextInt(64);
            b.clear();
            Varint.write(b, v);
            assertEquals(Varint.size(v), b.readableBytes());
            assertEquals(v, Varint.read(b));
            long signed = v - (Long.MAX_VALUE >> r.nextInt(64));
            b.clear();
            Varint.writeSigned(b, signed);
            assertEquals(signed, Varint.readSigned(b));
        }
    }

    @Test
    void knownEncodings() throws ProtocolException {
        ByteBuf b = Unpooled.buffer();
        Varint.write(b, 300);
        assertEquals("ac02", ByteBufUtilHex.hex(b));
        assertEquals(300, Varint.read(b));
        b.clear();
        Varint.writeSigned(b, -1);
        assertEquals("01", ByteBufUtilHex.hex(b));
        b.clear();
        Varint.write(b, -1L);
        assertEquals(10, b.readableBytes());
        assertEquals(-1L, Varint.read(b));
    }

    @Test
    void rejectsOverflowAndTruncation() {
        ByteBuf eleven = Unpooled.wrappedBuffer(new byte[]{(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff,
                (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x01});
        assertEquals(DropReason.MALFORMED_RECORD, assertThrows(ProtocolException.class, () -> Varint.read(eleven))
                .reason());
        ByteBuf tenthTooBig = Unpooled.wrappedBuffer(new byte[]{(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff,
                (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x02});
        assertThrows(ProtocolException.class, () -> Varint.read(tenthTooBig));
        ByteBuf cut = Unpooled.wrappedBuffer(new byte[]{(byte) 0x80});
        assertThrows(ProtocolException.class, () -> Varint.read(cut));
    }

    static final class ByteBufUtilHex {
        static String hex(ByteBuf b) {
            return io.netty.buffer.ByteBufUtil.hexDump(b);
        }
    }
}
