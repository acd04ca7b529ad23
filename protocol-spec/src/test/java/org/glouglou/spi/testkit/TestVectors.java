package org.glouglou.spi.testkit;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.glouglou.protocol.DatagramHeader;
import org.glouglou.protocol.Hex;
import org.glouglou.protocol.PayloadBuilder;
import org.glouglou.protocol.ProtocolConstants;
import org.glouglou.protocol.ProtocolException;
import org.glouglou.protocol.RecordDecoder;
import org.glouglou.protocol.crypto.ReplayWindow;
import org.glouglou.protocol.crypto.SessionCipher;
import org.glouglou.spi.Event;
import org.glouglou.spi.JsonForm;
import org.glouglou.spi.ModuleRegistry;
import org.glouglou.spi.TimedEvent;

/**
 * Runs the wire-protocol test vectors (spec appendix A): JSON files, each a sequence of datagrams in hex with what a
 * receiver must make of them (header, events in their JSON form, skipped records by reason, or the reason the whole
 * datagram is dropped). Sealed vectors give the receiving key; datagrams of one file share one anti-replay window.
 * Vectors marked {@code "canonical": true} must also be what the encoder produces, byte for byte.
 */
public final class TestVectors {
    private TestVectors() {
    }

    /** The vector files under a directory (test resources), sorted. */
    public static Stream<Path> files(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(".json")).sorted().toList().stream();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static ObjectNode read(Path file) {
        try {
            return (ObjectNode) JsonForm.MAPPER.readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Checks every datagram of the vector file against its expectation. */
    public static void check(ModuleRegistry registry, Path file) {
        ObjectNode v = read(file);
        String name = file.getFileName().toString();
        SessionCipher cipher = v.has("key") ? new SessionCipher(Hex.decode(v.get("key").asText())) : null;
        ReplayWindow window = new ReplayWindow();
        RecordDecoder decoder = new RecordDecoder(registry);
        int i = 0;
        for (JsonNode d : v.withArray("datagrams")) {
            String where = name + " datagram " + i++;
            ByteBuf buf = Unpooled.wrappedBuffer(Hex.decode(d.get("hex").asText()));
            JsonNode expect = d.get("expect");
            Outcome got = receive(decoder, cipher, window, buf);
            if (expect.has("error")) {
                assertEquals(expect.get("error").asText(), got.error, where + ": " + got.detail);
                continue;
            }
            assertNull(got.error, where + " was dropped: " + got.detail);
            JsonNode h = expect.get("header");
            if (h != null) {
                assertEquals(h.get("flags").asInt(), got.header.flags(), where + " flags");
                assertEquals(h.get("probe").asLong(), got.header.probeId(), where + " probe");
                assertEquals(h.get("session").asLong(), got.header.sessionId(), where + " session");
                assertEquals(h.get("sequence").asLong(), got.header.sequence(), where + " sequence");
                assertEquals(h.get("base_time").asLong(), got.header.baseTimeMicros(), where + " base time");
            }
            ArrayNode events = JsonForm.MAPPER.createArrayNode();
            for (TimedEvent te : got.events) {
                events.add(JsonForm.toJson(registry, te));
            }
            // compare as parsed text: the writer's int and long nodes differ in type, not in value
            assertEquals(expect.withArray("events").toString(), reparse(events), where + " events");
            List<String> skipped = new ArrayList<>();
            expect.withArray("skipped").forEach(s -> skipped.add(s.asText()));
            assertEquals(skipped, got.skipped, where + " skipped records");
            if (d.path("canonical").asBoolean()) {
                assertArrayEquals(Hex.decode(d.get("hex").asText()), encode(registry, got, v.has("key")
                        ? new SessionCipher(Hex.decode(v.get("key").asText()))
                        : null), where
                                + " is not what the encoder writes");
            }
        }
    }

    private static String reparse(ArrayNode a) {
        try {
            return JsonForm.MAPPER.readTree(a.toString()).toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** What a receiver makes of one datagram. */
    public static final class Outcome {
        public DatagramHeader header;
        public String error;
        public String detail;
        public final List<TimedEvent> events = new ArrayList<>();
        public final List<String> skipped = new ArrayList<>();
    }

    public static Outcome receive(RecordDecoder decoder, SessionCipher cipher, ReplayWindow window, ByteBuf buf) {
        Outcome o = new Outcome();
        try {
            DatagramHeader h = DatagramHeader.read(buf.duplicate());
            o.header = h;
            if (h.sealed()) {
                if (cipher == null) {
                    o.error = "unsealed_refused";
                    o.detail = "no key for a sealed datagram";
                    return o;
                }
                if (!window.check(h.sequence())) {
                    o.error = "replayed";
                    o.detail = "sequence " + h.sequence();
                    return o;
                }
                cipher.open(buf);
                window.update(h.sequence());
            }
            buf.skipBytes(ProtocolConstants.HEADER_LENGTH);
            decoder.decode(buf, h.baseTimeMicros(), new RecordDecoder.Listener() {
                @Override
                public void onEvent(long t, Event e) {
                    o.events.add(new TimedEvent(h.probeId(), t, e));
                }

                @Override
                public void onSkipped(org.glouglou.protocol.DropReason r, String detail) {
                    o.skipped.add(r.label());
                }
            });
        } catch (ProtocolException e) {
            o.error = e.reason().label();
            o.detail = e.getMessage();
        }
        return o;
    }

    /** Re-encodes a decoded datagram with the reference encoder. */
    public static byte[] encode(ModuleRegistry registry, Outcome o, SessionCipher cipher) {
        PayloadBuilder b = new PayloadBuilder(registry, ProtocolConstants.MAX_DATAGRAM, 1000);
        for (TimedEvent te : o.events) {
            assertTrue(b.add(te.timeMicros(), te.event()));
        }
        ByteBuf out = b.finish(o.header.probeId(), o.header.sessionId(), o.header.sequence(), o.header.sealed()
                ? cipher
                : null);
        byte[] bytes = new byte[out.readableBytes()];
        out.readBytes(bytes);
        return bytes;
    }
}
