package org.glouglou.server.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.glouglou.protocol.PayloadBuilder;
import org.glouglou.protocol.ProtocolConstants;
import org.glouglou.protocol.internal.InternalEvents;
import org.glouglou.spi.ModuleRegistry;
import org.junit.jupiter.api.Test;

/**
 * BYE shutdown ends a probe's boot, BYE rekey only its session (spec 5.7): the core finds the reason by walking the
 * record headers of the payload, since the receiver consumes BYE itself. Truncated or hostile payloads give -1.
 */
class ByeReasonTest {
    static final ModuleRegistry REGISTRY = ModuleRegistry.load();

    static ByteBuf records(org.glouglou.spi.Event... events) {
        PayloadBuilder b = new PayloadBuilder(REGISTRY, ProtocolConstants.DEFAULT_MAX_DATAGRAM, 1000);
        for (org.glouglou.spi.Event e : events) {
            b.add(1_000_000, e);
        }
        return Unpooled.wrappedBuffer(b.take().records());
    }

    @Test
    void theReasonOfTheFirstByeAfterOtherRecords() {
        assertEquals(InternalEvents.Bye.SHUTDOWN, IngestCore.byeReason(records(new InternalEvents.Ping(7),
                new InternalEvents.Stats(java.util.Map.of("a", 1L)), new InternalEvents.Bye(0))));
        assertEquals(InternalEvents.Bye.REKEY, IngestCore.byeReason(records(new InternalEvents.Bye(1))));
        assertEquals(-1, IngestCore.byeReason(records(new InternalEvents.Ping(7))));
    }

    @Test
    void truncatedOrHostileRecordsGiveNoReason() {
        ByteBuf whole = records(new InternalEvents.Ping(1), new InternalEvents.Bye(0));
        for (int cut = 0; cut < whole.readableBytes(); cut++) {
            assertEquals(-1, IngestCore.byeReason(whole.slice(0, cut)), "cut at " + cut);
        }
        // a length varint that never ends
        assertEquals(-1, IngestCore.byeReason(Unpooled.wrappedBuffer(new byte[]{0, 12, (byte) 0xff, (byte) 0xff,
                (byte) 0xff, (byte) 0xff})));
    }
}
