package org.glouglou.server.viz;

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
 * ({@link ViewerProjection}). Owned by the viewer thread: no locks.
 */
final class GraphModel {
    final Map<String, GraphElement> byKey = new HashMap<>();
    final Map<String, GraphElement.Node> nodes = new HashMap<>();
    final Map<String, GraphElement.Edge> edges = new HashMap<>();
    /** node id -> ids of the edges that name it. */
    final Map<String, Set<String>> adjacency = new HashMap<>();
    /** Ids changed since the last {@link #drainDirty}. */
    private Set<String> dirtyNodes = new HashSet<>();
    private Set<String> dirtyEdges = new HashSet<>();

    /** The changed ids since the last call: [nodes, edges]. */
    record Dirty(Set<String> nodes, Set<String> edges) {
        boolean isEmpty() {
            return nodes.isEmpty() && edges.isEmpty();
        }
    }

    Dirty drainDirty() {
        Dirty d = new Dirty(dirtyNodes, dirtyEdges);
        dirtyNodes = new HashSet<>();
        dirtyEdges = new HashSet<>();
        return d;
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
        if (old != null) {
            remove(old);
        }
        if (e != null) {
            byKey.put(key, e);
            if (e instanceof GraphElement.Node n) {
                nodes.put(n.id(), n);
                dirtyNodes.add(n.id());
            } else if (e instanceof GraphElement.Edge ed) {
                edges.put(ed.id(), ed);
                adjacency.computeIfAbsent(ed.source(), k -> new HashSet<>()).add(ed.id());
                adjacency.computeIfAbsent(ed.target(), k -> new HashSet<>()).add(ed.id());
                dirtyEdges.add(ed.id());
            }
        } else {
            byKey.remove(key);
        }
        return true;
    }

    private void remove(GraphElement old) {
        if (old instanceof GraphElement.Node n) {
            nodes.remove(n.id());
            dirtyNodes.add(n.id());
        } else if (old instanceof GraphElement.Edge ed) {
            edges.remove(ed.id());
            unlink(ed.source(), ed.id());
            unlink(ed.target(), ed.id());
            dirtyEdges.add(ed.id());
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
