package org.glouglou.server.viz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lettuce.core.RedisURI;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import org.glouglou.server.viz.format.GephiJsonWriter;
import org.glouglou.spi.ModuleRegistry;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 5, slow viewers: whatever ticks a viewer's socket is full for (a few: its changes coalesce in its backlog;
 * {@link ViewerSession#SLOW_TICKS} or more: a resync snapshot), and whatever configuration changes it makes meanwhile,
 * after the next tick it can take, the graph it holds (decoded from the JSON lines it was sent, in order) is exactly
 * what a fresh projection of the model shows; viewers sharing its view and always reading hold the same at every
 * tick. The real {@link ViewerHub#fanOut}, sessions and writer, on Netty channels whose writability the test sets.
 */
class ViewerSessionTest {
    static final ObjectMapper JSON = new ObjectMapper();

    /** A channel that is writable when the test says so; what is written stays queued until the test reads it. */
    static final class Socket extends EmbeddedChannel {
        volatile boolean writable = true;

        @Override
        public boolean isWritable() {
            return writable && super.isWritable();
        }
    }

    /** A JSON viewer's graph, built as a Gephi streaming reader would; an event for an absent element fails. */
    static final class Client {
        final Map<String, Map<String, Object>> nodes = new TreeMap<>();
        final Map<String, Map<String, Object>> edges = new TreeMap<>();
        final List<String> notices = new ArrayList<>();
        long steps;

        /** Bytes of a line not ended yet: a tick's bytes are written in pieces, which may cut a line. */
        private final ByteBuf partial = Unpooled.buffer();

        void read(EmbeddedChannel ch) throws Exception {
            Object o;
            while ((o = ch.readOutbound()) != null) {
                ByteBuf b = (ByteBuf) o;
                try {
                    partial.writeBytes(b);
                } finally {
                    b.release();
                }
            }
            int nl;
            while ((nl = partial.indexOf(partial.readerIndex(), partial.writerIndex(), (byte) '\n')) >= 0) {
                String line = partial.readCharSequence(nl - partial.readerIndex(), StandardCharsets.UTF_8).toString();
                partial.skipBytes(1);
                if (!line.isEmpty()) {
                    line(line);
                }
            }
            partial.discardReadBytes();
        }

        void line(String l) throws Exception {
            JsonNode m = JSON.readTree(l);
            String event = m.fieldNames().next();
            JsonNode v = m.get(event);
            switch (event) {
                case "an", "ae" -> v.fields().forEachRemaining(x -> {
                    Map<String, Map<String, Object>> into = event.equals("an") ? nodes : edges;
                    assertFalse(into.containsKey(x.getKey()), event + " of a held element " + x.getKey());
                    if (event.equals("ae")) {
                        assertTrue(nodes.containsKey(x.getValue().get("source").asText()) && nodes.containsKey(x
                                .getValue().get("target").asText()), "edge before its nodes: " + x.getKey());
                    }
                    into.put(x.getKey(), new TreeMap<>());
                    merge(into.get(x.getKey()), x.getValue());
                });
                case "cn", "ce" -> v.fields().forEachRemaining(x -> {
                    Map<String, Object> a = (event.equals("cn") ? nodes : edges).get(x.getKey());
                    assertTrue(a != null, event + " of an element the viewer does not hold: " + x.getKey());
                    merge(a, x.getValue());
                });
                case "dn", "de" -> v.fieldNames().forEachRemaining(id -> assertTrue((event.equals("dn")
                        ? nodes
                        : edges).remove(id) != null, event + " of an element the viewer does not hold: " + id));
                case "cg" -> {
                    nodes.clear();
                    edges.clear();
                }
                case "notice" -> notices.add(v.path("kind").asText());
                case "st" -> steps++;
                case "ok" -> {
                }
                default -> throw new AssertionError("unknown event " + l);
            }
        }

        static void merge(Map<String, Object> a, JsonNode attrs) {
            attrs.fields().forEachRemaining(f -> {
                if (f.getValue().isNull()) {
                    a.remove(f.getKey());
                } else {
                    a.put(f.getKey(), f.getValue().toString());
                }
            });
        }
    }

    /** What a viewer of {@code c} should hold: a fresh projection's snapshot, through the same writer and reader. */
    static Client fresh(GraphModel m, ViewerConfig c) throws Exception {
        ByteBuf b = Unpooled.buffer();
        new GephiJsonWriter().write(new ViewerProjection(m, c).drain(), b);
        Client want = new Client();
        for (String line : b.toString(StandardCharsets.UTF_8).split("\n")) {
            if (!line.isEmpty()) {
                want.line(line);
            }
        }
        b.release();
        return want;
    }

    static ViewerConfig config(List<Cidr> addresses, Set<String> protocols, long minBytes, ViewerConfig.Level l) {
        return new ViewerConfig("json", Set.of(), addresses, Set.of(), protocols, Set.of(), minBytes, l, 24, 64, 2);
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 4, 5, 6})
    void aViewerThatFallsBehindCatchesUpExactly(long seed) throws Exception {
        List<ViewerConfig> configs = List.of(config(List.of(), Set.of(), 0, ViewerConfig.Level.HOSTS), config(List
                .of(new Cidr(new byte[]{10, 0, 1, 0}, 24)), Set.of(), 0, ViewerConfig.Level.HOSTS),
                config(List.of(), Set
                        .of("tcp"), 300_000, ViewerConfig.Level.HOSTS),
                config(List.of(), Set.of(), 0,
                        ViewerConfig.Level.SUBNET));
        Random r = new Random(seed);
        int n = 40;
        ViewerHub hub = new ViewerHub(RedisURI.create("redis://127.0.0.1:1"), ModuleRegistry.load(), 100);
        try {
            GraphModel m = hub.model();
            for (int i = 0; i < n; i++) {
                ViewerProjectionTest.setNode(m, r, i);
            }
            for (int i = 0; i < 100; i++) {
                ViewerProjectionTest.setLink(m, r, r.nextInt(n), r.nextInt(n));
            }
            // viewers 0 and 1 always read; viewer 2 shares their view but falls behind; viewer 3 falls behind and
            // changes its configuration meanwhile
            int viewers = 4;
            Socket[] socks = new Socket[viewers];
            Client[] clients = new Client[viewers];
            ViewerSession[] sessions = new ViewerSession[viewers];
            ViewerConfig[] cfg = new ViewerConfig[viewers];
            for (int v = 0; v < viewers; v++) {
                socks[v] = new Socket();
                clients[v] = new Client();
                sessions[v] = new ViewerSession(hub, socks[v], "v" + v);
                cfg[v] = configs.get(v < 3 ? 0 : 1);
                sessions[v].configure(cfg[v]);
            }
            int[] blockedFor = new int[viewers];
            int resyncs = 0;
            int backlogs = 0;
            for (int tick = 0; tick < 300; tick++) {
                if (r.nextInt(15) == 0) {
                    // a configuration message between two ticks, taken whether or not the socket is full
                    cfg[3] = configs.get(r.nextInt(configs.size()));
                    sessions[3].configure(cfg[3]);
                }
                int changes = r.nextInt(12);
                for (int k = 0; k < changes; k++) {
                    int what = r.nextInt(12);
                    int i = r.nextInt(n);
                    List<String> links = new ArrayList<>(m.edges.keySet());
                    if (what < 5 && !links.isEmpty()) {
                        ViewerProjectionTest.bumpLink(m, r, links.get(r.nextInt(links.size())));
                    } else if (what == 5) {
                        ViewerProjectionTest.bareLink(m, r, i, r.nextInt(n));
                    } else if (what == 6) {
                        ViewerProjectionTest.setNode(m, r, i);
                    } else if (what == 7) {
                        m.apply("gg:node:" + ViewerProjectionTest.addr(i), null, null);
                    } else if (what == 8 && !links.isEmpty()) {
                        m.apply("gg:link:" + links.get(r.nextInt(links.size())), null, null);
                    } else {
                        ViewerProjectionTest.setLink(m, r, i, r.nextInt(n));
                    }
                }
                for (int v = 2; v < viewers; v++) {
                    if (blockedFor[v] > 0) {
                        blockedFor[v]--;
                    } else if (r.nextInt(8) == 0) {
                        // a full socket for a few ticks (backlog), or long enough for a resync
                        blockedFor[v] = r.nextInt(4) == 0
                                ? ViewerSession.SLOW_TICKS + r.nextInt(5)
                                : 1 + r.nextInt(
                                        8);
                        if (blockedFor[v] >= ViewerSession.SLOW_TICKS) {
                            resyncs++;
                        } else {
                            backlogs++;
                        }
                    }
                    socks[v].writable = blockedFor[v] == 0;
                }
                hub.fanOut(null, 1000L + tick);
                for (int v = 0; v < viewers; v++) {
                    if (!socks[v].writable) {
                        continue;
                    }
                    String at = "seed " + seed + " tick " + tick + " viewer " + v;
                    try {
                        clients[v].read(socks[v]);
                    } catch (AssertionError e) {
                        throw new AssertionError(at + ": " + e.getMessage(), e);
                    }
                    Client want = fresh(m, cfg[v]);
                    assertEquals(want.nodes, clients[v].nodes, at + ": nodes");
                    assertEquals(want.edges, clients[v].edges, at + ": edges");
                }
            }
            assertTrue(resyncs > 0 && backlogs > 0, "both slow paths taken: " + resyncs + " resyncs, " + backlogs
                    + " backlogs");
            assertTrue(clients[2].notices.contains("slow_viewer"), "told: " + clients[2].notices);
            assertFalse(clients[0].notices.contains("slow_viewer"), "the reading viewers were not resynced");
        } finally {
            hub.close();
        }
    }
}
