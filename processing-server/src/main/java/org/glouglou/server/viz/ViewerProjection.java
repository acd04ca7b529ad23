package org.glouglou.server.viz;

import static org.glouglou.spi.graph.GraphAttributes.*;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.glouglou.spi.graph.GraphElement;
import org.glouglou.spi.graph.GraphOp;

/**
 * One viewer's view of the shared {@link GraphModel} (issue 5): its filters and level of detail applied, and what it
 * holds. Kept incrementally: a changed model element re-evaluates only the output elements it belongs to, and
 * {@link #drain} sends the difference between what the viewer should hold and what it holds. A configuration change
 * is a {@link #reset} followed by the same difference, so the viewer gets exactly what changed.
 *
 * <p>
 * Rules: an edge passes when both its end nodes exist, its module is selected, it carries a selected protocol, port
 * and probe (each filter only when given), has at least {@code min_bytes}, and one of its ends matches the address
 * filter. A node is shown when it ends a shown edge, or, when no edge filter (ports, protocols, min_bytes) is given,
 * when it matches the address and probe filters itself. Grouping maps each node to an output node (its /24 or /64,
 * its registered domain, or itself); edges between the same two groups merge, edges inside a group are not drawn.
 * Totals are summed, first seen is the minimum, last seen the maximum, lists are united; per-direction values of an
 * edge whose ends the group edge sees the other way round are swapped. Owned by the viewer thread.
 */
final class ViewerProjection {
    private final GraphModel model;
    private ViewerConfig config;

    /**
     * Input node index ({@link GraphModel#nodeIds}) -> its cached filter state (output node id, address match), for
     * the nodes of the selected modules: a node change re-evaluates its edges only when one of these flips, never for
     * a mere attribute change. Arrays by model index: no id is hashed per element and per projection.
     */
    private NodeState[] nodeOut = new NodeState[0];
    /** output node id -> the input node indices grouped into it */
    private final Map<String, MemberSet> nodeMembers = new HashMap<>();
    /**
     * Grouped levels: output node id -> the running merge of its members, and per input element the attributes it
     * added there (and, for an edge, whether seen the other way round): a changed member takes back its old
     * contribution and adds its new one, O(its attributes) instead of re-merging the whole group at each change.
     */
    private final Map<String, Running> nodeRunning = new HashMap<>();
    @SuppressWarnings("unchecked")
    private Map<String, Object>[] nodeAdded = new Map[0];
    @SuppressWarnings("unchecked")
    private Map<String, Object>[] edgeAdded = new Map[0];
    private boolean[] edgeFlip = new boolean[0];
    /** Per input edge: directed when it joined its output edge (see {@link OutEdge#directed}). */
    private boolean[] edgeDirected = new boolean[0];
    /** input edge index -> output edge id, for input edges that pass */
    private String[] edgeOut = new String[0];
    private final Map<String, OutEdge> outEdges = new HashMap<>();
    /** shown edges per output node */
    private final Map<String, Integer> degree = new HashMap<>();

    private final Map<String, GraphElement.Node> sentNodes = new HashMap<>();
    private final Map<String, GraphElement.Edge> sentEdges = new HashMap<>();
    private Set<String> pendingNodes = new HashSet<>();
    private Set<String> pendingEdges = new HashSet<>();

    /** What the filters and the grouping made of one input node; immutable, replaced when it changes. */
    private record NodeState(String group, boolean addressMatch, Object addr, Object name) {
    }

    private static final class OutEdge {
        final String source;
        final String target;
        /** input edge indices */
        final MemberSet members = new MemberSet();
        /** grouped levels: the running merge of the members */
        final Running running = new Running();
        /** Members that are directed: the output edge is directed when one is (no scan of the members). */
        int directed;

        OutEdge(String source, String target) {
            this.source = source;
            this.target = target;
        }
    }

    ViewerProjection(GraphModel model, ViewerConfig config) {
        this.model = model;
        reset(config);
    }

    ViewerConfig config() {
        return config;
    }

    /** Applies a new configuration; the next {@link #drain} sends exactly the difference. */
    @SuppressWarnings("unchecked")
    void reset(ViewerConfig c) {
        this.config = c;
        pendingNodes.addAll(sentNodes.keySet());
        pendingEdges.addAll(sentEdges.keySet());
        nodeOut = new NodeState[model.nodeIds.bound()];
        nodeMembers.clear();
        nodeRunning.clear();
        nodeAdded = new Map[model.nodeIds.bound()];
        edgeAdded = new Map[model.edgeIds.bound()];
        edgeFlip = new boolean[model.edgeIds.bound()];
        edgeOut = new String[model.edgeIds.bound()];
        edgeDirected = new boolean[model.edgeIds.bound()];
        outEdges.clear();
        degree.clear();
        update(live(model.nodeIds, model::node), live(model.edgeIds, model::edge));
    }

    private static int[] live(IdIndex ids, java.util.function.IntFunction<GraphElement> at) {
        int[] out = new int[ids.bound()];
        int n = 0;
        for (int i = 0; i < ids.bound(); i++) {
            if (at.apply(i) != null) {
                out[n++] = i;
            }
        }
        return java.util.Arrays.copyOf(out, n);
    }

    /** Forgets what the viewer holds: the next {@link #drain} is a full snapshot (after a Clear). */
    void forgetSent() {
        sentNodes.clear();
        sentEdges.clear();
        pendingNodes = new HashSet<>(nodeMembers.keySet());
        pendingEdges = new HashSet<>(outEdges.keySet());
    }

    int pending() {
        return pendingNodes.size() + pendingEdges.size();
    }

    int shownNodes() {
        return sentNodes.size();
    }

    int shownEdges() {
        return sentEdges.size();
    }

    /**
     * Re-evaluates the output elements that the changed model elements (by index, {@link GraphModel.Dirty}) belong
     * to: O(1) per changed element at the hosts level (O(group) at drain time when grouped), array look-ups only for
     * an element this view does not show and that stays so; the edges of a changed node only when its own filter
     * state (existence, module, group, address match) flipped.
     */
    void update(GraphModel.Dirty d) {
        update(d.nodes(), d.nodeChanges(), d.edges(), d.edgeChanges());
    }

    /** The same, every element taken as changed in every way. */
    void update(int[] dirtyNodes, int[] dirtyEdges) {
        update(dirtyNodes, null, dirtyEdges, null);
    }

    private void update(int[] dirtyNodes, byte[] nodeChanges, int[] dirtyEdges, byte[] edgeChanges) {
        // what this view's filters read: a change of anything else leaves an element's pass or fail as it was
        int nodeReads = GraphModel.STRUCTURE | (config.probes().isEmpty() ? 0 : GraphModel.PROBES);
        int edgeReads = GraphModel.STRUCTURE | (config.probes().isEmpty() ? 0 : GraphModel.PROBES)
                | (config.protocols().isEmpty() ? 0 : GraphModel.PROTOCOLS)
                | (config.ports().isEmpty() ? 0 : GraphModel.PORTS)
                | (config.minBytes() <= 0 ? 0 : GraphModel.BYTES);
        if (nodeOut.length < model.nodeIds.bound()) {
            nodeOut = java.util.Arrays.copyOf(nodeOut, Math.max(model.nodeIds.bound(), nodeOut.length * 2));
        }
        if (edgeOut.length < model.edgeIds.bound()) {
            edgeOut = java.util.Arrays.copyOf(edgeOut, Math.max(model.edgeIds.bound(), edgeOut.length * 2));
            edgeDirected = java.util.Arrays.copyOf(edgeDirected, edgeOut.length);
        }
        if (grouped()) {
            if (nodeAdded.length < nodeOut.length) {
                nodeAdded = java.util.Arrays.copyOf(nodeAdded, nodeOut.length);
            }
            if (edgeAdded.length < edgeOut.length) {
                edgeAdded = java.util.Arrays.copyOf(edgeAdded, edgeOut.length);
                edgeFlip = java.util.Arrays.copyOf(edgeFlip, edgeOut.length);
            }
        }
        List<Integer> flipped = null;
        for (int k = 0; k < dirtyNodes.length; k++) {
            int n = dirtyNodes[k];
            NodeState old = nodeOut[n];
            if (nodeChanges != null && (nodeChanges[k] & nodeReads) == 0) {
                // filter state unchanged: only an output this node is or may be part of, without reading the node
                if (old != null) {
                    refreshNode(n, old.group());
                }
                if (old != null && (sentNodes.containsKey(old.group()) || degree.containsKey(old.group())
                        || !config.edgeFilters() && old.addressMatch() && standsAlone(model.node(n), old))) {
                    pendingNodes.add(old.group());
                }
                continue;
            }
            GraphElement.Node node = model.node(n);
            NodeState now = node != null && moduleSelected(node) ? state(node, old) : null;
            if (now == old) {
                if (now != null) {
                    refreshNode(n, now.group());
                }
                // same filter state (the common last_seen change): only an output this node is or may be part of
                if (now != null && (sentNodes.containsKey(now.group()) || degree.containsKey(now.group())
                        || standsAlone(node, now))) {
                    pendingNodes.add(now.group());
                }
                continue;
            }
            String og = old == null ? null : old.group();
            String ng = now == null ? null : now.group();
            boolean moved = !java.util.Objects.equals(og, ng);
            if (moved && og != null) {
                MemberSet m = nodeMembers.get(og);
                m.remove(n);
                if (m.isEmpty()) {
                    nodeMembers.remove(og);
                }
                if (grouped()) {
                    Running run = nodeRunning.get(og);
                    run.remove(nodeAdded[n], false);
                    nodeAdded[n] = null;
                    if (m.isEmpty()) {
                        nodeRunning.remove(og);
                    }
                }
                pendingNodes.add(og);
            }
            nodeOut[n] = now;
            if (now != null) {
                if (moved) {
                    nodeMembers.computeIfAbsent(ng, x -> new MemberSet()).add(n);
                    if (grouped()) {
                        nodeAdded[n] = node.attributes();
                        nodeRunning.computeIfAbsent(ng, x -> new Running()).add(nodeAdded[n], false);
                    }
                } else {
                    refreshNode(n, ng);
                }
                pendingNodes.add(ng); // its attributes (or its group's) changed
            }
            if (moved || old != null && now != null && old.addressMatch() != now.addressMatch()) {
                // its visibility flipped: only then its edges
                if (flipped == null) {
                    flipped = new ArrayList<>();
                }
                for (String e : model.edgesOf(model.nodeIds.id(n))) {
                    flipped.add(model.edgeIds.find(e));
                }
            }
        }
        for (int k = 0; k < dirtyEdges.length; k++) {
            int e = dirtyEdges[k];
            if (edgeChanges != null && (edgeChanges[k] & edgeReads) == 0) {
                // passes or fails as before (an end whose filter state flipped is re-evaluated below)
                if (edgeOut[e] != null) {
                    refreshEdge(e, edgeOut[e]);
                    pendingEdges.add(edgeOut[e]);
                }
                continue;
            }
            updateEdge(e);
        }
        if (flipped != null) {
            for (int e : flipped) {
                updateEdge(e); // twice for one also changed itself: the second finds it up to date
            }
        }
    }

    private void updateEdge(int e) {
        GraphElement.Edge edge = model.edge(e);
        String oid = edge == null ? null : outputEdge(e, edge);
        String old = edgeOut[e];
        if (old == null && oid == null) {
            return; // not shown before nor now: the common case of a filtered view
        }
        if (old != null && old.equals(oid)) {
            refreshEdge(e, oid);
            pendingEdges.add(oid); // same output edge, new attributes
            return;
        }
        {
            if (old != null) {
                edgeOut[e] = null;
                OutEdge o = outEdges.get(old);
                o.members.remove(e);
                if (edgeDirected[e]) {
                    edgeDirected[e] = false;
                    o.directed--;
                }
                if (grouped()) {
                    o.running.remove(edgeAdded[e], edgeFlip[e]);
                    edgeAdded[e] = null;
                }
                pendingEdges.add(old);
                if (o.members.isEmpty()) {
                    outEdges.remove(old);
                    degree(o.source, -1);
                    degree(o.target, -1);
                }
            }
            if (oid == null) {
                return;
            }
            OutEdge o = outEdges.get(oid);
            if (o == null) {
                o = new OutEdge(outSource, outTarget);
                outEdges.put(oid, o);
                degree(outSource, 1);
                degree(outTarget, 1);
            }
            o.members.add(e);
            if (edge.directed()) {
                edgeDirected[e] = true;
                o.directed++;
            }
            if (grouped()) {
                edgeAdded[e] = edge.attributes();
                edgeFlip[e] = !o.source.equals(nodeOut[model.edgeSource(e)].group());
                o.running.add(edgeAdded[e], edgeFlip[e]);
            }
            edgeOut[e] = oid;
            pendingEdges.add(oid);
        }
    }

    private boolean grouped() {
        return config.level() != ViewerConfig.Level.HOSTS;
    }

    /** A member of group node {@code group} whose attributes may have changed: its contribution replaced. */
    private void refreshNode(int n, String group) {
        if (!grouped()) {
            return;
        }
        Map<String, Object> now = model.node(n).attributes();
        Map<String, Object> was = nodeAdded[n];
        if (was != now) {
            nodeRunning.get(group).replace(was, false, now, false);
            nodeAdded[n] = now;
        }
    }

    /** A member of output edge {@code oid} whose attributes or direction may have changed. */
    private void refreshEdge(int e, String oid) {
        if (!grouped()) {
            return;
        }
        OutEdge o = outEdges.get(oid);
        NodeState src = nodeOut[model.edgeSource(e)];
        if (src == null) {
            return; // its end is gone this tick: re-evaluated (and taken out) with the edges of that end
        }
        GraphElement.Edge edge = model.edge(e);
        if (edge.directed() != edgeDirected[e]) {
            edgeDirected[e] = edge.directed();
            o.directed += edge.directed() ? 1 : -1;
        }
        Map<String, Object> now = edge.attributes();
        boolean flip = !o.source.equals(src.group());
        if (edgeAdded[e] != now || edgeFlip[e] != flip) {
            o.running.replace(edgeAdded[e], edgeFlip[e], now, flip);
            edgeAdded[e] = now;
            edgeFlip[e] = flip;
        }
    }

    /** Set by {@link #outputEdge}: the output ends of the edge it returned. */
    private String outSource;
    private String outTarget;

    /** The output edge id an input edge belongs to, or null when it does not pass (or lies inside one group). */
    private String outputEdge(int e, GraphElement.Edge edge) {
        NodeState s = nodeOut[model.edgeSource(e)];
        NodeState t = nodeOut[model.edgeTarget(e)];
        if (!passes(edge, s, t)) {
            return null;
        }
        String gs = s.group();
        String gt = t.group();
        if (config.level() == ViewerConfig.Level.HOSTS) {
            outSource = gs;
            outTarget = gt;
            return edge.id();
        }
        if (gs.equals(gt)) {
            return null; // inside one group: not drawn
        }
        outSource = gs.compareTo(gt) < 0 ? gs : gt;
        outTarget = outSource == gs ? gt : gs;
        return outSource + "|" + outTarget;
    }

    /** The filter state of {@code n}; {@code old} again when what it depends on (address, name) did not change. */
    private NodeState state(GraphElement.Node n, NodeState old) {
        Object addr = n.attributes().get(ADDR);
        Object name = n.attributes().get(NAME);
        if (old != null && java.util.Objects.equals(addr, old.addr()) && (config.level() != ViewerConfig.Level.DOMAIN
                || java.util.Objects.equals(name, old.name()))) {
            return old; // the common change (last_seen, probes): no parsing, no new group id
        }
        byte[] a = Addresses.parse((String) addr);
        boolean match = config.addresses().isEmpty() || addressMatches(a);
        return new NodeState(group(n, a), match, addr, name);
    }

    private void degree(String node, int d) {
        int v = degree.getOrDefault(node, 0) + d;
        if (v <= 0) {
            degree.remove(node);
        } else {
            degree.put(node, v);
        }
        pendingNodes.add(node);
    }

    private boolean moduleSelected(GraphElement e) {
        return config.modules().isEmpty() || config.modules().contains((String) e.attributes().get(MODULE));
    }

    private boolean passes(GraphElement.Edge e, NodeState s, NodeState t) {
        if (s == null || t == null || !s.addressMatch() && !t.addressMatch() || !moduleSelected(e)) {
            return false;
        }
        Map<String, Object> a = e.attributes();
        if (!config.protocols().isEmpty() && !intersects(a.get(PROTOCOLS), config.protocols())) {
            return false;
        }
        if (!config.ports().isEmpty() && !intersects(a.get(PORTS), config.ports())) {
            return false;
        }
        if (!config.probes().isEmpty() && !intersects(a.get(PROBES), config.probes())) {
            return false;
        }
        return config.minBytes() <= 0 || a.get(BYTES) instanceof Long b && b >= config.minBytes();
    }

    /** Whether node {@code n} (filter state {@code st}) is shown without an edge. */
    private boolean standsAlone(GraphElement.Node n, NodeState st) {
        if (config.edgeFilters() || !st.addressMatch()) {
            return false;
        }
        return config.probes().isEmpty() || intersects(n.attributes().get(PROBES), config.probes());
    }

    private boolean addressMatches(byte[] a) {
        if (a == null) {
            return false;
        }
        for (Cidr c : config.addresses()) {
            if (c.contains(a)) {
                return true;
            }
        }
        return false;
    }

    private static boolean intersects(Object values, Set<?> wanted) {
        if (values instanceof Object[] arr) {
            for (Object v : arr) {
                if (wanted.contains(v)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The output node id of an input node at this level of detail. */
    private String group(GraphElement.Node n, byte[] a) {
        switch (config.level()) {
            case SUBNET -> {
                if (a != null) {
                    int bits = a.length == 4 ? config.prefix4() : config.prefix6();
                    return "net:" + Addresses.text(Addresses.mask(a, bits)) + "/" + bits;
                }
                return n.id();
            }
            case DOMAIN -> {
                if (n.attributes().get(NAME) instanceof String name && !name.isEmpty()) {
                    return "dom:" + registeredDomain(name, config.domainLabels());
                }
                return n.id();
            }
            default -> {
                return n.id();
            }
        }
    }

    /** The last {@code labels} labels of a DNS name, lower case, without the root dot. */
    static String registeredDomain(String name, int labels) {
        String s = name.toLowerCase(java.util.Locale.ROOT);
        if (s.endsWith(".")) {
            s = s.substring(0, s.length() - 1);
        }
        int i = s.length();
        for (int k = 0; k < labels; k++) {
            i = s.lastIndexOf('.', i - 1);
            if (i < 0) {
                return s;
            }
        }
        return s.substring(i + 1);
    }

    /** What changed at the last {@link #drain}: output id -> what the viewer held before (null: absent). */
    private Map<String, GraphElement.Node> changedNodes = new HashMap<>();
    private Map<String, GraphElement.Edge> changedEdges = new HashMap<>();

    /**
     * The operations that bring the viewer from what it holds to what it should hold, in a safe order; what it held
     * before for each changed element is kept until the next drain ({@link #changedNodes()}), for viewers that missed
     * this diff.
     */
    List<GraphOp> drain() {
        Set<String> pn = pendingNodes;
        Set<String> pe = pendingEdges;
        pendingNodes = new HashSet<>();
        pendingEdges = new HashSet<>();
        changedNodes = new HashMap<>();
        changedEdges = new HashMap<>();
        for (String id : pe) {
            GraphElement.Edge now = outEdge(id);
            GraphElement.Edge was = now == null ? sentEdges.remove(id) : sentEdges.put(id, now);
            if (was != now) {
                changedEdges.put(id, was);
            }
        }
        for (String id : pn) {
            GraphElement.Node now = outNode(id);
            GraphElement.Node was = now == null ? sentNodes.remove(id) : sentNodes.put(id, now);
            if (was != now) {
                changedNodes.put(id, was);
            }
        }
        return diff(changedNodes, changedEdges);
    }

    /** Output id -> held before the last drain (null: absent), for the nodes whose output changed then. */
    Map<String, GraphElement.Node> changedNodes() {
        return changedNodes;
    }

    Map<String, GraphElement.Edge> changedEdges() {
        return changedEdges;
    }

    /** What the viewers of this projection hold once they have applied the last drain (do not modify). */
    Map<String, GraphElement.Node> heldNodes() {
        return sentNodes;
    }

    Map<String, GraphElement.Edge> heldEdges() {
        return sentEdges;
    }

    /**
     * The operations, in a safe order, that bring a viewer holding {@code wasNodes}/{@code wasEdges} (for these ids;
     * null: absent) to what this projection holds now ({@link #heldNodes()}): O(ids), whatever the graph size.
     */
    List<GraphOp> diff(Map<String, GraphElement.Node> wasNodes, Map<String, GraphElement.Edge> wasEdges) {
        List<GraphOp> delEdges = new ArrayList<>();
        List<GraphOp> delNodes = new ArrayList<>();
        List<GraphOp> nodes = new ArrayList<>();
        List<GraphOp> edges = new ArrayList<>();
        wasEdges.forEach((id, was) -> {
            GraphElement.Edge now = sentEdges.get(id);
            if (now == null) {
                if (was != null) {
                    delEdges.add(new GraphOp.DeleteEdge(id));
                }
            } else if (was == null) {
                edges.add(new GraphOp.AddEdge(now));
            } else if (!was.source().equals(now.source()) || !was.target().equals(now.target())) {
                delEdges.add(new GraphOp.DeleteEdge(id));
                edges.add(new GraphOp.AddEdge(now));
            } else if (was != now) {
                GraphOp c = change(id, was, now, false);
                if (c != null) {
                    edges.add(c);
                }
            }
        });
        wasNodes.forEach((id, was) -> {
            GraphElement.Node now = sentNodes.get(id);
            if (now == null) {
                if (was != null) {
                    delNodes.add(new GraphOp.DeleteNode(id));
                }
            } else if (was == null) {
                nodes.add(new GraphOp.AddNode(now));
            } else if (was != now) {
                GraphOp c = change(id, was, now, true);
                if (c != null) {
                    nodes.add(c);
                }
            }
        });
        List<GraphOp> ops = new ArrayList<>(delEdges.size() + delNodes.size() + nodes.size() + edges.size());
        ops.addAll(delEdges);
        ops.addAll(delNodes);
        ops.addAll(nodes);
        ops.addAll(edges);
        return ops;
    }

    /** Everything this projection holds, as additions (nodes first): a viewer's snapshot. */
    List<GraphOp> snapshot() {
        List<GraphOp> ops = new ArrayList<>(sentNodes.size() + sentEdges.size());
        sentNodes.values().forEach(n -> ops.add(new GraphOp.AddNode(n)));
        sentEdges.values().forEach(e -> ops.add(new GraphOp.AddEdge(e)));
        return ops;
    }

    /**
     * The attribute change from {@code wasE} to {@code nowE}. At the hosts level both are the model's own elements,
     * the same objects in every view that shows them: the change is computed once per tick for all views
     * ({@link GraphModel#changes}).
     */
    private GraphOp change(String id, GraphElement wasE, GraphElement nowE, boolean node) {
        boolean shared = config.level() == ViewerConfig.Level.HOSTS;
        if (shared) {
            GraphOp c = model.changes.get(nowE);
            if (c instanceof GraphOp.ChangeNode cn && cn.previous() == wasE.attributes()
                    || c instanceof GraphOp.ChangeEdge ce && ce.previous() == wasE.attributes()) {
                return c;
            }
        }
        GraphOp c = change(id, wasE.attributes(), nowE.attributes(), node);
        if (shared && c != null) {
            model.changes.put(nowE, c);
        }
        return c;
    }

    private static GraphOp change(String id, Map<String, Object> was, Map<String, Object> now, boolean node) {
        Map<String, Object> set = new LinkedHashMap<>();
        Set<String> removed = new TreeSet<>();
        now.forEach((k, v) -> {
            if (!AttributeValues.same(v, was.get(k))) {
                set.put(k, v);
            }
        });
        for (String k : was.keySet()) {
            if (!now.containsKey(k)) {
                removed.add(k);
            }
        }
        if (set.isEmpty() && removed.isEmpty()) {
            return null;
        }
        return node ? new GraphOp.ChangeNode(id, set, was, removed) : new GraphOp.ChangeEdge(id, set, was, removed);
    }

    private GraphElement.Node outNode(String id) {
        MemberSet members = nodeMembers.get(id);
        if (members == null || members.isEmpty()) {
            return null;
        }
        boolean shown = degree.containsKey(id);
        if (!shown && members.size() == 1) {
            int m = members.first();
            shown = standsAlone(model.node(m), nodeOut[m]);
        } else if (!shown) {
            for (int m : members) {
                if (standsAlone(model.node(m), nodeOut[m])) {
                    shown = true;
                    break;
                }
            }
        }
        if (!shown) {
            return null;
        }
        if (config.level() == ViewerConfig.Level.HOSTS && members.size() == 1) {
            return model.node(members.first()); // shared with the model and other viewers
        }
        Map<String, Object> a = nodeRunning.get(id).result(members, m -> nodeAdded[m], m -> false);
        String label = id.startsWith("net:") || id.startsWith("dom:") ? id.substring(4) : id;
        a.put(LABEL, label);
        a.put(KIND, KIND_GROUP);
        a.put(MEMBERS, (long) members.size());
        return new GraphElement.Node(id, a);
    }

    private GraphElement.Edge outEdge(String id) {
        OutEdge o = outEdges.get(id);
        if (o == null || o.members.isEmpty()) {
            return null;
        }
        if (config.level() == ViewerConfig.Level.HOSTS && o.members.size() == 1) {
            return model.edge(o.members.first());
        }
        boolean directed = o.directed > 0;
        Map<String, Object> a = o.running.result(o.members, m -> edgeAdded[m], m -> edgeFlip[m]);
        a.put(MEMBERS, (long) o.members.size());
        return new GraphElement.Edge(id, o.source, o.target, directed, a);
    }

    /**
     * The merge of {@link Aggregate}, kept running (grouped levels): per summed key the sum and the number of members
     * that have it; per minimum/maximum key the extreme, recomputed from the members only when a member that held it
     * took it back; per list key each value with the number of members that list it. A key seen both as a number and
     * as a list (never in practice) makes it fall back to a full {@link Aggregate} of the members.
     */
    static final class Running {
        /**
         * key -> {value, members that have it, 1 when the extreme must be recomputed, members at the extreme}
         */
        private final HashMap<String, long[]> nums = new HashMap<>();
        private final HashMap<String, HashMap<Object, int[]>> lists = new HashMap<>();
        private boolean irregular;

        void add(Map<String, Object> attrs, boolean flip) {
            apply(attrs, flip, true);
        }

        void remove(Map<String, Object> attrs, boolean flip) {
            apply(attrs, flip, false);
        }

        /**
         * A member's attributes changed from {@code was} to {@code now}: only the keys whose value differs are taken
         * back and added again (a tick changes a few counters of a member, not its dozens of other fields).
         */
        void replace(Map<String, Object> was, boolean wasFlip, Map<String, Object> now, boolean nowFlip) {
            if (was == null || wasFlip != nowFlip) {
                add(now, nowFlip);
                if (was != null) {
                    remove(was, wasFlip);
                }
                return;
            }
            for (Map.Entry<String, Object> e : now.entrySet()) {
                Object old = was.get(e.getKey());
                if (!AttributeValues.same(e.getValue(), old)) {
                    apply(e.getKey(), e.getValue(), nowFlip, true);
                    if (old != null) {
                        apply(e.getKey(), old, wasFlip, false);
                    }
                }
            }
            for (Map.Entry<String, Object> e : was.entrySet()) {
                if (!now.containsKey(e.getKey())) {
                    apply(e.getKey(), e.getValue(), wasFlip, false);
                }
            }
        }

        private void apply(Map<String, Object> attrs, boolean flip, boolean add) {
            for (Map.Entry<String, Object> e : attrs.entrySet()) {
                apply(e.getKey(), e.getValue(), flip, add);
            }
        }

        private void apply(String attrKey, Object v, boolean flip, boolean add) {
            {
                if (v instanceof Long l) {
                    Aggregate.Kind kind = Aggregate.kind(attrKey);
                    if (kind.op() == Aggregate.OTHER) {
                        return;
                    }
                    String key = flip ? kind.flipped() : attrKey;
                    if (lists.containsKey(key)) {
                        irregular = true;
                    }
                    long[] h = nums.get(key);
                    int op = kind.op();
                    if (add) {
                        if (h == null) {
                            nums.put(key, new long[]{l, 1, 0, 1});
                        } else {
                            h[1]++;
                            if (op == Aggregate.SUM) {
                                h[0] += l;
                            } else if (h[2] == 0) {
                                if (h[0] == l) {
                                    h[3]++;
                                } else if (op == Aggregate.MIN ? l < h[0] : l > h[0]) {
                                    h[0] = l;
                                    h[3] = 1;
                                }
                            }
                        }
                    } else if (--h[1] == 0) {
                        nums.remove(key);
                    } else if (op == Aggregate.SUM) {
                        h[0] -= l;
                    } else if (h[2] == 0 && h[0] == l && --h[3] == 0) {
                        h[2] = 1; // the last member that held the extreme gave it back
                    }
                } else if (v instanceof Object[] arr) {
                    String key = flip ? Aggregate.kind(attrKey).flipped() : attrKey;
                    if (nums.containsKey(key)) {
                        irregular = true;
                    }
                    HashMap<Object, int[]> s = lists.get(key);
                    if (add) {
                        if (s == null) {
                            s = new HashMap<>();
                            lists.put(key, s);
                        }
                        for (Object o : arr) {
                            s.computeIfAbsent(o, x -> new int[1])[0]++;
                        }
                    } else {
                        for (Object o : arr) {
                            int[] c = s.get(o);
                            if (--c[0] == 0) {
                                s.remove(o);
                            }
                        }
                        if (s.isEmpty()) {
                            lists.remove(key);
                        }
                    }
                }
            }
        }

        /** The merged attributes; {@code attrs}/{@code flip} give each member's contribution, read only when needed. */
        Map<String, Object> result(Set<Integer> members, java.util.function.IntFunction<Map<String, Object>> attrs,
                java.util.function.IntPredicate flip) {
            if (irregular) {
                Aggregate agg = new Aggregate();
                for (int m : members) {
                    agg.add(attrs.apply(m), flip.test(m));
                }
                return agg.result();
            }
            Map<String, Object> r = new LinkedHashMap<>();
            nums.forEach((k, h) -> {
                if (h[2] != 0) {
                    recompute(k, h, members, attrs, flip);
                }
                r.put(k, h[0]);
            });
            lists.forEach((k, s) -> {
                TreeSet<Object> t = new TreeSet<>(s.keySet());
                Object first = t.first();
                r.put(k, first instanceof Long
                        ? t.toArray(Long[]::new)
                        : t.stream().map(String::valueOf).toArray(
                                String[]::new));
            });
            return r;
        }

        private static void recompute(String key, long[] h, Set<Integer> members,
                java.util.function.IntFunction<Map<String, Object>> attrs, java.util.function.IntPredicate flip) {
            boolean min = false;
            boolean have = false;
            long best = 0;
            long at = 0;
            for (int m : members) {
                boolean f = flip.test(m);
                for (Map.Entry<String, Object> e : attrs.apply(m).entrySet()) {
                    if (e.getValue() instanceof Long l) {
                        Aggregate.Kind kind = Aggregate.kind(e.getKey());
                        if ((f ? kind.flipped() : e.getKey()).equals(key)) {
                            min = kind.op() == Aggregate.MIN;
                            if (!have || (min ? l < best : l > best)) {
                                best = l;
                                at = 1;
                            } else if (l == best) {
                                at++;
                            }
                            have = true;
                        }
                    }
                }
            }
            h[0] = best;
            h[2] = 0;
            h[3] = at;
        }
    }

    /** Merges member attributes: sums, minimum, maximum, unions (see the class comment). */
    static final class Aggregate {
        private final Map<String, Object> out = new LinkedHashMap<>();

        /** How a key merges, and its name seen from the other end; cached: keys are few, members many. */
        private record Kind(String flipped, int op) {
        }

        private static final int OTHER = 0;
        private static final int MIN = 1;
        private static final int MAX = 2;
        private static final int SUM = 3;
        private static final java.util.concurrent.ConcurrentHashMap<String, Kind> KINDS = new java.util.concurrent.ConcurrentHashMap<>();

        private static Kind kind(String k) {
            Kind kind = KINDS.get(k);
            if (kind == null) {
                int op = k.equals(FIRST_SEEN) || k.equals(HOPS)
                        ? MIN
                        : k.equals(LAST_SEEN) ? MAX : summed(k) ? SUM : OTHER;
                kind = new Kind(flipped(k), op);
                if (KINDS.size() < 100_000) {
                    KINDS.put(k, kind);
                }
            }
            return kind;
        }

        void add(Map<String, Object> attrs, boolean flip) {
            for (Map.Entry<String, Object> e : attrs.entrySet()) {
                Object v = e.getValue();
                if (v instanceof Long l) {
                    Kind kind = kind(e.getKey());
                    if (kind.op() == OTHER) {
                        continue;
                    }
                    String key = flip ? kind.flipped() : e.getKey();
                    Object cur = out.get(key);
                    if (cur instanceof long[] h) {
                        h[0] = kind.op() == MIN ? Math.min(h[0], l) : kind.op() == MAX ? Math.max(h[0], l) : h[0] + l;
                    } else if (cur == null) {
                        out.put(key, new long[]{l});
                    } else { // a list under the same key in another member: as a number from 0
                        out.put(key, new long[]{kind.op() == MIN
                                ? Math.min(0, l)
                                : kind.op() == MAX
                                        ? Math.max(0, l)
                                        : l});
                    }
                } else if (v instanceof Object[] arr) {
                    String key = flip ? kind(e.getKey()).flipped() : e.getKey();
                    Object cur = out.get(key);
                    @SuppressWarnings("unchecked")
                    TreeSet<Object> s = cur instanceof TreeSet<?> t ? (TreeSet<Object>) t : new TreeSet<>();
                    if (s != cur) {
                        out.put(key, s);
                    }
                    for (Object o : arr) {
                        s.add(o);
                    }
                }
            }
        }

        static boolean summed(String k) {
            return k.startsWith("bytes") || k.startsWith("pkts") || k.startsWith("rate") || k.equals(CONNS)
                    || k.startsWith(PROTO_PREFIX);
        }

        static String flipped(String k) {
            if (k.endsWith("_ab")) {
                return k.substring(0, k.length() - 3) + "_ba";
            }
            if (k.endsWith("_ba")) {
                return k.substring(0, k.length() - 3) + "_ab";
            }
            return k;
        }

        Map<String, Object> result() {
            Map<String, Object> r = new LinkedHashMap<>();
            out.forEach((k, v) -> {
                if (v instanceof TreeSet<?> s) {
                    if (!s.isEmpty()) {
                        Object first = s.first();
                        r.put(k, first instanceof Long
                                ? s.toArray(Long[]::new)
                                : s.stream().map(String::valueOf)
                                        .toArray(String[]::new));
                    }
                } else if (v instanceof long[] h) {
                    r.put(k, h[0]);
                } else {
                    r.put(k, v);
                }
            });
            return r;
        }
    }
}
