package org.glouglou.server.viz.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.glouglou.spi.graph.GraphElement;
import org.glouglou.spi.graph.GraphOp;
import org.graphstream.graph.Graph;
import org.graphstream.graph.implementations.DefaultGraph;
import org.graphstream.stream.netstream.NetStreamDecoder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 5, fan-out: an operation whose encoding is copied from another view's ({@link EncodedOps}) reads exactly as
 * if it had been encoded for this view: the same JSON bytes; NetStream frames that gs-core's own decoder turns into
 * the same graph, with time ids that still only grow along the stream (a copy gets fresh ones).
 */
class EncodedOpsTest {
    /** Random additions of nodes and edges, then changes of their attributes (with values added and removed). */
    static List<GraphOp> ops(Random r) {
        List<GraphOp> ops = new ArrayList<>();
        int n = 5 + r.nextInt(10);
        for (int i = 0; i < n; i++) {
            ops.add(new GraphOp.AddNode(new GraphElement.Node("10.0.0." + i, attrs(r))));
        }
        List<String> edges = new ArrayList<>();
        for (int i = 0; i < 2 * n; i++) {
            String a = "10.0.0." + r.nextInt(n);
            String b = "10.0.0." + r.nextInt(n);
            String id = a + "|" + b + "#" + i;
            edges.add(id);
            ops.add(new GraphOp.AddEdge(new GraphElement.Edge(id, a, b, r.nextBoolean(), attrs(r))));
        }
        for (int i = 0; i < 3 * n; i++) {
            Map<String, Object> was = attrs(r);
            Map<String, Object> set = new LinkedHashMap<>();
            set.put("bytes_ab", (long) r.nextInt(1 << 30));
            set.put(r.nextBoolean() ? "last_seen" : "new_key", (long) r.nextInt(1000));
            java.util.Set<String> removed = r.nextBoolean() ? java.util.Set.of("label") : java.util.Set.of();
            ops.add(r.nextBoolean()
                    ? new GraphOp.ChangeNode("10.0.0." + r.nextInt(n), set, was, removed)
                    : new GraphOp.ChangeEdge(edges.get(r.nextInt(edges.size())), set, was, removed));
        }
        return ops;
    }

    static Map<String, Object> attrs(Random r) {
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("label", "host" + r.nextInt(100) + ".example");
        a.put("bytes_ab", (long) r.nextInt(1 << 30));
        a.put("last_seen", 1763760000000L + r.nextInt(100000));
        a.put("protocols", new String[]{"tcp", "udp"});
        a.put("ports", new Long[]{53L, 443L});
        return a;
    }

    static byte[] encode(GraphFormatWriter w, List<GraphOp> ops, EncodedOps shared) {
        ByteBuf b = Unpooled.buffer();
        w.write(ops, b, shared);
        byte[] out = ByteBufUtil.getBytes(b);
        b.release();
        return out;
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3})
    void aCopiedJsonLineIsTheLineItself(long seed) {
        List<GraphOp> ops = ops(new Random(seed));
        EncodedOps shared = new EncodedOps();
        byte[] direct = encode(new GephiJsonWriter(), ops, null);
        byte[] first = encode(new GephiJsonWriter(), ops, shared);
        byte[] copied = encode(new GephiJsonWriter(), ops, shared);
        assertEquals(ops.size(), shared.hits(), "every operation of the second view was a copy");
        assertArrayEquals(direct, first);
        assertArrayEquals(direct, copied);
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3})
    void copiedNetStreamFramesDecodeToTheSameGraph(long seed) {
        List<GraphOp> ops = ops(new Random(seed));
        EncodedOps shared = new EncodedOps();
        NetStreamWriter viewer = new NetStreamWriter();
        byte[] direct = encode(new NetStreamWriter(), ops, null);
        byte[] first = encode(viewer, ops, shared);
        byte[] copied = encode(new NetStreamWriter(), ops, shared);
        assertTrue(shared.hits() == ops.size(), "every operation of the second view was a copy");
        Map<String, String> want = decode(direct);
        assertTrue(want.size() > 10 && want.values().stream().anyMatch(a -> a.contains("bytes_ab")),
                "decoded: " + want);
        assertEquals(want, decode(first));
        assertEquals(want, decode(copied));
        // one connection given the encoded and then the copied frames: time ids keep growing, nothing is dropped
        byte[] both = new byte[first.length + copied.length];
        System.arraycopy(first, 0, both, 0, first.length);
        System.arraycopy(copied, 0, both, first.length, copied.length);
        long last = -1;
        for (ByteBuffer f : frames(both)) {
            long t = timeOf(f);
            assertTrue(t > last, "time id " + t + " after " + last);
            last = t;
        }
    }

    static List<ByteBuffer> frames(byte[] stream) {
        List<ByteBuffer> out = new ArrayList<>();
        ByteBuffer b = ByteBuffer.wrap(stream);
        while (b.hasRemaining()) {
            int size = b.getInt(b.position());
            ByteBuffer f = b.slice(b.position(), size);
            out.add(f);
            b.position(b.position() + size);
        }
        return out;
    }

    static long timeOf(ByteBuffer frame) {
        ByteBuffer d = frame.duplicate();
        d.position(4);
        org.graphstream.stream.netstream.NetStreamUtils.decodeString(d);
        d.get();
        org.graphstream.stream.netstream.NetStreamUtils.decodeString(d);
        return org.graphstream.stream.netstream.NetStreamUtils.decodeUnsignedVarint(d);
    }

    /** The graph gs-core's decoder builds from the frames: each element with its attributes, as text. */
    static Map<String, String> decode(byte[] stream) {
        Graph g = new DefaultGraph("g", false, true);
        NetStreamDecoder d = new NetStreamDecoder();
        d.addSink(g);
        for (ByteBuffer f : frames(stream)) {
            d.decode(f);
        }
        Map<String, String> out = new TreeMap<>();
        g.nodes().forEach(n -> out.put("n " + n.getId(), attributes(n)));
        g.edges().forEach(e -> out.put("e " + e.getId() + " " + e.getSourceNode().getId() + ">" + e.getTargetNode()
                .getId() + " " + e.isDirected(), attributes(e)));
        return out;
    }

    static String attributes(org.graphstream.graph.Element e) {
        Map<String, String> a = new TreeMap<>();
        e.attributeKeys().forEach(k -> {
            Object v = e.getAttribute(k);
            a.put(k, v instanceof Object[] arr
                    ? java.util.Arrays.toString(arr)
                    : v instanceof long[] l
                            ? java.util.Arrays.toString(l)
                            : String.valueOf(v));
        });
        return a.toString();
    }
}
