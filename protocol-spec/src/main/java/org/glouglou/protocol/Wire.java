package org.glouglou.protocol;

import io.netty.buffer.ByteBuf;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;

/**
 * Field encodings shared by every module (spec 2.2): bounded strings, IP addresses, fixed byte arrays. Readers check
 * every length against what is readable before they allocate.
 */
public final class Wire {
    private Wire() {
    }

    /** Writes a UTF-8 string as varint length + bytes, cut at a character boundary to at most {@code maxBytes}. */
    public static void writeString(ByteBuf out, String s, int maxBytes) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        int n = b.length;
        if (n > maxBytes) {
            n = maxBytes;
            while (n > 0 && (b[n] & 0xC0) == 0x80) {
                n--; // do not split a multi-byte character
            }
        }
        Varint.write(out, n);
        out.writeBytes(b, 0, n);
    }

    public static String readString(ByteBuf in, int maxBytes, String field) throws ProtocolException {
        int n = Varint.readBounded(in, maxBytes, field + " length");
        need(in, n, field);
        String s = in.toString(in.readerIndex(), n, StandardCharsets.UTF_8);
        in.skipBytes(n);
        return s;
    }

    /** Address family byte 4 or 6, then 4 or 16 address bytes. */
    public static void writeAddress(ByteBuf out, InetAddress a) {
        byte[] b = a.getAddress();
        out.writeByte(b.length == 4 ? 4 : 6);
        out.writeBytes(b);
    }

    public static InetAddress readAddress(ByteBuf in, String field) throws ProtocolException {
        need(in, 1, field);
        int family = in.readUnsignedByte();
        int len = family == 4 ? 4 : family == 6 ? 16 : -1;
        if (len < 0) {
            throw new ProtocolException(DropReason.MALFORMED_RECORD, field + ": address family " + family
                    + " is neither 4 nor 6");
        }
        need(in, len, field);
        byte[] b = new byte[len];
        in.readBytes(b);
        try {
            return InetAddress.getByAddress(b);
        } catch (UnknownHostException e) {
            throw new AssertionError(e); // length is 4 or 16
        }
    }

    public static byte[] readBytes(ByteBuf in, int len, String field) throws ProtocolException {
        need(in, len, field);
        byte[] b = new byte[len];
        in.readBytes(b);
        return b;
    }

    public static int readU8(ByteBuf in, String field) throws ProtocolException {
        need(in, 1, field);
        return in.readUnsignedByte();
    }

    public static int readU16(ByteBuf in, String field) throws ProtocolException {
        need(in, 2, field);
        return in.readUnsignedShort();
    }

    public static long readU32(ByteBuf in, String field) throws ProtocolException {
        need(in, 4, field);
        return in.readUnsignedInt();
    }

    public static long readU64(ByteBuf in, String field) throws ProtocolException {
        need(in, 8, field);
        return in.readLong();
    }

    public static void need(ByteBuf in, int n, String field) throws ProtocolException {
        if (in.readableBytes() < n) {
            throw new ProtocolException(DropReason.MALFORMED_RECORD, field + " needs " + n + " bytes, "
                    + in.readableBytes() + " left");
        }
    }

    /**
     * RFC 5952 text of a 4- or 16-byte address: dotted quad, or IPv6 in lower case with the longest run of two or more
     * zero groups as "::". The one text form of addresses in JSON, Redis keys and viewer streams.
     */
    public static String addressText(byte[] b) {
        if (b.length == 4) {
            return (b[0] & 0xff) + "." + (b[1] & 0xff) + "." + (b[2] & 0xff) + "." + (b[3] & 0xff);
        }
        int[] g = new int[8];
        for (int i = 0; i < 8; i++) {
            g[i] = (b[2 * i] & 0xff) << 8 | b[2 * i + 1] & 0xff;
        }
        int bestStart = -1;
        int bestLen = 1;
        for (int i = 0; i < 8;) {
            if (g[i] != 0) {
                i++;
                continue;
            }
            int j = i;
            while (j < 8 && g[j] == 0) {
                j++;
            }
            if (j - i > bestLen) {
                bestStart = i;
                bestLen = j - i;
            }
            i = j;
        }
        StringBuilder s = new StringBuilder(39);
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                s.append("::");
                i += bestLen - 1;
                continue;
            }
            if (s.length() > 0 && s.charAt(s.length() - 1) != ':') {
                s.append(':');
            }
            s.append(Integer.toHexString(g[i]));
        }
        return s.toString();
    }
}
