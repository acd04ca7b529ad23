package org.glouglou.module.network.capture;

import static org.glouglou.module.network.capture.Packets.*;
import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.glouglou.spi.ConfigException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CaptureFileReaderTest {
    @TempDir
    Path dir;

    record Pkt(long ts, int link, byte[] bytes, int wire) {
    }

    List<Pkt> readAll(Path f, int buffer) throws Exception {
        List<Pkt> out = new ArrayList<>();
        try (CaptureFileReader r = CaptureFileReader.open(f, buffer)) {
            r.read((ts, lt, d, off, cap, wire) -> out.add(new Pkt(ts, lt, Arrays.copyOfRange(d, off, off + cap),
                    wire)));
            assertTrue(r.ended());
        }
        return out;
    }

    Path write(byte[] content) throws Exception {
        Path f = Files.createTempFile(dir, "cap", ".pcap");
        Files.write(f, content);
        return f;
    }

    @ParameterizedTest
    @CsvSource({"LITTLE_ENDIAN,false", "BIG_ENDIAN,false", "LITTLE_ENDIAN,true", "BIG_ENDIAN,true"})
    void pcapBothByteOrdersBothResolutions(String order, boolean nano) throws Exception {
        ByteOrder bo = order.equals("BIG_ENDIAN") ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
        byte[] a = eth(0x0800, ip4("10.0.0.1", "10.0.0.2", 17, 64, udp(1, 2, new byte[10])));
        byte[] b = new byte[3000]; // larger than the reader's buffer below: it must grow
        Arrays.fill(b, (byte) 7);
        List<Pkt> p = readAll(write(pcap(bo, nano, 1, a, b)), 64);
        assertEquals(2, p.size());
        assertArrayEquals(a, p.get(0).bytes());
        assertArrayEquals(b, p.get(1).bytes());
        assertEquals(1_700_000_000_000_000L, p.get(0).ts());
        assertEquals(1_700_000_000_001_000L + (nano ? 0 : 0), p.get(1).ts()); // 1 ms + 999 ns truncates to 1 ms
        assertEquals(1, p.get(0).link());
    }

    @Test
    void pcapngBothByteOrdersWithTsresolSpbAndUnknownBlocks() throws Exception {
        for (ByteOrder bo : new ByteOrder[]{ByteOrder.LITTLE_ENDIAN, ByteOrder.BIG_ENDIAN}) {
            byte[] f1 = eth(0x0800, ip4("10.0.0.1", "10.0.0.2", 6, 64, tcp(1, 2, 2, new byte[0])));
            byte[] f2 = sll(0x0800, ip4("10.0.0.3", "10.0.0.4", 17, 64, udp(1, 2, new byte[3])));
            ByteArrayOutputStream o = new ByteArrayOutputStream();
            o.writeBytes(block(bo, 0x0a0d0d0a, ByteBuffer.allocate(16).order(bo).putInt(0x1a2b3c4d).putShort(
                    (short) 1).putShort((short) 0).putLong(-1).array()));
            o.writeBytes(idb(bo, 1, 9)); // nanoseconds
            o.writeBytes(idb(bo, 113, -1)); // default microseconds
            o.writeBytes(block(bo, 0x0bad, new byte[8])); // unknown: skipped
            o.writeBytes(epb(bo, 0, 1_700_000_000_123_456_789L, f1, 1000));
            o.writeBytes(epb(bo, 1, 1_700_000_000_500_000L, f2, f2.length));
            o.writeBytes(block(bo, 3, cat(ByteBuffer.allocate(4).order(bo).putInt(f1.length).array(), pad(f1))));
            List<Pkt> p = readAll(write(o.toByteArray()), 1 << 16);
            assertEquals(3, p.size(), bo.toString());
            assertEquals(1_700_000_000_123_456L, p.get(0).ts());
            assertEquals(1, p.get(0).link());
            assertEquals(1000, p.get(0).wire());
            assertArrayEquals(f1, p.get(0).bytes());
            assertEquals(1_700_000_000_500_000L, p.get(1).ts());
            assertEquals(113, p.get(1).link());
            assertArrayEquals(f2, p.get(1).bytes());
            assertEquals(1, p.get(2).link()); // SPB: interface 0
            assertEquals(f1.length, p.get(2).bytes().length);
        }
    }

    static byte[] pad(byte[] b) {
        return Arrays.copyOf(b, (b.length + 3) & ~3);
    }

    static byte[] block(ByteOrder bo, int type, byte[] body) {
        int len = 12 + body.length;
        return ByteBuffer.allocate(len).order(bo).putInt(type).putInt(len).put(body).putInt(len).array();
    }

    static byte[] idb(ByteOrder bo, int link, int tsresol) {
        ByteBuffer b = ByteBuffer.allocate(tsresol >= 0 ? 20 : 8).order(bo);
        b.putShort((short) link).putShort((short) 0).putInt(262144);
        if (tsresol >= 0) {
            b.putShort((short) 9).putShort((short) 1).put((byte) tsresol).put(new byte[3]).putInt(0);
        }
        return block(bo, 1, b.array());
    }

    static byte[] epb(ByteOrder bo, int ifc, long ts, byte[] frame, int wire) {
        ByteBuffer b = ByteBuffer.allocate(20).order(bo);
        b.putInt(ifc).putInt((int) (ts >>> 32)).putInt((int) ts).putInt(frame.length).putInt(wire);
        return block(bo, 6, cat(b.array(), pad(frame)));
    }

    @Test
    void notACaptureNamesTheFileAndMagic() throws Exception {
        Path f = write("hello world, not a capture".getBytes());
        ConfigException e = assertThrows(ConfigException.class, () -> CaptureFileReader.open(f));
        assertEquals(f + " is not a pcap or pcapng capture (magic 0x68656c6c)", e.getMessage());
    }

    @Test
    void missingAndEmptyFiles() throws Exception {
        ConfigException e = assertThrows(ConfigException.class, () -> CaptureFileReader.open(dir.resolve("nope")));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
        Path empty = write(new byte[0]);
        e = assertThrows(ConfigException.class, () -> CaptureFileReader.open(empty));
        assertTrue(e.getMessage().contains("is not a pcap or pcapng capture"), e.getMessage());
    }

    @Test
    void fileCutInARecordEndsCleanlyAndIsCounted() throws Exception {
        byte[] a = eth(0x0800, ip4("10.0.0.1", "10.0.0.2", 17, 64, udp(1, 2, new byte[10])));
        byte[] whole = pcap(ByteOrder.LITTLE_ENDIAN, false, 1, a, a);
        for (int cut = 24; cut < whole.length; cut++) {
            Path f = write(Arrays.copyOf(whole, cut));
            try (CaptureFileReader r = CaptureFileReader.open(f, 32)) {
                long n = r.read((ts, lt, d, off, cap, wire) -> {
                });
                assertEquals(cut >= whole.length - 0 ? 2 : cut >= 24 + 16 + a.length ? 1 : 0, n, "cut " + cut);
                assertEquals(cut == 24 || cut == 24 + 16 + a.length ? 0 : 1, r.truncatedTail(), "cut " + cut);
            }
        }
    }

    @Test
    void absurdRecordLengthStopsTheRead() throws Exception {
        byte[] whole = pcap(ByteOrder.LITTLE_ENDIAN, false, 1, new byte[20]);
        ByteBuffer.wrap(whole).order(ByteOrder.LITTLE_ENDIAN).putInt(24 + 8, 0x7fffffff);
        try (CaptureFileReader r = CaptureFileReader.open(write(whole))) {
            assertEquals(0, r.read((ts, lt, d, off, cap, wire) -> fail("no packet")));
            assertEquals(1, r.corrupt());
        }
    }
}
