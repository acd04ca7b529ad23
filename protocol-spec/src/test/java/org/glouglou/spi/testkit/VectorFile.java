package org.glouglou.spi.testkit;

import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.glouglou.protocol.Hex;
import org.glouglou.protocol.PayloadBuilder;
import org.glouglou.protocol.ProtocolConstants;
import org.glouglou.protocol.crypto.SessionCipher;
import org.glouglou.spi.JsonForm;
import org.glouglou.spi.ModuleRegistry;
import org.glouglou.spi.TimedEvent;

/**
 * Writes a test-vector file (the generators use it once; the files are then data under version control). The
 * expected events of a good datagram are the events that were encoded, so a decoder is checked against its input,
 * never against itself; a malformed datagram states its expected drop reason literally.
 */
public final class VectorFile {
    private final ModuleRegistry registry;
    private final ObjectNode root = JsonForm.MAPPER.createObjectNode();
    private final ArrayNode datagrams;
    private final byte[] key;

    public VectorFile(ModuleRegistry registry, String description, byte[] key) {
        this.registry = registry;
        root.put("description", description);
        if (key != null) {
            root.put("key", Hex.encode(key));
        }
        this.key = key;
        datagrams = root.putArray("datagrams");
    }

    /** Encodes events into one datagram (sealed if the file has a key) and returns its bytes. */
    public byte[] encode(long probe, long session, long seq, List<TimedEvent> events) {
        PayloadBuilder b = new PayloadBuilder(registry, ProtocolConstants.MAX_DATAGRAM, 1000);
        for (TimedEvent te : events) {
            if (!b.add(te.timeMicros(), te.event())) {
                throw new IllegalArgumentException("vector does not fit one datagram");
            }
        }
        // a new cipher each time: vectors may seal one sequence number twice, which a live sender never does
        ByteBuf out = b.finish(probe, session, seq, key == null ? null : new SessionCipher(key));
        byte[] bytes = new byte[out.readableBytes()];
        out.readBytes(bytes);
        return bytes;
    }

    /** A good datagram: the receiver must deliver exactly {@code events}. */
    public byte[] good(String comment, long probe, long session, long seq, List<TimedEvent> events) {
        byte[] bytes = encode(probe, session, seq, events);
        ObjectNode d = add(comment, bytes, true);
        ObjectNode e = d.putObject("expect");
        e.putObject("header").put("flags", key == null ? 0 : 1).put("probe", probe).put("session", session)
                .put("sequence", seq).put("base_time", events.get(0).timeMicros());
        ArrayNode a = e.putArray("events");
        for (TimedEvent te : events) {
            a.add(JsonForm.toJson(registry, new TimedEvent(probe, te.timeMicros(), te.event())));
        }
        e.putArray("skipped");
        return bytes;
    }

    /** A datagram dropped whole, with the reason's label. */
    public void dropped(String comment, byte[] bytes, String reason) {
        add(comment, bytes, false).putObject("expect").put("error", reason);
    }

    /** A datagram some of whose records are skipped: delivers {@code events}, skips records for {@code skipped}. */
    public void partial(String comment, byte[] bytes, long probe, List<TimedEvent> events, List<String> skipped) {
        ObjectNode e = add(comment, bytes, false).putObject("expect");
        ArrayNode a = e.putArray("events");
        for (TimedEvent te : events) {
            a.add(JsonForm.toJson(registry, new TimedEvent(probe, te.timeMicros(), te.event())));
        }
        ArrayNode s = e.putArray("skipped");
        skipped.forEach(s::add);
    }

    private ObjectNode add(String comment, byte[] bytes, boolean canonical) {
        ObjectNode d = datagrams.addObject();
        d.put("comment", comment);
        d.put("hex", Hex.encode(bytes));
        if (canonical) {
            d.put("canonical", true);
        }
        return d;
    }

    public void write(Path file) {
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, JsonForm.MAPPER.copy().enable(SerializationFeature.INDENT_OUTPUT)
                    .writeValueAsString(root) + "\n");
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
    }
}
