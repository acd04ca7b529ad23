package org.glouglou.server.viz.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.glouglou.spi.graph.GraphElement;
import org.glouglou.spi.graph.GraphOp;
import org.graphstream.stream.netstream.NetStreamEncoder;
import org.graphstream.stream.netstream.NetStreamUtils;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 5: the attribute frames NetStreamWriter writes itself (the bulk of a snapshot) are, time ids aside, byte for
 * byte the frames gs-core 2.0's own {@link NetStreamEncoder} makes for the same events, for every kind of value the
 * graph holds (longs, negative ones included, doubles, booleans, strings, string and long arrays).
 */
class NetStreamWriterTest {
    /** The events as gs-core's encoder alone makes them (the writer's former way). */
    static byte[] reference(List<GraphOp> ops) {
        io.netty.buffer.ByteBuf out = io.netty.buffer.Unpooled.buffer();
        NetStreamEncoder enc = new NetStreamEncoder(NetStreamWriter.STREAM, b -> out.writeBytes(b));
        String src = NetStreamWriter.SOURCE;
        long[] t = {0};
        for (GraphOp op : ops) {
            if (op instanceof GraphOp.AddNode a) {
                GraphElement.Node n = a.node();
                enc.nodeAdded(src, ++t[0], n.id());
                n.attributes().forEach((k, v) -> enc.nodeAttributeAdded(src, ++t[0], n.id(), k, v));
            } else if (op instanceof GraphOp.ChangeNode c) {
                c.set().forEach((k, v) -> {
                    Object old = c.previous().get(k);
                    if (old == null) {
                        enc.nodeAttributeAdded(src, ++t[0], c.id(), k, v);
                    } else {
                        enc.nodeAttributeChanged(src, ++t[0], c.id(), k, old, v);
                    }
                });
                c.removed().forEach(k -> enc.nodeAttributeRemoved(src, ++t[0], c.id(), k));
            } else if (op instanceof GraphOp.AddEdge a) {
                GraphElement.Edge e = a.edge();
                enc.edgeAdded(src, ++t[0], e.id(), e.source(), e.target(), e.directed());
                e.attributes().forEach((k, v) -> enc.edgeAttributeAdded(src, ++t[0], e.id(), k, v));
            } else if (op instanceof GraphOp.ChangeEdge c) {
                c.set().forEach((k, v) -> {
                    Object old = c.previous().get(k);
                    if (old == null) {
                        enc.edgeAttributeAdded(src, ++t[0], c.id(), k, v);
                    } else {
                        enc.edgeAttributeChanged(src, ++t[0], c.id(), k, old, v);
                    }
                });
                c.removed().forEach(k -> enc.edgeAttributeRemoved(src, ++t[0], c.id(), k));
            }
        }
        byte[] b = io.netty.buffer.ByteBufUtil.getBytes(out);
        out.release();
        return b;
    }

    /** Each frame as its command and payload in hex, the size, stream, source and time id checked and dropped. */
    static List<String> frames(byte[] stream) {
        List<String> out = new ArrayList<>();
        for (ByteBuffer f : EncodedOpsTest.frames(stream)) {
            ByteBuffer d = f.duplicate();
            assertEquals(f.remaining(), d.getInt(), "frame size");
            assertEquals(NetStreamWriter.STREAM, NetStreamUtils.decodeString(d));
            int cmd = d.get() & 0xff;
            assertEquals(NetStreamWriter.SOURCE, NetStreamUtils.decodeString(d));
            NetStreamUtils.decodeUnsignedVarint(d);
            byte[] payload = new byte[d.remaining()];
            d.get(payload);
            out.add(cmd + ":" + HexFormat.of().formatHex(payload));
        }
        return out;
    }

    static List<GraphOp> ops(Random r) {
        List<GraphOp> ops = new ArrayList<>(EncodedOpsTest.ops(r));
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("rate", -r.nextInt(1 << 20) - 1L);
        a.put("weight", r.nextDouble());
        a.put("up", r.nextBoolean());
        a.put("big", Long.MAX_VALUE - r.nextInt(10));
        a.put("name", "ünïcödé-" + r.nextInt(10));
        ops.add(new GraphOp.AddNode(new GraphElement.Node("n-" + r.nextInt(100), a)));
        Map<String, Object> b = new LinkedHashMap<>(a);
        b.put("weight", r.nextDouble());
        b.put("rate", (long) r.nextInt());
        ops.add(new GraphOp.ChangeNode("n-x", b, a, Set.of()));
        return ops;
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 4})
    void framesAreGsCoresOwnTimeIdsAside(long seed) {
        List<GraphOp> ops = ops(new Random(seed));
        List<String> want = frames(reference(ops));
        List<String> got = frames(EncodedOpsTest.encode(new NetStreamWriter(), ops, null));
        assertTrue(want.size() > 50, "frames: " + want.size());
        assertEquals(want, got);
        // and when recorded for other views, then copied
        EncodedOps shared = new EncodedOps();
        EncodedOpsTest.encode(new NetStreamWriter(), ops, shared);
        assertEquals(want, frames(EncodedOpsTest.encode(new NetStreamWriter(), ops, shared)));
    }
}
