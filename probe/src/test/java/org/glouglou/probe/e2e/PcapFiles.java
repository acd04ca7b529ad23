package org.glouglou.probe.e2e;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Classic pcap files (libpcap format, microsecond or nanosecond magic, either byte order) read and written by the
 * tests: a capture cut in two by time or by host pair, or repeated end to end. No dependency on editcap or tcpdump, whose time
 * syntax varies between versions. pcapng is refused: the shared capture the suite cuts is classic pcap.
 */
final class PcapFiles {
    /** One record: its timestamp in microseconds and the record as stored (header fields rewritten on output). */
    record Packet(long micros, int origLen, byte[] data) {
    }

    /** A capture held in memory: its global header (24 bytes, as read) and its packets. */
    record Capture(byte[] header, ByteOrder order, boolean nanos, List<Packet> packets) {
        long firstMicros() {
            return packets.get(0).micros();
        }

        long lastMicros() {
            return packets.get(packets.size() - 1).micros();
        }
    }

    private PcapFiles() {
    }

    static Capture read(Path file) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file));
        if (b.remaining() < 24) {
            throw new IOException(file + ": shorter than a pcap header");
        }
        int magic = b.order(ByteOrder.BIG_ENDIAN).getInt(0);
        ByteOrder order;
        boolean nanos;
        switch (magic) {
            case 0xa1b2c3d4 -> {
                order = ByteOrder.BIG_ENDIAN;
                nanos = false;
            }
            case 0xd4c3b2a1 -> {
                order = ByteOrder.LITTLE_ENDIAN;
                nanos = false;
            }
            case 0xa1b23c4d -> {
                order = ByteOrder.BIG_ENDIAN;
                nanos = true;
            }
            case 0x4d3cb2a1 -> {
                order = ByteOrder.LITTLE_ENDIAN;
                nanos = true;
            }
            default -> throw new IOException(file + ": not a classic pcap file (magic " + Integer.toHexString(magic)
                    + ")");
        }
        b.order(order);
        byte[] header = new byte[24];
        b.get(header);
        List<Packet> packets = new ArrayList<>();
        while (b.remaining() >= 16) {
            long sec = Integer.toUnsignedLong(b.getInt());
            long frac = Integer.toUnsignedLong(b.getInt());
            int incl = b.getInt();
            int orig = b.getInt();
            if (incl < 0 || incl > b.remaining()) {
                throw new IOException(file + ": record of " + incl + " bytes past the end");
            }
            byte[] data = new byte[incl];
            b.get(data);
            packets.add(new Packet(sec * 1_000_000 + (nanos ? frac / 1000 : frac), orig, data));
        }
        return new Capture(header, order, nanos, packets);
    }

    static void write(Capture c, List<Packet> packets, Path file) throws IOException {
        int size = 24;
        for (Packet p : packets) {
            size += 16 + p.data().length;
        }
        ByteBuffer b = ByteBuffer.allocate(size).order(c.order());
        b.put(c.header());
        for (Packet p : packets) {
            b.putInt((int) (p.micros() / 1_000_000));
            long frac = p.micros() % 1_000_000;
            b.putInt((int) (c.nanos() ? frac * 1000 : frac));
            b.putInt(p.data().length);
            b.putInt(p.origLen());
            b.put(p.data());
        }
        Files.write(file, b.array());
    }

    /**
     * Cuts {@code source} in two at the middle of its time span: packets before it go to the first file, the rest to
     * the second. Returns how many packets went into the first.
     */
    static int splitByTime(Path source, Path first, Path second) throws IOException {
        Capture c = read(source);
        long middle = c.firstMicros() + (c.lastMicros() - c.firstMicros()) / 2;
        List<Packet> a = c.packets().stream().filter(p -> p.micros() < middle).toList();
        List<Packet> b = c.packets().stream().filter(p -> p.micros() >= middle).toList();
        write(c, a, first);
        write(c, b, second);
        return a.size();
    }

    /**
     * Cuts {@code source} in two by host pair: each IP packet goes to the file its pair of addresses is given to (by
     * the parity of the pair's key hash), so both files span the whole capture and every host pair lives in exactly
     * one of them. Ethernet captures only (802.1Q tags skipped); packets without IP go to the first file. Returns how
     * many packets went into the first.
     */
    static int splitByHostPair(Path source, Path first, Path second) throws IOException {
        Capture c = read(source);
        int linkType = ByteBuffer.wrap(c.header()).order(c.order()).getInt(20);
        if (linkType != 1) {
            throw new IOException(source + ": link type " + linkType + ", only Ethernet (1) is cut by host pair");
        }
        List<Packet> a = new ArrayList<>();
        List<Packet> b = new ArrayList<>();
        for (Packet p : c.packets()) {
            String pair = hostPair(p.data());
            (pair == null || Math.floorMod(pair.hashCode(), 2) == 0 ? a : b).add(p);
        }
        write(c, a, first);
        write(c, b, second);
        return a.size();
    }

    /** The packet's host pair, as the graph keys it ({@code A|B}), or null if it is not IP. */
    static String hostPair(byte[] frame) throws IOException {
        int off = 12;
        int type = frame.length >= 14 ? (frame[12] & 0xff) << 8 | frame[13] & 0xff : 0;
        while ((type == 0x8100 || type == 0x88a8) && frame.length >= off + 6) {
            off += 4;
            type = (frame[off] & 0xff) << 8 | frame[off + 1] & 0xff;
        }
        off += 2;
        byte[] x;
        byte[] y;
        if (type == 0x0800 && frame.length >= off + 20) {
            x = Arrays.copyOfRange(frame, off + 12, off + 16);
            y = Arrays.copyOfRange(frame, off + 16, off + 20);
        } else if (type == 0x86dd && frame.length >= off + 40) {
            x = Arrays.copyOfRange(frame, off + 8, off + 24);
            y = Arrays.copyOfRange(frame, off + 24, off + 40);
        } else {
            return null;
        }
        InetAddress ax = InetAddress.getByAddress(x);
        InetAddress ay = InetAddress.getByAddress(y);
        return HostPairTotals.pair(ax, ay);
    }

    /**
     * {@code source} played {@code copies} times end to end: each copy shifted by the capture's span plus
     * {@code gapMicros}, so the file is in time order and lasts about {@code copies} times as long.
     */
    static void repeat(Path source, int copies, long gapMicros, Path out) throws IOException {
        Capture c = read(source);
        long span = c.lastMicros() - c.firstMicros() + gapMicros;
        List<Packet> all = new ArrayList<>();
        for (int i = 0; i < copies; i++) {
            long shift = i * span;
            for (Packet p : c.packets()) {
                all.add(new Packet(p.micros() + shift, p.origLen(), p.data()));
            }
        }
        write(c, all, out);
    }
}
