package org.glouglou.protocol.fuzz;

import static org.junit.jupiter.api.Assertions.*;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.glouglou.protocol.DatagramHeader;
import org.glouglou.protocol.DropReason;
import org.glouglou.protocol.ProtocolConstants;
import org.glouglou.protocol.ProtocolException;
import org.glouglou.protocol.RecordDecoder;
import org.glouglou.spi.Event;
import org.glouglou.spi.EventCodec;
import org.glouglou.spi.JsonForm;
import org.glouglou.spi.ModuleRegistry;
import org.glouglou.spi.TimedEvent;

/**
 * Fuzz target (a): the header reader and the record decoder of spec 3 on arbitrary bytes, with the internal module.
 * Neither may throw; whatever they deliver must be an event the encoder can write back within its codec's bound and
 * that has a JSON form, since receivers re-encode (relays) and print (text client) what they decode.
 */
class RecordDecoderFuzzTest {
    private static final ModuleRegistry REGISTRY = ModuleRegistry.internalOnly();
    private static final RecordDecoder DECODER = new RecordDecoder(REGISTRY);

    @FuzzTest
    void headerAndRecords(byte[] data) {
        ByteBuf buf = Unpooled.wrappedBuffer(data);
        DatagramHeader h;
        try {
            h = DatagramHeader.read(buf);
        } catch (ProtocolException e) {
            assertTrue(e.reason().wholeDatagram(), "a header problem drops the whole datagram: " + e);
            // the payload decoder must cope with anything, header or not
            h = null;
            buf.readerIndex(Math.min(data.length, ProtocolConstants.HEADER_LENGTH));
        }
        long base = h == null ? 0 : h.baseTimeMicros();
        long probe = h == null ? 1 : h.probeId();
        int[] events = new int[1];
        int delivered = DECODER.decode(buf, base, new RecordDecoder.Listener() {
            @Override
            public void onEvent(long timeMicros, Event event) {
                events[0]++;
                EventCodec<?> codec = REGISTRY.codec(event.type());
                ByteBuf out = Unpooled.buffer();
                codec.encodeAny(event, out);
                assertTrue(out.readableBytes() <= codec.maxBodyLength(), event.type() + " re-encodes to "
                        + out.readableBytes() + " bytes, over its bound " + codec.maxBodyLength());
                assertNotNull(JsonForm.toJson(REGISTRY, new TimedEvent(probe, timeMicros, event)));
            }

            @Override
            public void onSkipped(DropReason reason, String detail) {
                assertNotNull(reason);
            }
        });
        assertEquals(events[0], delivered, "the count returned is the count delivered");
        assertFalse(buf.isReadable(), "the decoder consumes the whole payload");
    }
}
