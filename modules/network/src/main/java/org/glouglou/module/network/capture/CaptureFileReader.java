package org.glouglou.module.network.capture;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.glouglou.spi.ConfigException;

/**
 * Reads pcap (both byte orders, micro- and nanosecond magic) and pcapng (IETF draft-ietf-opsawg-pcapng: SHB, IDB with
 * if_tsresol and if_tsoffset, EPB, SPB, obsolete PB; unknown blocks skipped) through one large buffer, handing each
 * packet as a slice of that buffer: no allocation per packet. A damaged file ends the read early and is counted; it
 * never throws past {@link #read}.
 */
public final class CaptureFileReader implements AutoCloseable {
    /** 4 MiB: a few hundred reads per GiB, and still fits in L2/L3 caches of small machines. */
    static final int DEFAULT_BUFFER = 4 << 20;
    /** 64 MiB: larger than any real snap length (pcapng allows 2^32); a larger record means a corrupt file. */
    static final int MAX_RECORD = 64 << 20;

    static final int PCAP_MICRO = 0xa1b2c3d4;
    static final int PCAP_NANO = 0xa1b23c4d;
    static final int PCAPNG_SHB = 0x0a0d0d0a;
    static final int PCAPNG_BOM = 0x1a2b3c4d;

    private final Path path;
    private final FileChannel ch;
    private byte[] buf;
    private ByteBuffer bb;
    private int pos;
    private int lim;
    private boolean eof;
    private boolean little;
    private final boolean ng;
    private boolean nano;
    private int pcapLinkType;
    // pcapng interfaces of the current section: link type and timestamp scale
    private int[] ifLink = new int[4];
    private long[] ifDiv = new long[4];
    private long[] ifMul = new long[4];
    private int[] ifShift = new int[4];
    private long[] ifOffset = new long[4];
    private int ifCount;
    private long lastTs;

    private long packets;
    private long corrupt;
    private long truncatedTail;
    private long unknownInterface;
    private long skippedBlocks;

    private CaptureFileReader(Path path, FileChannel ch, int bufferSize) throws ConfigException {
        this.path = path;
        this.ch = ch;
        this.buf = new byte[bufferSize];
        this.bb = ByteBuffer.wrap(buf);
        try {
            fill(4);
            if (lim < 4) {
                throw new ConfigException(path + " is not a pcap or pcapng capture (file of " + lim + " bytes)");
            }
            int be = be32(0);
            int le = le32(0);
            if (be == PCAPNG_SHB) {
                ng = true;
            } else if (be == PCAP_MICRO || be == PCAP_NANO || le == PCAP_MICRO || le == PCAP_NANO) {
                ng = false;
                little = le == PCAP_MICRO || le == PCAP_NANO;
                nano = be == PCAP_NANO || le == PCAP_NANO;
                fill(24);
                if (lim < 24) {
                    throw new ConfigException(path + " is a pcap capture cut short in its file header");
                }
                pcapLinkType = i32(20) & 0x0fffffff; // upper bits carry FCS length flags
                pos = 24;
            } else {
                throw new ConfigException(String.format("%s is not a pcap or pcapng capture (magic 0x%08x)", path, be));
            }
        } catch (IOException e) {
            throw new ConfigException("cannot read " + path + ": " + e.getMessage(), e);
        }
    }

    /** Opens a capture file, reading its header now so that a wrong file fails at start-up. */
    public static CaptureFileReader open(Path path) throws ConfigException {
        return open(path, DEFAULT_BUFFER);
    }

    static CaptureFileReader open(Path path, int bufferSize) throws ConfigException {
        FileChannel ch;
        try {
            ch = FileChannel.open(path, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new ConfigException("capture file " + path + " does not exist");
        } catch (AccessDeniedException e) {
            throw new ConfigException("capture file " + path + " is not readable by this user");
        } catch (IOException e) {
            throw new ConfigException("cannot open capture file " + path + ": " + e.getMessage(), e);
        }
        try {
            return new CaptureFileReader(path, ch, bufferSize);
        } catch (ConfigException e) {
            closeQuietly(ch);
            throw e;
        }
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // nothing was written: nothing to lose
        }
    }

    public boolean pcapng() {
        return ng;
    }

    /** The link type of a pcap file, or of the first pcapng interface seen so far (-1 before any). */
    public int linkType() {
        return ng ? (ifCount > 0 ? ifLink[0] : -1) : pcapLinkType;
    }

    /**
     * Hands every packet to {@code h} until the end of the file, or until {@code h} asks to stop through
     * {@link #stop}. Returns the number of packets read by this call.
     */
    public long read(PacketHandler h) throws IOException {
        return read(h, Long.MAX_VALUE);
    }

    /** Like {@link #read(PacketHandler)} but returns after at most {@code max} packets (for pacing and stop). */
    public long read(PacketHandler h, long max) throws IOException {
        long n = 0;
        while (n < max) {
            boolean got = ng ? nextBlock(h) : nextRecord(h);
            if (eof) {
                break;
            }
            if (got) {
                n++;
            }
        }
        packets += n;
        return n;
    }

    /** True once the file has ended (or was found damaged). */
    public boolean ended() {
        return eof;
    }

    private boolean nextRecord(PacketHandler h) throws IOException {
        if (!fill(16)) {
            return end(lim - pos > 0);
        }
        long sec = u32(pos);
        long frac = u32(pos + 4);
        int cap = i32(pos + 8);
        int wire = i32(pos + 12);
        if (cap < 0 || cap > MAX_RECORD) {
            corrupt++;
            eof = true;
            return false;
        }
        if (!fill(16 + cap)) {
            return end(true);
        }
        long ts = sec * 1_000_000L + (nano ? frac / 1000 : frac);
        int off = pos + 16;
        pos = off + cap;
        h.packet(ts, pcapLinkType, buf, off, cap, wire < cap ? cap : wire);
        return true;
    }

    private boolean nextBlock(PacketHandler h) throws IOException {
        if (!fill(12)) {
            return end(lim - pos > 0);
        }
        int type = i32(pos);
        if (type == PCAPNG_SHB) {
            // a new section may switch byte order: the byte-order magic decides how to read its length
            int bom = be32(pos + 8);
            if (bom == PCAPNG_BOM) {
                little = false;
            } else if (Integer.reverseBytes(bom) == PCAPNG_BOM) {
                little = true;
            } else {
                corrupt++;
                eof = true;
                return false;
            }
            ifCount = 0;
        }
        int len = i32(pos + 4);
        if (len < 12 || (len & 3) != 0 || len > MAX_RECORD) {
            corrupt++;
            eof = true;
            return false;
        }
        if (!fill(len)) {
            return end(true);
        }
        int b = pos;
        pos += len;
        switch (type) {
            case 1 -> interfaceBlock(b, len);
            case 6 -> {
                if (len < 32) {
                    corrupt++;
                    return false;
                }
                int ifc = i32(b + 8);
                int cap = i32(b + 20);
                int wire = i32(b + 24);
                if (cap < 0 || cap > len - 32) {
                    corrupt++;
                    return false;
                }
                if (ifc < 0 || ifc >= ifCount) {
                    unknownInterface++;
                    return false;
                }
                long raw = (u32(b + 12) << 32) | u32(b + 16);
                long ts = toMicros(ifc, raw);
                lastTs = ts;
                h.packet(ts, ifLink[ifc], buf, b + 28, cap, wire < cap ? cap : wire);
                return true;
            }
            case 3 -> {
                // SPB: interface 0, no timestamp (the previous packet's is the best guess), captured length implied
                if (len < 16 || ifCount == 0) {
                    unknownInterface++;
                    return false;
                }
                int wire = i32(b + 8);
                int cap = Math.min(wire < 0 ? Integer.MAX_VALUE : wire, len - 16);
                h.packet(lastTs, ifLink[0], buf, b + 12, cap, Math.max(wire, cap));
                return true;
            }
            case 2 -> {
                if (len < 32) {
                    corrupt++;
                    return false;
                }
                int ifc = (little ? le16(b + 8) : be16(b + 8));
                int cap = i32(b + 20);
                int wire = i32(b + 24);
                if (cap < 0 || cap > len - 32) {
                    corrupt++;
                    return false;
                }
                if (ifc >= ifCount) {
                    unknownInterface++;
                    return false;
                }
                long raw = (u32(b + 12) << 32) | u32(b + 16);
                long ts = toMicros(ifc, raw);
                lastTs = ts;
                h.packet(ts, ifLink[ifc], buf, b + 28, cap, wire < cap ? cap : wire);
                return true;
            }
            case PCAPNG_SHB -> {
                // nothing else in the section header matters for packets
            }
            default -> skippedBlocks++;
        }
        return false;
    }

    private void interfaceBlock(int b, int len) {
        if (len < 20) {
            corrupt++;
            return;
        }
        if (ifCount == ifLink.length) {
            int n = ifCount * 2;
            ifLink = java.util.Arrays.copyOf(ifLink, n);
            ifDiv = java.util.Arrays.copyOf(ifDiv, n);
            ifMul = java.util.Arrays.copyOf(ifMul, n);
            ifShift = java.util.Arrays.copyOf(ifShift, n);
            ifOffset = java.util.Arrays.copyOf(ifOffset, n);
        }
        int i = ifCount++;
        ifLink[i] = little ? le16(b + 8) : be16(b + 8);
        ifDiv[i] = 1;
        ifMul[i] = 1; // default resolution: microseconds
        ifShift[i] = -1;
        ifOffset[i] = 0;
        int o = b + 16;
        int end = b + len - 4;
        while (o + 4 <= end) {
            int code = little ? le16(o) : be16(o);
            int olen = little ? le16(o + 2) : be16(o + 2);
            if (code == 0 || o + 4 + olen > end) {
                break;
            }
            if (code == 9 && olen >= 1) {
                int r = buf[o + 4] & 0xff;
                if ((r & 0x80) != 0) {
                    ifShift[i] = Math.min(r & 0x7f, 62);
                } else if (r >= 6) {
                    ifDiv[i] = pow10(Math.min(r - 6, 18));
                    ifMul[i] = 1;
                } else {
                    ifDiv[i] = 1;
                    ifMul[i] = pow10(6 - r);
                }
            } else if (code == 14 && olen >= 8) {
                long hi = u32(o + 4);
                long lo = u32(o + 8);
                ifOffset[i] = little ? (lo << 32 | hi) : (hi << 32 | lo);
            }
            o += 4 + ((olen + 3) & ~3);
        }
    }

    private long toMicros(int ifc, long raw) {
        long us;
        int sh = ifShift[ifc];
        if (sh >= 0) {
            // 2^-sh seconds per unit: split so that the multiplication cannot overflow for sh up to 62
            long whole = raw >>> sh;
            long rest = raw & ((1L << sh) - 1);
            us = whole * 1_000_000L + (sh >= 40 ? (rest >>> (sh - 20)) * 1_000_000L >>> 20 : rest * 1_000_000L >>> sh);
        } else {
            us = ifDiv[ifc] > 1 ? raw / ifDiv[ifc] : raw * ifMul[ifc];
        }
        return us + ifOffset[ifc] * 1_000_000L;
    }

    private static long pow10(int n) {
        long v = 1;
        for (int k = 0; k < n; k++) {
            v *= 10;
        }
        return v;
    }

    private boolean end(boolean partial) {
        if (partial) {
            truncatedTail++;
        }
        eof = true;
        return false;
    }

    /** Makes {@code n} bytes readable at {@code pos}; false at end of file before that. */
    private boolean fill(int n) throws IOException {
        if (lim - pos >= n) {
            return true;
        }
        if (n > buf.length) {
            byte[] nb = new byte[Math.max(n, buf.length * 2)];
            System.arraycopy(buf, pos, nb, 0, lim - pos);
            lim -= pos;
            pos = 0;
            buf = nb;
            bb = ByteBuffer.wrap(buf);
        } else if (pos > 0) {
            System.arraycopy(buf, pos, buf, 0, lim - pos);
            lim -= pos;
            pos = 0;
        }
        while (lim - pos < n) {
            bb.limit(buf.length).position(lim);
            int r = ch.read(bb);
            if (r < 0) {
                return false;
            }
            lim += r;
        }
        return true;
    }

    private int be32(int o) {
        return (buf[o] & 0xff) << 24 | (buf[o + 1] & 0xff) << 16 | (buf[o + 2] & 0xff) << 8 | (buf[o + 3] & 0xff);
    }

    private int le32(int o) {
        return (buf[o + 3] & 0xff) << 24 | (buf[o + 2] & 0xff) << 16 | (buf[o + 1] & 0xff) << 8 | (buf[o] & 0xff);
    }

    private int be16(int o) {
        return (buf[o] & 0xff) << 8 | (buf[o + 1] & 0xff);
    }

    private int le16(int o) {
        return (buf[o + 1] & 0xff) << 8 | (buf[o] & 0xff);
    }

    private int i32(int o) {
        return little ? le32(o) : be32(o);
    }

    private long u32(int o) {
        return i32(o) & 0xffffffffL;
    }

    public Path path() {
        return path;
    }

    public long packets() {
        return packets;
    }

    /** Records or blocks whose lengths made no sense; reading stopped at the first. */
    public long corrupt() {
        return corrupt;
    }

    /** 1 when the file ended in the middle of a record (a capture still being written, or cut). */
    public long truncatedTail() {
        return truncatedTail;
    }

    public long unknownInterface() {
        return unknownInterface;
    }

    public long skippedBlocks() {
        return skippedBlocks;
    }

    @Override
    public void close() {
        closeQuietly(ch);
    }
}
