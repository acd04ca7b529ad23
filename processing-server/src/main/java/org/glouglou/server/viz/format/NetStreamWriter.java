package org.glouglou.server.viz.format;

import io.netty.buffer.ByteBuf;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.glouglou.spi.graph.GraphElement;
import org.glouglou.spi.graph.GraphOp;
import org.graphstream.stream.netstream.NetStreamEncoder;

/**
 * GraphStream NetStream frames (issue 5), made by gs-core 2.0's own {@link NetStreamEncoder} so that gs-core's
 * {@code NetStreamDecoder} reads them into a graph: each frame is an int32 big-endian size (itself included), the
 * stream id, the command, the source id, the time id and the payload. Time ids grow with every frame over the whole
 * connection, because a GraphStream graph drops an event whose time id it has already seen from that source. A step
 * is {@code stepBegins} with the sequence number as its time; a resync is {@code graphCleared}; a notice is the graph
 * attribute {@code gg.notice} ("kind: message").
 */
public final class NetStreamWriter implements GraphFormatWriter {
    public static final String FORMAT = "netstream";
    /** The stream id in every frame. */
    public static final String STREAM = "glouglou";
    /** The source id in every frame. */
    public static final String SOURCE = "glouglou-server";
    public static final String NOTICE_ATTRIBUTE = "gg.notice";

    /**
     * Time ids come from one counter for the whole server, not one per connection: the same encoded diff is written
     * to several viewers (issue 5, fan-out), and each of them must still see ids that only grow. Gaps are harmless.
     */
    private static final AtomicLong TIME = new AtomicLong();

    private ByteBuf out;
    private final NetStreamEncoder encoder = new NetStreamEncoder(STREAM, b -> out.writeBytes(b));

    @Override
    public String format() {
        return FORMAT;
    }

    @Override
    public void write(List<GraphOp> ops, ByteBuf target) {
        this.out = target;
        try {
            for (GraphOp op : ops) {
                write(op);
            }
        } finally {
            this.out = null;
        }
    }

    private void write(GraphOp op) {
        if (op instanceof GraphOp.AddNode a) {
            GraphElement.Node n = a.node();
            encoder.nodeAdded(SOURCE, TIME.incrementAndGet(), n.id());
            n.attributes().forEach((k, v) -> encoder.nodeAttributeAdded(SOURCE, TIME.incrementAndGet(), n.id(), k, v));
        } else if (op instanceof GraphOp.ChangeNode c) {
            Map<String, Object> prev = c.previous();
            c.set().forEach((k, v) -> {
                Object old = prev == null ? null : prev.get(k);
                if (old == null) {
                    encoder.nodeAttributeAdded(SOURCE, TIME.incrementAndGet(), c.id(), k, v);
                } else {
                    encoder.nodeAttributeChanged(SOURCE, TIME.incrementAndGet(), c.id(), k, old, v);
                }
            });
            c.removed().forEach(k -> encoder.nodeAttributeRemoved(SOURCE, TIME.incrementAndGet(), c.id(), k));
        } else if (op instanceof GraphOp.DeleteNode d) {
            encoder.nodeRemoved(SOURCE, TIME.incrementAndGet(), d.id());
        } else if (op instanceof GraphOp.AddEdge a) {
            GraphElement.Edge e = a.edge();
            encoder.edgeAdded(SOURCE, TIME.incrementAndGet(), e.id(), e.source(), e.target(), e.directed());
            e.attributes().forEach((k, v) -> encoder.edgeAttributeAdded(SOURCE, TIME.incrementAndGet(), e.id(), k, v));
        } else if (op instanceof GraphOp.ChangeEdge c) {
            Map<String, Object> prev = c.previous();
            c.set().forEach((k, v) -> {
                Object old = prev == null ? null : prev.get(k);
                if (old == null) {
                    encoder.edgeAttributeAdded(SOURCE, TIME.incrementAndGet(), c.id(), k, v);
                } else {
                    encoder.edgeAttributeChanged(SOURCE, TIME.incrementAndGet(), c.id(), k, old, v);
                }
            });
            c.removed().forEach(k -> encoder.edgeAttributeRemoved(SOURCE, TIME.incrementAndGet(), c.id(), k));
        } else if (op instanceof GraphOp.DeleteEdge d) {
            encoder.edgeRemoved(SOURCE, TIME.incrementAndGet(), d.id());
        } else if (op instanceof GraphOp.Clear) {
            encoder.graphCleared(SOURCE, TIME.incrementAndGet());
        } else if (op instanceof GraphOp.Step s) {
            encoder.stepBegins(SOURCE, TIME.incrementAndGet(), s.seq());
        } else if (op instanceof GraphOp.Notice n) {
            encoder.graphAttributeAdded(SOURCE, TIME.incrementAndGet(), NOTICE_ATTRIBUTE,
                    n.kind() + ": " + n.message());
        }
    }
}
