package org.glouglou.server.viz;

import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.glouglou.spi.graph.GraphAttributes;
import org.glouglou.spi.graph.GraphElement;

/**
 * The server's one copy of the live graph as Redis holds it (issue 5): one element per Redis key of a module's
 * {@code GraphSide}, kept current from keyspace notifications. Shared by all viewers, so a changed key is read once
 * whatever the number of viewers; each viewer projects it through its own filters and grouping
 * ({@link ViewerProjection}). Each node and edge id has a dense int index ({@link IdIndex}; a node id as long as a
 * node or an edge names it), the elements are also held in arrays by index, and the changes are handed out as
 * indices, so that the projections keep their per-element state in arrays. Owned by the viewer thread: no locks.
 */
final class GraphModel {
    final Map<String, GraphElement> byKey = new HashMap<>();
    final Map<String, GraphElement.Node> nodes = new HashMap<>();
    final Map<String, GraphElement.Edge> edges = new HashMap<>();
    /** node id -> ids of the edges that name it. */
    final Map<String, Set<String>> adjacency = new HashMap<>();
    final IdIndex nodeIds = new IdIndex();
    final IdIndex edgeIds = new IdIndex();
    /** node index -> the node (null: none, though edges may name it) */
    private GraphElement.Node[] nodeAt = new GraphElement.Node[1024];
    /** edge index -> the edge, and the node indices of its ends */
    private GraphElement.Edge[] edgeAt = new GraphElement.Edge[1024];
    private int[] edgeSource = new int[1024];
    private int[] edgeTarget = new int[1024];
    /** Node and edge indices changed since the last {@link #drainDirty}, with what changed in each. */
    private final Marks dirtyNodes = new Marks();
    private final Marks dirtyEdges = new Marks();

    /** Indices marked since the last drain, each once and in order, with the change bits of each, or-ed. */
    private static final class Marks {
        private final BitSet marked = new BitSet();
        private int[] list = new int[256];
        private int count;
        private byte[] change = new byte[1024];

        void mark(int i, int bits) {
            if (i >= change.length) {
                change = Arrays.copyOf(change, Math.max(i + 1, change.length * 2));
            }
            change[i] |= (byte) bits;
            if (!marked.get(i)) {
                marked.set(i);
                if (count == list.length) {
                    list = Arrays.copyOf(list, count * 2);
                }
                list[count++] = i;
            }
        }

        int[] indices() {
            return Arrays.copyOf(list, count);
        }

        /** The change bits of each index, in the order of {@link #indices}; then forgets them all. */
        byte[] drain() {
            byte[] out = new byte[count];
            for (int k = 0; k < count; k++) {
                out[k] = change[list[k]];
                change[list[k]] = 0;
            }
            marked.clear();
            count = 0;
            return out;
        }
    }

    /**
     * This tick's attribute changes of model elements, by the element now (identity), each with the attributes it
     * was compared with: a hosts-level view reuses one when it held the same previous element. Cleared at each drain.
     */
    final java.util.IdentityHashMap<GraphElement, org.glouglou.spi.graph.GraphOp> changes = new java.util.IdentityHashMap<>();

    /**
     * This tick's attribute differences of model elements, by the attributes now (identity), each with the attributes
     * it was compared with: every grouped view replaces a changed member's contribution to its group by the keys that
     * differ, found once for all of them. Cleared at each drain.
     */
    private final java.util.IdentityHashMap<Map<String, Object>, KeyDiff> keyDiffs = new java.util.IdentityHashMap<>();

    private record KeyDiff(Map<String, Object> was, String[] keys) {
    }

    /** The keys whose value differs from {@code was} to {@code now} (added, changed or removed). */
    String[] changedKeys(Map<String, Object> was, Map<String, Object> now) {
        KeyDiff d = keyDiffs.get(now);
        if (d != null && d.was() == was) {
            return d.keys();
        }
        java.util.List<String> keys = new java.util.ArrayList<>(4);
        for (Map.Entry<String, Object> e : now.entrySet()) {
            if (!AttributeValues.same(e.getValue(), was.get(e.getKey()))) {
                keys.add(e.getKey());
            }
        }
        for (String k : was.keySet()) {
            if (!now.containsKey(k)) {
                keys.add(k);
            }
        }
        String[] k = keys.toArray(new String[0]);
        keyDiffs.put(now, new KeyDiff(was, k));
        return k;
    }

    /** A change of existence, end nodes, module, address or name: what every view's filter state depends on. */
    static final int STRUCTURE = 1;
    /** A change of the probes list, the protocols list, the ports list, the byte total. */
    static final int PROBES = 2;
    static final int PROTOCOLS = 4;
    static final int PORTS = 8;
    static final int BYTES = 16;
    static final int ALL = 31;

    /**
     * The indices of the nodes and edges changed since the previous drain (added, changed or removed), and for each
     * what changed ({@link #STRUCTURE}, ...): a view whose filters read none of it skips an element it does not show
     * without reading it.
     */
    record Dirty(int[] nodes, byte[] nodeChanges, int[] edges, byte[] edgeChanges) {
        boolean isEmpty() {
            return nodes.length == 0 && edges.length == 0;
        }
    }

    /**
     * The changes since the last call. Indices freed before the previous call are given back now
     * ({@link IdIndex#recycle}): every projection must apply each drained {@link Dirty} before the model changes again.
     */
    Dirty drainDirty() {
        int[] n = dirtyNodes.indices();
        byte[] nc = dirtyNodes.drain();
        int[] e = dirtyEdges.indices();
        byte[] ec = dirtyEdges.drain();
        changes.clear();
        keyDiffs.clear();
        nodeIds.recycle();
        edgeIds.recycle();
        return new Dirty(n, nc, e, ec);
    }

    /** The node at index {@code i}, or null. */
    GraphElement.Node node(int i) {
        return i < nodeAt.length ? nodeAt[i] : null;
    }

    /** The edge at index {@code i}, or null. */
    GraphElement.Edge edge(int i) {
        return i < edgeAt.length ? edgeAt[i] : null;
    }

    /** The node index of the source of the edge at index {@code i} (valid while it exists). */
    int edgeSource(int i) {
        return edgeSource[i];
    }

    int edgeTarget(int i) {
        return edgeTarget[i];
    }

    /** Sets what {@code key} holds now; null when the key is gone. Returns true when the graph changed. */
    boolean apply(String key, String module, GraphElement e) {
        if (e != null) {
            e = withModule(e, module);
        }
        GraphElement old = byKey.get(key);
        if (old != null && e != null && sameElement(old, e)) {
            return false;
        }
        if (old == null && e == null) {
            return false;
        }
        int change = old == null || e == null ? ALL : changeOf(old, e);
        // a new version of the same element (the common case) takes its place as it stands: its index, adjacency
        // and the counts of its ends' indices stay
        boolean inPlace = old != null && e != null && sameIdentity(old, e);
        if (old != null && !inPlace) {
            remove(old, change);
        }
        if (e != null) {
            byKey.put(key, e);
            if (e instanceof GraphElement.Node n) {
                nodes.put(n.id(), n);
                int i = inPlace ? nodeIds.find(n.id()) : nodeIds.acquire(n.id());
                if (i >= nodeAt.length) {
                    nodeAt = Arrays.copyOf(nodeAt, Math.max(i + 1, nodeAt.length * 2));
                }
                nodeAt[i] = n;
                dirtyNodes.mark(i, change);
            } else if (e instanceof GraphElement.Edge ed) {
                edges.put(ed.id(), ed);
                int i = inPlace ? edgeIds.find(ed.id()) : edgeIds.acquire(ed.id());
                if (i >= edgeAt.length) {
                    int len = Math.max(i + 1, edgeAt.length * 2);
                    edgeAt = Arrays.copyOf(edgeAt, len);
                    edgeSource = Arrays.copyOf(edgeSource, len);
                    edgeTarget = Arrays.copyOf(edgeTarget, len);
                }
                edgeAt[i] = ed;
                if (!inPlace) {
                    adjacency.computeIfAbsent(ed.source(), k -> new HashSet<>()).add(ed.id());
                    adjacency.computeIfAbsent(ed.target(), k -> new HashSet<>()).add(ed.id());
                    edgeSource[i] = nodeIds.acquire(ed.source());
                    edgeTarget[i] = nodeIds.acquire(ed.target());
                }
                dirtyEdges.mark(i, change);
            }
        } else {
            byKey.remove(key);
        }
        return true;
    }

    /** Same kind and id, and for an edge the same ends: {@code b} can take {@code a}'s place as it stands. */
    static boolean sameIdentity(GraphElement a, GraphElement b) {
        return a.getClass() == b.getClass() && a.id().equals(b.id()) && (!(a instanceof GraphElement.Edge x)
                || x.source().equals(((GraphElement.Edge) b).source()) && x.target().equals(((GraphElement.Edge) b)
                        .target()));
    }

    /** What differs between two versions of an element (the bits of {@link Dirty}). */
    static int changeOf(GraphElement a, GraphElement b) {
        if (a.getClass() != b.getClass() || !a.id().equals(b.id())) {
            return ALL;
        }
        Map<String, Object> x = a.attributes();
        Map<String, Object> y = b.attributes();
        int c = 0;
        if (!AttributeValues.same(x.get(GraphAttributes.MODULE), y.get(GraphAttributes.MODULE))
                || !AttributeValues.same(x.get(GraphAttributes.ADDR), y.get(GraphAttributes.ADDR))
                || !AttributeValues.same(x.get(GraphAttributes.NAME), y.get(GraphAttributes.NAME))) {
            c |= STRUCTURE;
        }
        if (a instanceof GraphElement.Edge p && b instanceof GraphElement.Edge q && (!p.source().equals(q.source())
                || !p.target().equals(q.target()) || p.directed() != q.directed())) {
            c |= STRUCTURE;
        }
        if (!AttributeValues.same(x.get(GraphAttributes.PROBES), y.get(GraphAttributes.PROBES))) {
            c |= PROBES;
        }
        if (!AttributeValues.same(x.get(GraphAttributes.PROTOCOLS), y.get(GraphAttributes.PROTOCOLS))) {
            c |= PROTOCOLS;
        }
        if (!AttributeValues.same(x.get(GraphAttributes.PORTS), y.get(GraphAttributes.PORTS))) {
            c |= PORTS;
        }
        if (!AttributeValues.same(x.get(GraphAttributes.BYTES), y.get(GraphAttributes.BYTES))) {
            c |= BYTES;
        }
        return c;
    }

    private void remove(GraphElement old, int change) {
        if (old instanceof GraphElement.Node n) {
            nodes.remove(n.id());
            int i = nodeIds.find(n.id());
            nodeAt[i] = null;
            nodeIds.releaseRef(i);
            dirtyNodes.mark(i, change);
        } else if (old instanceof GraphElement.Edge ed) {
            edges.remove(ed.id());
            unlink(ed.source(), ed.id());
            unlink(ed.target(), ed.id());
            int i = edgeIds.find(ed.id());
            edgeAt[i] = null;
            nodeIds.releaseRef(edgeSource[i]);
            nodeIds.releaseRef(edgeTarget[i]);
            edgeIds.releaseRef(i);
            dirtyEdges.mark(i, change);
        }
    }

    private void unlink(String node, String edge) {
        Set<String> s = adjacency.get(node);
        if (s != null) {
            s.remove(edge);
            if (s.isEmpty()) {
                adjacency.remove(node);
            }
        }
    }

    /** Replaces the whole content with a fresh snapshot; only what differs becomes dirty. */
    void replaceAll(Map<String, Map.Entry<String, GraphElement>> fresh) {
        for (String k : new HashSet<>(byKey.keySet())) {
            if (!fresh.containsKey(k)) {
                apply(k, null, null);
            }
        }
        fresh.forEach((k, me) -> apply(k, me.getKey(), me.getValue()));
    }

    Set<String> edgesOf(String node) {
        Set<String> s = adjacency.get(node);
        return s == null ? Set.of() : s;
    }

    static GraphElement withModule(GraphElement e, String module) {
        if (module == null || module.equals(e.attributes().get(GraphAttributes.MODULE))) {
            return e;
        }
        Map<String, Object> a = new LinkedHashMap<>(e.attributes());
        a.put(GraphAttributes.MODULE, module);
        if (e instanceof GraphElement.Node n) {
            return new GraphElement.Node(n.id(), a);
        }
        GraphElement.Edge ed = (GraphElement.Edge) e;
        return new GraphElement.Edge(ed.id(), ed.source(), ed.target(), ed.directed(), a);
    }

    static boolean sameElement(GraphElement a, GraphElement b) {
        if (a.getClass() != b.getClass() || !a.id().equals(b.id())) {
            return false;
        }
        if (a instanceof GraphElement.Edge x && b instanceof GraphElement.Edge y && (!x.source().equals(y.source())
                || !x.target().equals(y.target()) || x.directed() != y.directed())) {
            return false;
        }
        return AttributeValues.sameMap(a.attributes(), b.attributes());
    }
}
