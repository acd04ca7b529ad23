package org.glouglou.spi.testkit;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import org.glouglou.protocol.DropReason;
import org.glouglou.protocol.PayloadBuilder;
import org.glouglou.protocol.ProtocolConstants;
import org.glouglou.protocol.ProtocolException;
import org.glouglou.protocol.RecordDecoder;
import org.glouglou.spi.Event;
import org.glouglou.spi.EventCodec;
import org.glouglou.spi.GlouglouModule;
import org.glouglou.spi.JsonForm;
import org.glouglou.spi.ModuleRegistry;
import org.glouglou.spi.TimedEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What every module must pass (like Micrometer's registry compatibility kit): a module's test extends this in a few
 * lines and gives a generator of random events. Checks wire and JSON round trips over seeded random events,
 * datagram packing, and that no truncation or bit flip of an encoded record escapes the decoder as anything but a
 * counted skip.
 */
public abstract class ModuleCompatibilityKit {
    /** 300 seeds per type: enough to reach every branch of a body codec, fast enough for every build. */
    protected static final int SEEDS = 300;

    protected abstract GlouglouModule module();

    /** A random, valid event of the codec's type. */
    protected abstract Event randomEvent(EventCodec<?> codec, Random random);

    /** The event as a receiver decodes it: fields not on the wire cleared. The default is the event itself. */
    protected Event wireForm(Event event) {
        return event;
    }

    /** False for event types a decoder consumes itself instead of delivering (the internal CLOCK). */
    protected boolean delivered(EventCodec<?> codec) {
        return true;
    }

    protected ModuleRegistry registry() {
        return module().id() == 0 ? ModuleRegistry.internalOnly() : new ModuleRegistry(List.of(module()));
    }

    static IntStream seeds() {
        return IntStream.range(0, SEEDS);
    }

    @Test
    void declaresCodecsOfItsOwnModule() {
        GlouglouModule m = module();
        assertTrue(m.id() >= 0 && m.id() <= 255, "module id " + m.id());
        assertTrue(m.name().matches("[a-z][a-z0-9_-]*"), "module name " + m.name());
        assertFalse(m.codecs().isEmpty(), "a module has at least one event type");
        for (EventCodec<?> c : m.codecs()) {
            assertEquals(m.id(), c.type().moduleId(), c.type() + " belongs to another module");
            assertTrue(c.maxBodyLength() > 0 && c.maxBodyLength() <= ProtocolConstants.MAX_RECORD_BODY);
        }
        registry(); // refuses duplicate codes
    }

    /**
     * The module's test vectors (src/test/resources/vectors, written by its generator): every file passes, and
     * together they hold every event type of the module.
     */
    @Test
    void passesItsTestVectorsCoveringEveryType() {
        java.nio.file.Path dir = java.nio.file.Path.of("src/test/resources/vectors");
        assertTrue(java.nio.file.Files.isDirectory(dir), "a module ships test vectors in " + dir.toAbsolutePath());
        java.util.Set<String> seen = new java.util.TreeSet<>();
        TestVectors.files(dir).forEach(f -> {
            TestVectors.check(registry(), f);
            for (com.fasterxml.jackson.databind.JsonNode d : TestVectors.read(f).withArray("datagrams")) {
                d.path("expect").path("events").forEach(e -> seen.add(e.path("type").asText()));
            }
        });
        for (EventCodec<?> c : module().codecs()) {
            if (delivered(c)) {
                assertTrue(seen.contains(c.type().name()), "no test vector holds " + c.type());
            }
        }
    }

    @Test
    void isFoundByServiceLoader() {
        org.junit.jupiter.api.Assumptions.assumeTrue(module().id() != 0, "the internal module is built in");
        ModuleRegistry r = ModuleRegistry.load(getClass().getClassLoader());
        assertNotNull(r.moduleByName(module().name()), module().name() + " is not registered in META-INF/services");
    }

    @ParameterizedTest
    @MethodSource("seeds")
    void wireRoundTripOfEveryType(int seed) throws ProtocolException {
        Random rnd = new Random(seed);
        for (EventCodec<?> c : module().codecs()) {
            Event e = randomEvent(c, rnd);
            assertEquals(c.type(), e.type());
            ByteBuf buf = Unpooled.buffer();
            c.encodeAny(e, buf);
            assertTrue(buf.readableBytes() <= c.maxBodyLength(), c.type() + " wrote " + buf.readableBytes()
                    + " bytes, bound " + c.maxBodyLength());
            Event back = c.decode(buf);
            assertEquals(wireForm(e), back, c.type() + " seed " + seed);
            assertFalse(buf.isReadable(), c.type() + " left bytes unread");
        }
    }

    @ParameterizedTest
    @MethodSource("seeds")
    void jsonRoundTripOfEveryType(int seed) {
        Random rnd = new Random(seed);
        ModuleRegistry r = registry();
        for (EventCodec<?> c : module().codecs()) {
            TimedEvent te = new TimedEvent(1 + rnd.nextInt(1000), rnd.nextLong() >>> 12, randomEvent(c, rnd));
            ObjectNode json = JsonForm.toJson(r, te);
            assertEquals(module().name(), json.get("module").asText());
            assertEquals(c.type().name(), json.get("type").asText());
            assertEquals(te, JsonForm.fromJson(r, json), c.type() + " " + json);
            assertNotNull(c.toTextAny(te.event()));
        }
    }

    @ParameterizedTest
    @MethodSource("seeds")
    void packsIntoDatagramsAndDecodesInOrder(int seed) {
        Random rnd = new Random(seed);
        ModuleRegistry r = registry();
        List<EventCodec<?>> codecs = module().codecs().stream().filter(this::delivered).toList();
        List<TimedEvent> sent = new ArrayList<>();
        long t = 1_700_000_000_000_000L + rnd.nextInt(1_000_000);
        for (int i = 0; i < 40; i++) {
            t += rnd.nextInt(4) == 0 ? rnd.nextInt(5_000_000) : 0;
            sent.add(new TimedEvent(7, t, randomEvent(codecs.get(rnd.nextInt(codecs.size())), rnd)));
        }
        PayloadBuilder b = new PayloadBuilder(r, ProtocolConstants.MIN_MAX_DATAGRAM + rnd.nextInt(1000), 1000);
        List<TimedEvent> received = new ArrayList<>();
        RecordDecoder dec = new RecordDecoder(r);
        for (TimedEvent te : sent) {
            if (!b.add(te.timeMicros(), te.event())) {
                decodeInto(dec, b.finish(7, 1, 1, null), received);
                assertTrue(b.add(te.timeMicros(), te.event()));
            }
        }
        decodeInto(dec, b.finish(7, 1, 2, null), received);
        assertEquals(sent.size(), received.size());
        for (int i = 0; i < sent.size(); i++) {
            assertEquals(wireForm(sent.get(i).event()), received.get(i).event(), "event " + i);
            assertTrue(Math.abs(sent.get(i).timeMicros() - received.get(i).timeMicros()) < 1000, "time of " + i);
        }
    }

    private static void decodeInto(RecordDecoder dec, ByteBuf d, List<TimedEvent> out) {
        assertTrue(d.readableBytes() <= ProtocolConstants.MAX_DATAGRAM);
        long base = d.getLong(18);
        d.skipBytes(ProtocolConstants.HEADER_LENGTH);
        dec.decode(d, base, new RecordDecoder.Listener() {
            @Override
            public void onEvent(long t, Event e) {
                out.add(new TimedEvent(7, t, e));
            }

            @Override
            public void onSkipped(DropReason reason, String detail) {
                fail("skipped " + reason + ": " + detail);
            }
        });
    }

    @ParameterizedTest
    @MethodSource("seeds")
    void truncationsAndBitFlipsAreSkippedNeverThrown(int seed) {
        Random rnd = new Random(seed);
        RecordDecoder dec = new RecordDecoder(registry());
        for (EventCodec<?> c : module().codecs()) {
            ByteBuf body = Unpooled.buffer();
            c.encodeAny(randomEvent(c, rnd), body);
            byte[] b = new byte[body.readableBytes()];
            body.readBytes(b);
            for (int cut = 0; cut < b.length; cut++) {
                decodeRecord(dec, c, b, cut, -1, delivered(c));
            }
            for (int i = 0; i < 16 && b.length > 0; i++) {
                decodeRecord(dec, c, b, b.length, rnd.nextInt(b.length * 8), delivered(c));
            }
        }
    }

    private static void decodeRecord(RecordDecoder dec, EventCodec<?> c, byte[] body, int len, int flipBit,
            boolean delivered) {
        byte[] b = java.util.Arrays.copyOf(body, len);
        if (flipBit >= 0) {
            b[flipBit / 8] ^= (byte) (1 << (flipBit % 8));
        }
        ByteBuf rec = Unpooled.buffer();
        rec.writeByte(c.type().moduleId()).writeByte(c.type().code());
        org.glouglou.protocol.Varint.write(rec, b.length);
        rec.writeBytes(b);
        int[] outcomes = new int[1];
        dec.decode(rec, 0, new RecordDecoder.Listener() {
            @Override
            public void onEvent(long t, Event e) {
                outcomes[0]++;
            }

            @Override
            public void onSkipped(DropReason reason, String detail) {
                assertEquals(DropReason.MALFORMED_RECORD, reason, detail);
                outcomes[0]++;
            }
        });
        assertTrue(outcomes[0] > 0 || !delivered, "a record must yield events or a skip");
    }
}
