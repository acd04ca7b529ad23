package org.glouglou.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.glouglou.viewer.ViewerConnection;
import org.glouglou.viewer.ViewerTrust;
import org.graphstream.graph.Edge;
import org.graphstream.graph.Graph;
import org.graphstream.graph.Node;
import org.graphstream.graph.implementations.DefaultGraph;
import org.graphstream.stream.netstream.NetStreamConstants;
import org.graphstream.stream.netstream.NetStreamDecoder;
import org.graphstream.stream.netstream.NetStreamUtils;

/**
 * A viewer for the tests (issue 5): connects through the client library ({@link ViewerConnection}, real TLS with a
 * pinned fingerprint), and applies what it reads: NetStream frames with gs-core's own {@link NetStreamDecoder} into a
 * GraphStream graph, JSON lines into maps, as a Gephi-streaming reader would. At every step marker it records a
 * summary (node ids; per edge pkts/bytes per direction), so tests compare only consistent states.
 */
final class TestViewer implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();

    /** Node ids and, per edge id, [pkts_ab, bytes_ab, pkts_ba, bytes_ba] (plus source, target as the key order). */
    record Summary(Set<String> nodes, Map<String, List<Long>> edges) {
    }

    final ViewerConnection conn;
    final String format;
    private final Graph graph = new DefaultGraph("viewer", true, false);
    private final NetStreamDecoder decoder = new NetStreamDecoder();
    private final Map<String, Map<String, Object>> nodes = new HashMap<>();
    private final Map<String, Map<String, Object>> edges = new HashMap<>();
    final List<String> notices = Collections.synchronizedList(new ArrayList<>());
    volatile Summary summary;
    volatile long seq;
    volatile long steps;
    volatile String closedWith;
    volatile boolean paused;
    private final Thread reader;

    TestViewer(int port, String fingerprint, String format, JsonNode config) throws IOException {
        this.conn = ViewerConnection.open("127.0.0.1", port, ViewerTrust.pin(fingerprint), "alice", "correct horse",
                false, 5000);
        this.format = format;
        decoder.addSink(graph);
        ObjectNode c = config == null ? JSON.createObjectNode() : (ObjectNode) config.deepCopy();
        c.put("format", format);
        conn.sendConfig(c);
        reader = new Thread(this::run, "test-viewer-" + format);
        reader.setDaemon(true);
        reader.start();
    }

    void configure(JsonNode config) throws IOException {
        ObjectNode c = (ObjectNode) config.deepCopy();
        c.put("format", format);
        conn.sendConfig(c);
    }

    private void run() {
        try {
            while (true) {
                while (paused) {
                    Thread.sleep(20);
                }
                Object item = conn.next();
                if (item instanceof ByteBuffer b) {
                    frame(b);
                } else {
                    line((String) item);
                }
            }
        } catch (Exception e) {
            closedWith = e.getMessage() == null ? e.toString() : e.getMessage();
        }
    }

    private void frame(ByteBuffer b) {
        ByteBuffer d = b.duplicate();
        d.position(4);
        NetStreamUtils.decodeString(d);
        int cmd = d.get() & 0xff;
        decoder.decode(b);
        if (cmd == (NetStreamConstants.EVENT_STEP & 0xff)) {
            seq = (long) graph.getStep();
            step();
        } else if (cmd == (NetStreamConstants.EVENT_ADD_GRAPH_ATTR & 0xff)) {
            Object n = graph.getAttribute("gg.notice");
            if (n != null) {
                notices.add(String.valueOf(n).split(":")[0]);
            }
        }
    }

    private void line(String l) throws IOException {
        JsonNode m = JSON.readTree(l);
        Iterator<Map.Entry<String, JsonNode>> it = m.fields();
        Map.Entry<String, JsonNode> e = it.next();
        JsonNode v = e.getValue();
        switch (e.getKey()) {
            case "an", "cn" -> v.fields().forEachRemaining(x -> merge(nodes, x.getKey(), x.getValue()));
            case "ae", "ce" -> v.fields().forEachRemaining(x -> merge(edges, x.getKey(), x.getValue()));
            case "dn" -> v.fieldNames().forEachRemaining(nodes::remove);
            case "de" -> v.fieldNames().forEachRemaining(edges::remove);
            case "cg" -> {
                nodes.clear();
                edges.clear();
            }
            case "notice" -> notices.add(v.path("kind").asText());
            case "st" -> {
                seq = v.path("seq").asLong();
                step();
            }
            default -> {
            }
        }
    }

    private static void merge(Map<String, Map<String, Object>> m, String id, JsonNode attrs) {
        Map<String, Object> a = m.computeIfAbsent(id, k -> new HashMap<>());
        attrs.fields().forEachRemaining(f -> {
            if (f.getValue().isNull()) {
                a.remove(f.getKey());
            } else {
                a.put(f.getKey(), f.getValue().isNumber() ? (Object) f.getValue().asLong() : f.getValue().asText());
            }
        });
    }

    private long lastSummaryNanos;

    /** Summaries of a large graph cost the reader time: at most one every 300 ms (heartbeat steps follow anyway). */
    private void step() {
        steps++;
        if (System.nanoTime() - lastSummaryNanos < 300_000_000L) {
            return;
        }
        lastSummaryNanos = System.nanoTime();
        Set<String> n = new TreeSet<>();
        Map<String, List<Long>> ed = new TreeMap<>();
        if (format.equals("netstream")) {
            for (Node x : graph) {
                n.add(x.getId());
            }
            graph.edges().forEach((Edge x) -> ed.put(x.getId(), List.of(num(x.getAttribute("pkts_ab")), num(x
                    .getAttribute("bytes_ab")), num(x.getAttribute("pkts_ba")), num(x.getAttribute("bytes_ba")))));
        } else {
            n.addAll(nodes.keySet());
            edges.forEach((id, a) -> ed.put(id, List.of(num(a.get("pkts_ab")), num(a.get("bytes_ab")), num(a.get(
                    "pkts_ba")), num(a.get("bytes_ba")))));
        }
        summary = new Summary(n, ed);
    }

    /** The attributes of a node as last received (JSON viewers only). */
    Map<String, Object> node(String id) {
        return nodes.get(id);
    }

    /** The attributes of an edge as last received (JSON viewers only). */
    Map<String, Object> edge(String id) {
        return edges.get(id);
    }

    private static long num(Object o) {
        return o instanceof Number x ? x.longValue() : 0;
    }

    /** A viewer users file holding alice, the user every TestViewer logs in as ("correct horse"). */
    static java.nio.file.Path aliceUsers() throws IOException {
        java.nio.file.Path users = java.nio.file.Files.createTempFile("gg-viewers", ".txt");
        java.nio.file.Files.writeString(users, "alice " + org.glouglou.server.viz.ViewerUsers.hash("correct horse")
                + "\n");
        return users;
    }

    /**
     * Waits up to {@code wait} ms for this viewer to hold {@code want} at a step, then asserts it. On a mismatch the
     * message says what the hub of {@code s} holds and what {@code redis} holds, and the first differing edges are
     * printed as this viewer and as Redis hold them: which side is wrong.
     */
    void converge(Summary want, String what, org.glouglou.server.viz.ViewerServer s, long wait,
            io.lettuce.core.cluster.api.sync.RedisClusterCommands<String, String> redis) throws InterruptedException {
        IngestFixture.waitFor(() -> want.equals(summary), wait);
        Summary got = summary;
        org.junit.jupiter.api.Assertions.assertTrue(got != null, what + ": no step received (closed with "
                + closedWith + ")");
        if (!want.equals(got)) {
            what += " [hub: model " + s.hub().modelNodes() + " nodes " + s.hub().modelEdges() + " edges, " + s.hub()
                    .notifications() + " notifications, " + s.hub().keysRead() + " keys read, last tick "
                    + s.hub()
                            .lastTickNanos() / 1_000_000
                    + " ms; Redis " + GroundTruth.hosts(redis).size()
                    + " hosts; notices " + notices + "]";
            String at = what;
            got.edges().entrySet().stream().filter(e -> !e.getValue().equals(want.edges().get(e.getKey()))).limit(5)
                    .forEach(e -> System.err.println(at + ": edge " + e.getKey() + " viewer " + edge(e.getKey())
                            + " Redis " + redis.hgetall("gg:link:" + e.getKey())));
        }
        GroundTruth.assertSame(want.nodes(), got.nodes(), what + ": nodes");
        GroundTruth.assertSame(want.edges(), got.edges(), what + ": edges with per-direction totals");
    }

    /** What the ground truth implies for hosts and host pairs. */
    static Summary expected(Set<String> hosts, Map<String, GroundTruth.LinkTotals> links) {
        Map<String, List<Long>> e = new TreeMap<>();
        links.forEach((k, t) -> e.put(k.substring("gg:link:".length()), List.of(t.pab(), t.bab(), t.pba(), t
                .bba())));
        return new Summary(new TreeSet<>(hosts), e);
    }

    @Override
    public void close() throws IOException {
        conn.close();
    }
}
