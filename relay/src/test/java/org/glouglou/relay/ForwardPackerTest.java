package org.glouglou.relay;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.List;
import org.glouglou.protocol.DropReason;
import org.glouglou.protocol.Payload;
import org.glouglou.protocol.PayloadBuilder;
import org.glouglou.protocol.ProtocolConstants;
import org.glouglou.protocol.RecordDecoder;
import org.glouglou.protocol.internal.InternalEvents;
import org.glouglou.protocol.internal.InternalEvents.Forward;
import org.glouglou.spi.Event;
import org.glouglou.spi.ModuleRegistry;
import org.junit.jupiter.api.Test;

/** FORWARD packing (spec 5.6): verbatim records, splits at record boundaries, times kept, hop control left behind. */
class ForwardPackerTest {
    static final ModuleRegistry REGISTRY = ModuleRegistry.load();

    record Timed(long time, Event event) {
    }

    static List<Timed> decode(byte[] records, long base) {
        List<Timed> out = new ArrayList<>();
        new RecordDecoder(REGISTRY).decode(Unpooled.wrappedBuffer(records), base, new RecordDecoder.Listener() {
            @Override
            public void onEvent(long t, Event e) {
                out.add(new Timed(t, e));
            }

            @Override
            public void onSkipped(DropReason r, String detail) {
                throw new AssertionError(r + " " + detail);
            }
        });
        return out;
    }

    /**
     * A full origin payload of notices, each a millisecond apart (so CLOCK records all along), from a probe allowed
     * 1400-byte datagrams: larger than what one FORWARD in a 1200-byte upstream datagram can carry.
     */
    static Payload fullPayload(List<Timed> sent) {
        PayloadBuilder b = new PayloadBuilder(REGISTRY, 1400, 1000);
        long t = 1_700_000_000_000_000L;
        for (int i = 0;; i++) {
            Event e = new InternalEvents.Notice(6, "event " + i + " " + "x".repeat(i % 40));
            if (!b.add(t + i * 1500L, e)) {
                break;
            }
            sent.add(new Timed(t + i * 1500L, e));
        }
        return b.take();
    }

    @Test
    void fullPayloadIsSplitAtRecordBoundariesAndEveryEventKeepsItsTime() {
        List<Timed> sent = new ArrayList<>();
        Payload p = fullPayload(sent);
        ForwardPacker.Result r = ForwardPacker.pack(7, 99, 42, p.baseTimeMicros(), new long[]{100}, Unpooled
                .wrappedBuffer(p.records()), ProtocolConstants.DEFAULT_MAX_DATAGRAM, REGISTRY);
        assertTrue(r.parts().size() >= 2, "a full payload does not fit one FORWARD: " + r.parts().size());
        assertEquals(0, r.droppedRecords());
        List<Timed> got = new ArrayList<>();
        for (Forward f : r.parts()) {
            assertEquals(7, f.originProbe());
            assertEquals(99, f.originBoot());
            assertEquals(42, f.originSequence(), "every part keeps the origin coordinates");
            assertEquals(p.baseTimeMicros(), f.originBaseTime());
            assertArrayEquals(new long[]{100}, f.path());
            assertTrue(f.records().length <= ForwardPacker.room(ProtocolConstants.DEFAULT_MAX_DATAGRAM, 1));
            // each part fits one upstream datagram on its own
            PayloadBuilder up = new PayloadBuilder(REGISTRY, ProtocolConstants.DEFAULT_MAX_DATAGRAM, 1000);
            assertTrue(up.add(0, f));
            got.addAll(decode(f.records(), f.originBaseTime()));
        }
        assertEquals(sent, got);
    }

    /** A tick's events of one type travel as one record of up to a whole datagram: cut between its events. */
    @Test
    void oneRecordFillingAWholeDatagramIsCutBetweenItsEvents() {
        PayloadBuilder b = new PayloadBuilder(REGISTRY, ProtocolConstants.DEFAULT_MAX_DATAGRAM, 1000);
        List<Timed> sent = new ArrayList<>();
        for (int i = 0;; i++) {
            Event e = new InternalEvents.Notice(6, "same time " + i + " " + "y".repeat(30));
            if (!b.add(77, e)) {
                break;
            }
            sent.add(new Timed(77, e));
        }
        Payload p = b.take();
        ForwardPacker.Result r = ForwardPacker.pack(7, 99, 42, p.baseTimeMicros(), new long[]{100, 101}, Unpooled
                .wrappedBuffer(p.records()), ProtocolConstants.DEFAULT_MAX_DATAGRAM, REGISTRY);
        assertEquals(0, r.droppedRecords());
        assertEquals(2, r.parts().size());
        List<Timed> got = new ArrayList<>();
        for (Forward f : r.parts()) {
            assertTrue(f.records().length <= ForwardPacker.room(ProtocolConstants.DEFAULT_MAX_DATAGRAM, 2));
            got.addAll(decode(f.records(), f.originBaseTime()));
        }
        assertEquals(sent, got);
    }

    @Test
    void pingStaysBehindAndAnEmptyForwardStillCarriesTheSequence() {
        PayloadBuilder b = new PayloadBuilder(REGISTRY, ProtocolConstants.DEFAULT_MAX_DATAGRAM, 1000);
        b.add(5, new InternalEvents.Ping(1));
        Payload p = b.take();
        ForwardPacker.Result r = ForwardPacker.pack(7, 1, 3, p.baseTimeMicros(), new long[]{100}, Unpooled
                .wrappedBuffer(p.records()), ProtocolConstants.DEFAULT_MAX_DATAGRAM, REGISTRY);
        assertEquals(1, r.parts().size());
        assertEquals(0, r.parts().get(0).records().length);
        assertEquals(3, r.parts().get(0).originSequence());
    }

    @Test
    void smallPayloadIsCopiedVerbatim() {
        PayloadBuilder b = new PayloadBuilder(REGISTRY, ProtocolConstants.DEFAULT_MAX_DATAGRAM, 1000);
        b.add(5, new InternalEvents.Notice(3, "hello"));
        b.add(5, new InternalEvents.Stats(java.util.Map.of("a", 1L)));
        Payload p = b.take();
        ForwardPacker.Result r = ForwardPacker.pack(7, 1, 3, p.baseTimeMicros(), new long[]{100, 200}, Unpooled
                .wrappedBuffer(p.records()), ProtocolConstants.DEFAULT_MAX_DATAGRAM, REGISTRY);
        assertEquals(1, r.parts().size());
        assertArrayEquals(p.records(), r.parts().get(0).records());
    }

    @Test
    void aRecordLargerThanAnUpstreamDatagramIsDroppedAndCounted() {
        PayloadBuilder b = new PayloadBuilder(REGISTRY, 4000, 1000);
        b.add(5, new InternalEvents.Notice(3, "small"));
        ByteBuf records = Unpooled.buffer();
        records.writeBytes(b.take().records());
        records.writeByte(200).writeByte(1);
        org.glouglou.protocol.Varint.write(records, 1500);
        records.writeZero(1500); // an unknown module's big record
        ForwardPacker.Result r = ForwardPacker.pack(7, 1, 3, 0, new long[]{100}, records,
                ProtocolConstants.DEFAULT_MAX_DATAGRAM, REGISTRY);
        assertEquals(1, r.droppedRecords());
        assertEquals(1, r.parts().size());
        assertEquals(1, decode(r.parts().get(0).records(), 0).size());
    }
}
