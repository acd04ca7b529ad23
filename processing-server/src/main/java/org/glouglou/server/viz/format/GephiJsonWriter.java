package org.glouglou.server.viz.format;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.glouglou.spi.graph.GraphElement;
import org.glouglou.spi.graph.GraphOp;

/**
 * JSON lines in Gephi's graph-streaming event form (issue 5), one event per line: {@code {"an":{"ID":{attrs}}}},
 * {@code "cn"}, {@code "dn"}, {@code "ae"} (with {@code source}, {@code target}, {@code directed} among the
 * attributes), {@code "ce"}, {@code "de"}. A removed attribute is sent as null in a change. glouglou's own events:
 * {@code {"st":{"seq":N,"time":MS}}} ends each consistent step, {@code {"cg":{}}} clears the graph before a resync
 * snapshot, {@code {"notice":{"kind":K,"message":M}}} tells the viewer something; a Gephi reader ignores them.
 */
public final class GephiJsonWriter implements GraphFormatWriter {
    public static final String FORMAT = "json";
    private static final JsonFactory JSON = new JsonFactory();

    @Override
    public String format() {
        return FORMAT;
    }

    @Override
    public void write(List<GraphOp> ops, ByteBuf out, EncodedOps shared) {
        try (ByteBufOutputStream os = new ByteBufOutputStream(out);
                JsonGenerator g = JSON.createGenerator((java.io.OutputStream) os)) {
            g.configure(JsonGenerator.Feature.AUTO_CLOSE_TARGET, false);
            g.setRootValueSeparator(null); // one object a line, no space before the next
            for (GraphOp op : ops) {
                Object key = shared == null ? null : EncodedOps.keyOf(op);
                byte[] done = key == null ? null : shared.get(key);
                if (done != null) {
                    out.writeBytes(done); // the generator is flushed after every line: nothing of it is pending
                    continue;
                }
                int start = out.writerIndex();
                write(g, op);
                g.flush();
                os.write('\n');
                if (key != null) {
                    byte[] line = new byte[out.writerIndex() - start];
                    out.getBytes(start, line);
                    shared.put(key, line);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void write(JsonGenerator g, GraphOp op) throws IOException {
        g.writeStartObject();
        if (op instanceof GraphOp.AddNode a) {
            GraphElement.Node n = a.node();
            element(g, "an", n.id());
            attributes(g, n.attributes(), Set.of());
            end(g);
        } else if (op instanceof GraphOp.ChangeNode c) {
            element(g, "cn", c.id());
            attributes(g, c.set(), c.removed());
            end(g);
        } else if (op instanceof GraphOp.DeleteNode d) {
            element(g, "dn", d.id());
            end(g);
        } else if (op instanceof GraphOp.AddEdge a) {
            GraphElement.Edge e = a.edge();
            element(g, "ae", e.id());
            g.writeStringField("source", e.source());
            g.writeStringField("target", e.target());
            g.writeBooleanField("directed", e.directed());
            attributes(g, e.attributes(), Set.of());
            end(g);
        } else if (op instanceof GraphOp.ChangeEdge c) {
            element(g, "ce", c.id());
            attributes(g, c.set(), c.removed());
            end(g);
        } else if (op instanceof GraphOp.DeleteEdge d) {
            element(g, "de", d.id());
            end(g);
        } else if (op instanceof GraphOp.Clear) {
            g.writeObjectFieldStart("cg");
            g.writeEndObject();
        } else if (op instanceof GraphOp.Step s) {
            g.writeObjectFieldStart("st");
            g.writeNumberField("seq", s.seq());
            g.writeNumberField("time", s.timeMillis());
            g.writeEndObject();
        } else if (op instanceof GraphOp.Notice n) {
            g.writeObjectFieldStart("notice");
            g.writeStringField("kind", n.kind());
            g.writeStringField("message", n.message());
            g.writeEndObject();
        }
        g.writeEndObject();
    }

    private static void element(JsonGenerator g, String event, String id) throws IOException {
        g.writeObjectFieldStart(event);
        g.writeObjectFieldStart(id);
    }

    private static void end(JsonGenerator g) throws IOException {
        g.writeEndObject();
        g.writeEndObject();
    }

    private static void attributes(JsonGenerator g, Map<String, Object> attrs, Set<String> removed)
            throws IOException {
        for (Map.Entry<String, Object> e : attrs.entrySet()) {
            g.writeFieldName(e.getKey());
            value(g, e.getValue());
        }
        for (String r : removed) {
            g.writeNullField(r);
        }
    }

    static void value(JsonGenerator g, Object v) throws IOException {
        if (v instanceof String s) {
            g.writeString(s);
        } else if (v instanceof Long l) {
            g.writeNumber(l);
        } else if (v instanceof Double d) {
            g.writeNumber(d);
        } else if (v instanceof Boolean b) {
            g.writeBoolean(b);
        } else if (v instanceof Object[] a) {
            g.writeStartArray();
            for (Object o : a) {
                value(g, o);
            }
            g.writeEndArray();
        } else {
            g.writeNull();
        }
    }
}
