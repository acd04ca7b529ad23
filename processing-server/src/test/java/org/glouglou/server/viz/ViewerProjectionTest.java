package org.glouglou.server.viz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.glouglou.module.network.graph.NetworkGraphSide;
import org.glouglou.spi.graph.GraphElement;
import org.glouglou.spi.graph.GraphOp;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Issue 5 (fan-out performance): the incremental projection, however the model changes between ticks, leaves a
 * viewer holding exactly what a fresh projection of the same model shows, for every filter and level of detail;
 * and the operations come in a safe order (an edge is added only between nodes the viewer holds). Seeded random
 * changes: nodes and edges added, changed (attributes, probes, names, bytes) and removed.
 */
class ViewerProjectionTest {
    static final NetworkGraphSide SIDE = new NetworkGraphSide();

    static ViewerConfig config(List<Cidr> addresses, Set<Long> ports, Set<String> protocols, Set<String> probes,
            long minBytes, ViewerConfig.Level level) {
        return new ViewerConfig("json", Set.of(), addresses, ports, protocols, probes, minBytes, level, 24, 64, 2);
    }

    static Stream<Arguments> configs() {
        List<Cidr> net = List.of(new Cidr(new byte[]{10, 0, 1, 0}, 24));
        return Stream.of(
                Arguments.of("all", config(List.of(), Set.of(), Set.of(), Set.of(), 0, ViewerConfig.Level.HOSTS)),
                Arguments.of("address", config(net, Set.of(), Set.of(), Set.of(), 0, ViewerConfig.Level.HOSTS)),
                Arguments.of("tcp", config(List.of(), Set.of(), Set.of("tcp"), Set.of(), 0, ViewerConfig.Level.HOSTS)),
                Arguments.of("port", config(List.of(), Set.of(443L), Set.of(), Set.of(), 0, ViewerConfig.Level.HOSTS)),
                Arguments.of("probe", config(List.of(), Set.of(), Set.of(), Set.of("8"), 0, ViewerConfig.Level.HOSTS)),
                Arguments.of("min_bytes", config(List.of(), Set.of(), Set.of(), Set.of(), 500_000,
                        ViewerConfig.Level.HOSTS)),
                Arguments.of("subnet", config(List.of(), Set.of(), Set.of(), Set.of(), 0, ViewerConfig.Level.SUBNET)),
                Arguments.of("subnet+address+udp", config(net, Set.of(), Set.of("udp"), Set.of(), 0,
                        ViewerConfig.Level.SUBNET)),
                Arguments.of("domain+min_bytes", config(List.of(), Set.of(), Set.of(), Set.of(), 300_000,
                        ViewerConfig.Level.DOMAIN)));
    }

    /** A viewer's graph as it applies operations, checking their order. */
    static final class Held {
        final Map<String, Map<String, Object>> nodes = new TreeMap<>();
        final Map<String, Map<String, Object>> edges = new TreeMap<>();

        void apply(List<GraphOp> ops) {
            for (GraphOp op : ops) {
                if (op instanceof GraphOp.AddNode a) {
                    assertFalse(nodes.containsKey(a.node().id()), "node added twice: " + a.node().id());
                    nodes.put(a.node().id(), norm(a.node().attributes()));
                } else if (op instanceof GraphOp.ChangeNode c) {
                    assertTrue(nodes.containsKey(c.id()), "change of an absent node " + c.id());
                    nodes.get(c.id()).putAll(norm(c.set()));
                    c.removed().forEach(nodes.get(c.id())::remove);
                } else if (op instanceof GraphOp.DeleteNode d) {
                    assertTrue(nodes.containsKey(d.id()), "delete of an absent node " + d.id());
                    nodes.remove(d.id());
                    for (Map<String, Object> e : edges.values()) {
                        assertFalse(e.get("@s").equals(d.id()) || e.get("@t").equals(d.id()),
                                "node deleted under an edge " + d.id());
                    }
                } else if (op instanceof GraphOp.AddEdge a) {
                    assertFalse(edges.containsKey(a.edge().id()), "edge added twice: " + a.edge().id());
                    assertTrue(nodes.containsKey(a.edge().source()) && nodes.containsKey(a.edge().target()),
                            "edge added before its nodes: " + a.edge().id());
                    Map<String, Object> m = norm(a.edge().attributes());
                    m.put("@s", a.edge().source());
                    m.put("@t", a.edge().target());
                    edges.put(a.edge().id(), m);
                } else if (op instanceof GraphOp.ChangeEdge c) {
                    assertTrue(edges.containsKey(c.id()), "change of an absent edge " + c.id());
                    edges.get(c.id()).putAll(norm(c.set()));
                    c.removed().forEach(edges.get(c.id())::remove);
                } else if (op instanceof GraphOp.DeleteEdge d) {
                    assertTrue(edges.containsKey(d.id()), "delete of an absent edge " + d.id());
                    edges.remove(d.id());
                } else if (op instanceof GraphOp.Clear) {
                    nodes.clear();
                    edges.clear();
                }
            }
        }

        static Map<String, Object> norm(Map<String, Object> a) {
            Map<String, Object> m = new HashMap<>();
            a.forEach((k, v) -> m.put(k, v instanceof Object[] arr ? Arrays.asList(arr) : v));
            return m;
        }
    }

    static String addr(int i) {
        return i % 7 == 6 ? "192.168.9." + i : "10.0." + (i % 3) + "." + i;
    }

    static Map<String, String> node(Random r, int i) {
        Map<String, String> h = new LinkedHashMap<>();
        if (r.nextInt(3) > 0) {
            h.put("name", "h" + i + ".d" + r.nextInt(3) + ".example");
        }
        h.put("first_seen", "1000");
        h.put("last_seen", String.valueOf(2000 + r.nextInt(1000)));
        h.put("seen." + (7 + r.nextInt(2)), "1");
        return h;
    }

    static Map<String, String> link(Random r) {
        Map<String, String> h = new LinkedHashMap<>();
        long ab = r.nextInt(1_000_000);
        long ba = r.nextInt(1_000_000);
        h.put("bytes_ab", String.valueOf(ab));
        h.put("bytes_ba", String.valueOf(ba));
        h.put("pkts_ab", String.valueOf(ab / 500));
        h.put("pkts_ba", String.valueOf(ba / 500));
        h.put(r.nextBoolean() ? "proto.tcp" : "proto.udp", String.valueOf(ab + ba));
        h.put("port." + (r.nextBoolean() ? 443 : 53), "1");
        h.put("seen." + (7 + r.nextInt(2)), "1");
        h.put("first_seen", String.valueOf(1000 + r.nextInt(100)));
        h.put("last_seen", String.valueOf(2000 + r.nextInt(1000)));
        return h;
    }

    static void setNode(GraphModel m, Random r, int i) {
        String k = "gg:node:" + addr(i);
        m.apply(k, "network", SIDE.element(k, node(r, i)));
    }

    static void setLink(GraphModel m, Random r, int a, int b) {
        String k = "gg:link:" + addr(Math.min(a, b)) + "|" + addr(Math.max(a, b));
        m.apply(k, "network", SIDE.element(k, link(r)));
    }

    static Held fresh(GraphModel m, ViewerConfig c) {
        Held h = new Held();
        h.apply(new ViewerProjection(m, c).drain());
        return h;
    }

    /** A model of {@code nodes} random nodes and {@code links} random links between them, drained. */
    static GraphModel seeded(Random r, int nodes, int links) {
        GraphModel m = new GraphModel();
        for (int i = 0; i < nodes; i++) {
            setNode(m, r, i);
        }
        for (int i = 0; i < links; i++) {
            setLink(m, r, r.nextInt(nodes), r.nextInt(nodes));
        }
        m.drainDirty();
        return m;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void incrementalEqualsFresh(String name, ViewerConfig c) {
        for (long seed = 1; seed <= 5; seed++) {
            Random r = new Random(seed);
            int n = 40;
            GraphModel m = seeded(r, n, 120);
            ViewerProjection p = new ViewerProjection(m, c);
            Held held = new Held();
            held.apply(p.drain());
            for (int round = 0; round < 40; round++) {
                int changes = 1 + r.nextInt(15);
                for (int k = 0; k < changes; k++) {
                    int what = r.nextInt(10);
                    int i = r.nextInt(n);
                    if (what < 3) {
                        setNode(m, r, i); // attributes, name (domain group), probes change
                    } else if (what == 3) {
                        m.apply("gg:node:" + addr(i), null, null);
                    } else if (what < 8) {
                        setLink(m, r, i, r.nextInt(n));
                    } else {
                        List<String> links = new ArrayList<>(m.edges.keySet());
                        if (!links.isEmpty()) {
                            m.apply("gg:link:" + links.get(r.nextInt(links.size())), null, null);
                        }
                    }
                }
                GraphModel.Dirty d = m.drainDirty();
                p.update(d);
                held.apply(p.drain());
                Held want = fresh(m, c);
                assertEquals(want.nodes, held.nodes, name + " seed " + seed + " round " + round + ": nodes");
                assertEquals(want.edges, held.edges, name + " seed " + seed + " round " + round + ": edges");
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void configurationChangeSendsExactlyTheDifference(String name, ViewerConfig c) {
        Random r = new Random(42);
        GraphModel m = seeded(r, 30, 80);
        ViewerProjection p = new ViewerProjection(m, ViewerConfig.all("json"));
        Held held = new Held();
        held.apply(p.drain());
        p.reset(c);
        held.apply(p.drain());
        Held want = fresh(m, c);
        assertEquals(want.nodes, held.nodes, name);
        assertEquals(want.edges, held.edges, name);
        p.forgetSent();
        Held again = new Held();
        again.apply(p.drain());
        assertEquals(want.nodes, again.nodes, name + " after forgetSent");
        assertEquals(want.edges, again.edges, name + " after forgetSent");
    }

    /** A link whose totals, packets and last_seen change, nothing a filter reads but min_bytes (change mask BYTES). */
    static void bumpLink(GraphModel m, Random r, String id) {
        GraphElement.Edge e = m.edges.get(id);
        if (e == null) {
            return;
        }
        Map<String, String> h = new LinkedHashMap<>();
        Map<String, Object> a = e.attributes();
        long ab = (Long) a.getOrDefault(org.glouglou.spi.graph.GraphAttributes.BYTES_AB, 0L) + r.nextInt(400_000);
        long ba = (Long) a.getOrDefault(org.glouglou.spi.graph.GraphAttributes.BYTES_BA, 0L);
        h.put("bytes_ab", String.valueOf(ab));
        h.put("bytes_ba", String.valueOf(ba));
        h.put("pkts_ab", String.valueOf(ab / 400));
        for (Object p : (Object[]) a.getOrDefault(org.glouglou.spi.graph.GraphAttributes.PROTOCOLS, new Object[0])) {
            h.put("proto." + p, "1");
        }
        for (Object p : (Object[]) a.getOrDefault(org.glouglou.spi.graph.GraphAttributes.PORTS, new Object[0])) {
            h.put("port." + p, "1");
        }
        for (Object p : (Object[]) a.getOrDefault(org.glouglou.spi.graph.GraphAttributes.PROBES, new Object[0])) {
            h.put("seen." + p, "1");
        }
        h.put("last_seen", String.valueOf(3000 + r.nextInt(1000)));
        String k = "gg:link:" + id;
        m.apply(k, "network", SIDE.element(k, h));
    }

    /** A link first written without totals (a new connection), as the ingest side does before the first counters. */
    static void bareLink(GraphModel m, Random r, int a, int b) {
        Map<String, String> h = new LinkedHashMap<>();
        h.put(r.nextBoolean() ? "proto.tcp" : "proto.udp", "0");
        h.put("port." + (r.nextBoolean() ? 443 : 53), "1");
        h.put("seen.7", "1");
        h.put("last_seen", "2000");
        String k = "gg:link:" + addr(Math.min(a, b)) + "|" + addr(Math.max(a, b));
        m.apply(k, "network", SIDE.element(k, h));
    }

    /**
     * The change-aware path (GraphModel records what changed; a view skips or re-sends without re-evaluating) under
     * the changes it skips most (totals, packets, last_seen only; links first written without totals), with
     * configuration changes made between two drains of the model, as a viewer's configuration message arrives
     * between two ticks: after each tick the viewer holds exactly what a fresh projection shows.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void changeMaskAcrossConfigurationChanges(String name, ViewerConfig c) {
        List<ViewerConfig> others = configs().map(x -> (ViewerConfig) x.get()[1]).toList();
        for (long seed = 1; seed <= 4; seed++) {
            Random r = new Random(seed);
            int n = 40;
            GraphModel m = seeded(r, n, 100);
            ViewerProjection p = new ViewerProjection(m, c);
            Held held = new Held();
            held.apply(p.drain());
            for (int round = 0; round < 40; round++) {
                int changes = 1 + r.nextInt(20);
                for (int k = 0; k < changes; k++) {
                    int what = r.nextInt(12);
                    int i = r.nextInt(n);
                    List<String> links = new ArrayList<>(m.edges.keySet());
                    if (what < 6 && !links.isEmpty()) {
                        bumpLink(m, r, links.get(r.nextInt(links.size())));
                    } else if (what == 6) {
                        bareLink(m, r, i, r.nextInt(n));
                    } else if (what == 7) {
                        setNode(m, r, i);
                    } else if (what == 8) {
                        m.apply("gg:node:" + addr(i), null, null);
                    } else if (what == 9 && !links.isEmpty()) {
                        m.apply("gg:link:" + links.get(r.nextInt(links.size())), null, null);
                    } else {
                        setLink(m, r, i, r.nextInt(n));
                    }
                    if (r.nextInt(60) == 0) {
                        // a configuration message between two ticks: the model holds changes not drained yet
                        p.reset(others.get(r.nextInt(others.size())));
                        held.apply(p.drain());
                    }
                }
                GraphModel.Dirty d = m.drainDirty();
                p.update(d);
                held.apply(p.drain());
                Held want = fresh(m, p.config());
                assertEquals(want.nodes, held.nodes, name + " seed " + seed + " round " + round + ": nodes");
                assertEquals(want.edges, held.edges, name + " seed " + seed + " round " + round + ": edges");
            }
        }
    }

    /**
     * The running merge of a group (sums and counts taken back, extremes recomputed only when the last member at
     * the extreme gives it back, list values counted) equals a full merge of the current members after any sequence
     * of members joining, changing (ties at the extreme included), leaving, and being seen the other way round.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "seed {0}")
    @org.junit.jupiter.params.provider.ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8})
    void runningMergeEqualsFullMerge(long seed) {
        Random r = new Random(seed);
        ViewerProjection.Running run = new ViewerProjection.Running();
        Map<Integer, Map<String, Object>> members = new HashMap<>();
        Map<Integer, Boolean> flips = new HashMap<>();
        for (int step = 0; step < 3000; step++) {
            int m = r.nextInt(12);
            Map<String, Object> was = members.get(m);
            Boolean wasFlip = flips.get(m);
            if (r.nextInt(4) == 0) {
                if (was != null) {
                    run.remove(was, wasFlip);
                    members.remove(m);
                }
            } else {
                Map<String, Object> a = new LinkedHashMap<>();
                a.put("bytes_ab", (long) r.nextInt(1000));
                if (r.nextBoolean()) {
                    a.put("bytes_ba", (long) r.nextInt(1000));
                }
                a.put("first_seen", (long) (100 + r.nextInt(4))); // ties at the minimum
                a.put("last_seen", (long) (200 + r.nextInt(4)));
                if (r.nextBoolean()) {
                    a.put("hops", (long) r.nextInt(3));
                }
                a.put("label", "x" + r.nextInt(3)); // not merged
                List<String> protos = new ArrayList<>();
                for (String p : List.of("tcp", "udp", "icmp")) {
                    if (r.nextInt(3) == 0) {
                        protos.add(p);
                    }
                }
                if (!protos.isEmpty()) {
                    a.put("protocols", protos.toArray(String[]::new));
                }
                if (r.nextBoolean()) {
                    a.put("ports", new Long[]{(long) r.nextInt(3), 443L});
                }
                boolean flip = r.nextInt(3) == 0;
                int how = r.nextInt(3);
                if (was == null) {
                    run.add(a, flip);
                } else if (how == 0) {
                    run.remove(was, wasFlip);
                    run.add(a, flip);
                } else {
                    // the member's contribution replaced: by comparing every key, or by the keys found to differ
                    run.replace(was, wasFlip, a, flip, how == 1 ? null : new GraphModel().changedKeys(was, a));
                }
                members.put(m, a);
                flips.put(m, flip);
            }
            if (members.isEmpty()) {
                continue;
            }
            ViewerProjection.Aggregate full = new ViewerProjection.Aggregate();
            members.forEach((k, a) -> full.add(a, flips.get(k)));
            Map<String, Object> got = run.result(new java.util.HashSet<>(members.keySet()), members::get, flips::get);
            assertEquals(Held.norm(full.result()), Held.norm(got), "seed " + seed + " step " + step);
        }
    }
}
