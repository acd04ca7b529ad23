package org.glouglou.protocol;

import io.netty.buffer.ByteBuf;

/**
 * Unsigned LEB128 integers (spec 2.2): seven bits a byte, least significant group first, high bit set on every
 * byte but the last. At most 10 bytes; a longer or non-minimal-but-overflowing encoding is malformed. Signed values
 * are zigzag-encoded first.
 */
public final class Varint {
    private Varint() {
    }

    public static void write(ByteBuf out, long value) {
        while ((value & ~0x7FL) != 0) {
            out.writeByte((int) ((value & 0x7F) | 0x80));
            value >>>= 7;
        }
        out.writeByte((int) value);
    }

    public static void writeSigned(ByteBuf out, long value) {
        write(out, (value << 1) ^ (value >> 63));
    }

    public static int size(long value) {
        int n = 1;
        while ((value & ~0x7FL) != 0) {
            value >>>= 7;
            n++;
        }
        return n;
    }

    public static long read(ByteBuf in) throws ProtocolException {
        long result = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (!in.isReadable()) {
                throw new ProtocolException(DropReason.MALFORMED_RECORD, "varint runs past the end");
            }
            int b = in.readByte();
            if (shift == 63 && (b & 0xFE) != 0) {
                throw new ProtocolException(DropReason.MALFORMED_RECORD, "varint overflows 64 bits");
            }
            result |= (long) (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                return result;
            }
        }
        throw new ProtocolException(DropReason.MALFORMED_RECORD, "varint longer than 10 bytes");
    }

    public static long readSigned(ByteBuf in) throws ProtocolException {
        long v = read(in);
        return (v >>> 1) ^ -(v & 1);
    }

    /** Reads a varint that must fit in {@code 0..max}. */
    public static int readBounded(ByteBuf in, int max, String field) throws ProtocolException {
        long v = read(in);
        if (v < 0 || v > max) {
            throw new ProtocolException(DropReason.MALFORMED_RECORD, field + " " + Long.toUnsignedString(v)
                    + " is over its limit " + max);
        }
        return (int) v;
    }
}
