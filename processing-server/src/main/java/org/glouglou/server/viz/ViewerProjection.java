package org.glouglou.server.viz;

import static org.glouglou.spi.graph.GraphAttributes.*;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
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
 * edge whose ends the group edge sees the other way round are swapped.
 *
 * <p>
 * Every output node and edge has a dense index of this view ({@link OutIds}), given when an input element first
 * joins it and taken back once it has no member and the viewer no longer holds it; what the view keeps per output
 * element (members, merge, degree, what the viewer holds, whether it must be sent) is in arrays by that index, so
 * the per-tick work of a view hashes no id. Owned by the viewer thread.
 */
final class ViewerProjection {
    private final GraphModel model;
    private ViewerConfig config;

    /**
     * Input node index ({@link GraphModel#nodeIds}) -> its cached filter state (output node index, address match),
     * for the nodes of the selected modules: a node change re-evaluates its edges only when one of these flips, never
     * for a mere attribute change.
     */
    private NodeState[] nodeOut = new NodeState[0];
    /**
     * Grouped levels: per input element the attributes it added to its output element's running merge (and, for an
     * edge, whether seen the other way round): a changed member takes back its old contribution and adds its new
     * one, O(its attributes) instead of re-merging the whole group at each change.
     */
    @SuppressWarnings("unchecked")
    private Map<String, Object>[] nodeAdded = new Map[0];
    @SuppressWarnings("unchecked")
    private Map<String, Object>[] edgeAdded = new Map[0];
    private boolean[] edgeFlip = new boolean[0];
    /** Per input edge: directed when it joined its output edge (see {@link OutEdge#directed}). */
    private boolean[] edgeDirected = new boolean[0];
    /** input edge index -> output edge index, for input edges that pass; -1 otherwise */
    private int[] edgeOut = new int[0];

    private final OutIds outNodeIds = new OutIds();
    private final OutIds outEdgeIds = new OutIds();
    /** By output node index: the input node indices grouped into it (null: none). */
    private MemberSet[] members = new MemberSet[0];
    /** By output node index, grouped levels: the running merge of its members. */
    private Running[] running = new Running[0];
    /** By output node index: the shown edges it ends. */
    private int[] degree = new int[0];
    /** By output node index: what the viewers hold (null: nothing). */
    private GraphElement.Node[] sentNodes = new GraphElement.Node[0];
    private int sentNodeCount;
    private boolean[] pendingNode = new boolean[0];
    private final IntList pendingNodes = new IntList();
    /** By output edge index: its input edges and merge (null: none). */
    private OutEdge[] outEdges = new OutEdge[0];
    private GraphElement.Edge[] sentEdges = new GraphElement.Edge[0];
    private int sentEdgeCount;
    private boolean[] pendingEdge = new boolean[0];
    private final IntList pendingEdges = new IntList();

    /** What the last {@link #drain} changed: output indices, with what the viewers held before (null: absent). */
    private final IntList changedNodeIds = new IntList();
    private final List<GraphElement.Node> changedNodeWas = new ArrayList<>();
    private final IntList changedEdgeIds = new IntList();
    private final List<GraphElement.Edge> changedEdgeWas = new ArrayList<>();
    private Map<String, GraphElement.Node> changedNodes;
    private Map<String, GraphElement.Edge> changedEdges;

    /** What the filters and the grouping made of one input node; immutable, replaced when it changes. */
    private record NodeState(int out, String group, boolean addressMatch, Object addr, Object name) {
    }

    private static final class OutEdge {
        /** output node indices of its ends */
        final int source;
        final int target;
        /** input edge indices */
        final MemberSet members = new MemberSet();
        /** grouped levels: the running merge of the members */
        final Running running = new Running();
        /** Members that are directed: the output edge is directed when one is (no scan of the members). */
        int directed;

        OutEdge(int source, int target) {
            this.source = source;
            this.target = target;
        }
    }

    /** A growable list of ints. */
    static final class IntList {
        private int[] a = new int[64];
        private int size;

        void add(int v) {
            if (size == a.length) {
                a = Arrays.copyOf(a, size * 2);
            }
            a[size++] = v;
        }

        int get(int k) {
            return a[k];
        }

        int size() {
            return size;
        }

        void clear() {
            size = 0;
        }
    }

    /**
     * The output ids of one kind (nodes or edges) of one view, each with a dense index. An index is given back only
     * at the {@link #recycle} that finds it still unused after it was {@link #release}d: by then the view has sent
     * its removal, and nothing of the view refers to it.
     */
    static final class OutIds {
        private final HashMap<String, Integer> index = new HashMap<>();
        private String[] ids = new String[64];
        private int size;
        private final IntList free = new IntList();
        private final IntList released = new IntList();

        int intern(String id) {
            Integer have = index.get(id);
            if (have != null) {
                return have;
            }
            int i = free.size() > 0 ? free.a[--free.size] : size++;
            if (i >= ids.length) {
                ids = Arrays.copyOf(ids, ids.length * 2);
            }
            ids[i] = id;
            index.put(id, i);
            return i;
        }

        int find(String id) {
            Integer i = index.get(id);
            return i == null ? -1 : i;
        }

        String id(int i) {
            return ids[i];
        }

        int bound() {
            return size;
        }

        void release(int i) {
            released.add(i);
        }

        /** Frees the released indices for which {@code inUse} is still false. */
        void recycle(java.util.function.IntPredicate inUse) {
            for (int k = 0; k < released.size(); k++) {
                int i = released.get(k);
                if (ids[i] != null && !inUse.test(i)) {
                    index.remove(ids[i]);
                    ids[i] = null;
                    free.add(i);
                }
            }
            released.clear();
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
        // every output element this view knows may change: what the viewers hold is compared at the next drain
        for (int i = 0; i < outNodeIds.bound(); i++) {
            if (outNodeIds.id(i) != null) {
                pendNode(i);
            }
            members[i] = null;
            running[i] = null;
            degree[i] = 0;
        }
        for (int i = 0; i < outEdgeIds.bound(); i++) {
            if (outEdgeIds.id(i) != null) {
                pendEdge(i);
            }
            outEdges[i] = null;
        }
        nodeOut = new NodeState[model.nodeIds.bound()];
        nodeAdded = new Map[model.nodeIds.bound()];
        edgeAdded = new Map[model.edgeIds.bound()];
        edgeFlip = new boolean[model.edgeIds.bound()];
        edgeOut = new int[model.edgeIds.bound()];
        Arrays.fill(edgeOut, -1);
        edgeDirected = new boolean[model.edgeIds.bound()];
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
        return Arrays.copyOf(out, n);
    }

    /** Forgets what the viewer holds: the next {@link #drain} is a full snapshot (after a Clear). */
    void forgetSent() {
        Arrays.fill(sentNodes, null);
        Arrays.fill(sentEdges, null);
        sentNodeCount = 0;
        sentEdgeCount = 0;
        for (int i = 0; i < outNodeIds.bound(); i++) {
            if (members[i] != null) {
                pendNode(i);
            }
        }
        for (int i = 0; i < outEdgeIds.bound(); i++) {
            if (outEdges[i] != null) {
                pendEdge(i);
            }
        }
    }

    int pending() {
        return pendingNodes.size() + pendingEdges.size();
    }

    int shownNodes() {
        return sentNodeCount;
    }

    int shownEdges() {
        return sentEdgeCount;
    }

    private void pendNode(int i) {
        if (!pendingNode[i]) {
            pendingNode[i] = true;
            pendingNodes.add(i);
        }
    }

    private void pendEdge(int i) {
        if (!pendingEdge[i]) {
            pendingEdge[i] = true;
            pendingEdges.add(i);
        }
    }

    /** The index of output node {@code id}, made when new, the arrays by output node index grown to hold it. */
    private int outNodeIndex(String id) {
        int i = outNodeIds.intern(id);
        if (i >= members.length) {
            int n = Math.max(i + 1, members.length * 2);
            members = Arrays.copyOf(members, n);
            running = Arrays.copyOf(running, n);
            degree = Arrays.copyOf(degree, n);
            sentNodes = Arrays.copyOf(sentNodes, n);
            pendingNode = Arrays.copyOf(pendingNode, n);
        }
        return i;
    }

    private int outEdgeIndex(String id) {
        int i = outEdgeIds.intern(id);
        if (i >= outEdges.length) {
            int n = Math.max(i + 1, outEdges.length * 2);
            outEdges = Arrays.copyOf(outEdges, n);
            sentEdges = Arrays.copyOf(sentEdges, n);
            pendingEdge = Arrays.copyOf(pendingEdge, n);
        }
        return i;
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
            nodeOut = Arrays.copyOf(nodeOut, Math.max(model.nodeIds.bound(), nodeOut.length * 2));
        }
        if (edgeOut.length < model.edgeIds.bound()) {
            int was = edgeOut.length;
            edgeOut = Arrays.copyOf(edgeOut, Math.max(model.edgeIds.bound(), edgeOut.length * 2));
            Arrays.fill(edgeOut, was, edgeOut.length, -1);
            edgeDirected = Arrays.copyOf(edgeDirected, edgeOut.length);
        }
        if (grouped()) {
            if (nodeAdded.length < nodeOut.length) {
                nodeAdded = Arrays.copyOf(nodeAdded, nodeOut.length);
            }
            if (edgeAdded.length < edgeOut.length) {
                edgeAdded = Arrays.copyOf(edgeAdded, edgeOut.length);
                edgeFlip = Arrays.copyOf(edgeFlip, edgeOut.length);
            }
        }
        IntList flipped = null;
        for (int k = 0; k < dirtyNodes.length; k++) {
            int n = dirtyNodes[k];
            NodeState old = nodeOut[n];
            if (nodeChanges != null && (nodeChanges[k] & nodeReads) == 0) {
                // filter state unchanged: only an output this node is or may be part of, without reading the node
                if (old != null) {
                    refreshNode(n, old.out());
                    if (sentNodes[old.out()] != null || degree[old.out()] > 0 || !config.edgeFilters() && old
                            .addressMatch() && standsAlone(model.node(n), old)) {
                        pendNode(old.out());
                    }
                }
                continue;
            }
            GraphElement.Node node = model.node(n);
            NodeState now = node != null && moduleSelected(node) ? state(node, old) : null;
            if (now == old) {
                // same filter state (the common last_seen change): only an output this node is or may be part of
                if (now != null) {
                    refreshNode(n, now.out());
                    if (sentNodes[now.out()] != null || degree[now.out()] > 0 || standsAlone(node, now)) {
                        pendNode(now.out());
                    }
                }
                continue;
            }
            int og = old == null ? -1 : old.out();
            int ng = now == null ? -1 : now.out();
            boolean moved = og != ng;
            if (moved && og >= 0) {
                MemberSet m = members[og];
                m.remove(n);
                if (m.isEmpty()) {
                    members[og] = null;
                }
                if (grouped()) {
                    running[og].remove(nodeAdded[n], false);
                    nodeAdded[n] = null;
                    if (m.isEmpty()) {
                        running[og] = null;
                    }
                }
                pendNode(og);
            }
            nodeOut[n] = now;
            if (now != null) {
                if (moved) {
                    if (members[ng] == null) {
                        members[ng] = new MemberSet();
                    }
                    members[ng].add(n);
                    if (grouped()) {
                        nodeAdded[n] = node.attributes();
                        if (running[ng] == null) {
                            running[ng] = new Running();
                        }
                        running[ng].add(nodeAdded[n], false);
                    }
                } else {
                    refreshNode(n, ng);
                }
                pendNode(ng); // its attributes (or its group's) changed
            }
            if (moved || old != null && now != null && old.addressMatch() != now.addressMatch()) {
                // its visibility flipped: only then its edges
                if (flipped == null) {
                    flipped = new IntList();
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
                if (edgeOut[e] >= 0) {
                    refreshEdge(e, edgeOut[e]);
                    pendEdge(edgeOut[e]);
                }
                continue;
            }
            updateEdge(e);
        }
        if (flipped != null) {
            for (int k = 0; k < flipped.size(); k++) {
                updateEdge(flipped.get(k)); // twice for one also changed itself: the second finds it up to date
            }
        }
    }

    private void updateEdge(int e) {
        GraphElement.Edge edge = model.edge(e);
        int oid = edge == null ? -1 : outputEdge(e, edge);
        int old = edgeOut[e];
        if (old < 0 && oid < 0) {
            return; // not shown before nor now: the common case of a filtered view
        }
        if (old == oid) {
            refreshEdge(e, oid);
            pendEdge(oid); // same output edge, new attributes
            return;
        }
        if (old >= 0) {
            edgeOut[e] = -1;
            OutEdge o = outEdges[old];
            o.members.remove(e);
            if (edgeDirected[e]) {
                edgeDirected[e] = false;
                o.directed--;
            }
            if (grouped()) {
                o.running.remove(edgeAdded[e], edgeFlip[e]);
                edgeAdded[e] = null;
            }
            pendEdge(old);
            if (o.members.isEmpty()) {
                outEdges[old] = null;
                degree(o.source, -1);
                degree(o.target, -1);
            }
        }
        if (oid < 0) {
            return;
        }
        OutEdge o = outEdges[oid];
        if (o == null) {
            o = new OutEdge(outSource, outTarget);
            outEdges[oid] = o;
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
            edgeFlip[e] = o.source != nodeOut[model.edgeSource(e)].out();
            o.running.add(edgeAdded[e], edgeFlip[e]);
        }
        edgeOut[e] = oid;
        pendEdge(oid);
    }

    private boolean grouped() {
        return config.level() != ViewerConfig.Level.HOSTS;
    }

    /** A member of group node {@code group} whose attributes may have changed: its contribution replaced. */
    private void refreshNode(int n, int group) {
        if (!grouped()) {
            return;
        }
        Map<String, Object> now = model.node(n).attributes();
        Map<String, Object> was = nodeAdded[n];
        if (was != now) {
            running[group].replace(was, false, now, false, was == null ? null : model.changedKeys(was, now));
            nodeAdded[n] = now;
        }
    }

    /** A member of output edge {@code oid} whose attributes or direction may have changed. */
    private void refreshEdge(int e, int oid) {
        if (!grouped()) {
            return;
        }
        OutEdge o = outEdges[oid];
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
        boolean flip = o.source != src.out();
        if (edgeAdded[e] != now || edgeFlip[e] != flip) {
            Map<String, Object> was = edgeAdded[e];
            o.running.replace(was, edgeFlip[e], now, flip, was == null ? null : model.changedKeys(was, now));
            edgeAdded[e] = now;
            edgeFlip[e] = flip;
        }
    }

    /** Set by {@link #outputEdge}: the output ends (node indices) of the edge it returned. */
    private int outSource;
    private int outTarget;

    /**
     * The output edge index an input edge belongs to, or -1 when it does not pass (or lies inside one group). At the
     * hosts level an input edge is its own output edge: its index is looked up only when it starts to pass.
     */
    private int outputEdge(int e, GraphElement.Edge edge) {
        NodeState s = nodeOut[model.edgeSource(e)];
        NodeState t = nodeOut[model.edgeTarget(e)];
        if (!passes(edge, s, t)) {
            return -1;
        }
        if (config.level() == ViewerConfig.Level.HOSTS) {
            outSource = s.out();
            outTarget = t.out();
            return edgeOut[e] >= 0 ? edgeOut[e] : outEdgeIndex(edge.id());
        }
        if (s.out() == t.out()) {
            return -1; // inside one group: not drawn
        }
        boolean forward = s.group().compareTo(t.group()) < 0;
        outSource = forward ? s.out() : t.out();
        outTarget = forward ? t.out() : s.out();
        return outEdgeIndex(forward ? s.group() + "|" + t.group() : t.group() + "|" + s.group());
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
        String group = group(n, a);
        return new NodeState(outNodeIndex(group), group, match, addr, name);
    }

    private void degree(int node, int d) {
        degree[node] += d;
        pendNode(node);
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

    /**
     * The operations that bring the viewer from what it holds to what it should hold, in a safe order; what it held
     * before for each changed element is kept until the next drain ({@link #changedNodes()}), for viewers that missed
     * this diff.
     */
    List<GraphOp> drain() {
        // indices released at the last drain and still unused: nothing of this view refers to them any more
        outNodeIds.recycle(i -> members[i] != null || sentNodes[i] != null || pendingNode[i]);
        outEdgeIds.recycle(i -> outEdges[i] != null || sentEdges[i] != null || pendingEdge[i]);
        changedNodeIds.clear();
        changedNodeWas.clear();
        changedEdgeIds.clear();
        changedEdgeWas.clear();
        changedNodes = null;
        changedEdges = null;
        for (int k = 0; k < pendingEdges.size(); k++) {
            int i = pendingEdges.get(k);
            pendingEdge[i] = false;
            GraphElement.Edge now = edgeNow(i);
            GraphElement.Edge was = sentEdges[i];
            sentEdges[i] = now;
            sentEdgeCount += (now != null ? 1 : 0) - (was != null ? 1 : 0);
            if (was != now) {
                changedEdgeIds.add(i);
                changedEdgeWas.add(was);
            }
            if (now == null && outEdges[i] == null) {
                outEdgeIds.release(i);
            }
        }
        pendingEdges.clear();
        for (int k = 0; k < pendingNodes.size(); k++) {
            int i = pendingNodes.get(k);
            pendingNode[i] = false;
            GraphElement.Node now = nodeNow(i);
            GraphElement.Node was = sentNodes[i];
            sentNodes[i] = now;
            sentNodeCount += (now != null ? 1 : 0) - (was != null ? 1 : 0);
            if (was != now) {
                changedNodeIds.add(i);
                changedNodeWas.add(was);
            }
            if (now == null && members[i] == null) {
                outNodeIds.release(i);
            }
        }
        pendingNodes.clear();
        List<GraphOp> delEdges = new ArrayList<>();
        List<GraphOp> delNodes = new ArrayList<>();
        List<GraphOp> nodes = new ArrayList<>();
        List<GraphOp> edges = new ArrayList<>();
        for (int k = 0; k < changedEdgeIds.size(); k++) {
            GraphElement.Edge was = changedEdgeWas.get(k);
            op(was != null ? was.id() : null, was, sentEdges[changedEdgeIds.get(k)], delEdges, edges, false);
        }
        for (int k = 0; k < changedNodeIds.size(); k++) {
            GraphElement.Node was = changedNodeWas.get(k);
            op(was != null ? was.id() : null, was, sentNodes[changedNodeIds.get(k)], delNodes, nodes, true);
        }
        return ordered(delEdges, delNodes, nodes, edges);
    }

    /** Output id -> held before the last drain (null: absent), for the nodes whose output changed then. */
    Map<String, GraphElement.Node> changedNodes() {
        if (changedNodes == null) {
            changedNodes = new HashMap<>();
            for (int k = 0; k < changedNodeIds.size(); k++) {
                changedNodes.put(outNodeIds.id(changedNodeIds.get(k)), changedNodeWas.get(k));
            }
        }
        return changedNodes;
    }

    Map<String, GraphElement.Edge> changedEdges() {
        if (changedEdges == null) {
            changedEdges = new HashMap<>();
            for (int k = 0; k < changedEdgeIds.size(); k++) {
                changedEdges.put(outEdgeIds.id(changedEdgeIds.get(k)), changedEdgeWas.get(k));
            }
        }
        return changedEdges;
    }

    /** What the viewers of this projection hold once they have applied the last drain: a copy, O(view). */
    Map<String, GraphElement.Node> heldNodes() {
        Map<String, GraphElement.Node> m = new HashMap<>();
        for (GraphElement.Node n : sentNodes) {
            if (n != null) {
                m.put(n.id(), n);
            }
        }
        return m;
    }

    Map<String, GraphElement.Edge> heldEdges() {
        Map<String, GraphElement.Edge> m = new HashMap<>();
        for (GraphElement.Edge e : sentEdges) {
            if (e != null) {
                m.put(e.id(), e);
            }
        }
        return m;
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
            int i = outEdgeIds.find(id);
            op(id, was, i < 0 ? null : sentEdges[i], delEdges, edges, false);
        });
        wasNodes.forEach((id, was) -> {
            int i = outNodeIds.find(id);
            op(id, was, i < 0 ? null : sentNodes[i], delNodes, nodes, true);
        });
        return ordered(delEdges, delNodes, nodes, edges);
    }

    /**
     * The operation that takes a viewer holding {@code was} of element {@code id} (null: absent) to {@code now}, into
     * {@code deletes} or {@code adds}; an edge whose ends changed is deleted and added again.
     */
    private void op(String id, GraphElement was, GraphElement now, List<GraphOp> deletes, List<GraphOp> adds,
            boolean node) {
        if (now == null) {
            if (was != null) {
                deletes.add(node ? new GraphOp.DeleteNode(id) : new GraphOp.DeleteEdge(id));
            }
        } else if (was == null) {
            adds.add(
                    node ? new GraphOp.AddNode((GraphElement.Node) now) : new GraphOp.AddEdge((GraphElement.Edge) now));
        } else if (!node && (!((GraphElement.Edge) was).source().equals(((GraphElement.Edge) now).source())
                || !((GraphElement.Edge) was).target().equals(((GraphElement.Edge) now).target()))) {
            deletes.add(new GraphOp.DeleteEdge(now.id()));
            adds.add(new GraphOp.AddEdge((GraphElement.Edge) now));
        } else if (was != now) {
            GraphOp c = change(now.id(), was, now, node);
            if (c != null) {
                adds.add(c);
            }
        }
    }

    private static List<GraphOp> ordered(List<GraphOp> delEdges, List<GraphOp> delNodes, List<GraphOp> nodes,
            List<GraphOp> edges) {
        List<GraphOp> ops = new ArrayList<>(delEdges.size() + delNodes.size() + nodes.size() + edges.size());
        ops.addAll(delEdges);
        ops.addAll(delNodes);
        ops.addAll(nodes);
        ops.addAll(edges);
        return ops;
    }

    /** Everything this projection holds, as additions (nodes first): a viewer's snapshot. */
    List<GraphOp> snapshot() {
        List<GraphOp> ops = new ArrayList<>(sentNodeCount + sentEdgeCount);
        for (GraphElement.Node n : sentNodes) {
            if (n != null) {
                ops.add(new GraphOp.AddNode(n));
            }
        }
        for (GraphElement.Edge e : sentEdges) {
            if (e != null) {
                ops.add(new GraphOp.AddEdge(e));
            }
        }
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

    /** What output node {@code i} is now for this view, or null when it is not shown. */
    private GraphElement.Node nodeNow(int i) {
        MemberSet ms = members[i];
        if (ms == null || ms.isEmpty()) {
            return null;
        }
        boolean shown = degree[i] > 0;
        if (!shown && ms.size() == 1) {
            int m = ms.first();
            shown = standsAlone(model.node(m), nodeOut[m]);
        } else if (!shown) {
            for (int m : ms) {
                if (standsAlone(model.node(m), nodeOut[m])) {
                    shown = true;
                    break;
                }
            }
        }
        if (!shown) {
            return null;
        }
        if (config.level() == ViewerConfig.Level.HOSTS && ms.size() == 1) {
            return model.node(ms.first()); // shared with the model and other viewers
        }
        String id = outNodeIds.id(i);
        Map<String, Object> a = running[i].result(ms, m -> nodeAdded[m], m -> false);
        String label = id.startsWith("net:") || id.startsWith("dom:") ? id.substring(4) : id;
        a.put(LABEL, label);
        a.put(KIND, KIND_GROUP);
        a.put(MEMBERS, (long) ms.size());
        return new GraphElement.Node(id, a);
    }

    /** What output edge {@code i} is now for this view, or null when it is not shown. */
    private GraphElement.Edge edgeNow(int i) {
        OutEdge o = outEdges[i];
        if (o == null || o.members.isEmpty()) {
            return null;
        }
        if (config.level() == ViewerConfig.Level.HOSTS && o.members.size() == 1) {
            return model.edge(o.members.first());
        }
        boolean directed = o.directed > 0;
        Map<String, Object> a = o.running.result(o.members, m -> edgeAdded[m], m -> edgeFlip[m]);
        a.put(MEMBERS, (long) o.members.size());
        return new GraphElement.Edge(outEdgeIds.id(i), outNodeIds.id(o.source), outNodeIds.id(o.target), directed,
                a);
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
        private final HashMap<String, ListCount> lists = new HashMap<>();

        /** One list key of a group: each value with the members that list it, and the merged list while unchanged. */
        private static final class ListCount {
            final HashMap<Object, int[]> counts = new HashMap<>();
            /** The sorted union, made at the first result after a value joined or left; shared, never modified. */
            Object[] merged;
        }
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
            replace(was, wasFlip, now, nowFlip, null);
        }

        /**
         * The same, {@code keys} (when not null) being the keys whose value differs between {@code was} and
         * {@code now} ({@link GraphModel#changedKeys}, found once for every view).
         */
        void replace(Map<String, Object> was, boolean wasFlip, Map<String, Object> now, boolean nowFlip,
                String[] keys) {
            if (was == null || wasFlip != nowFlip) {
                add(now, nowFlip);
                if (was != null) {
                    remove(was, wasFlip);
                }
                return;
            }
            if (keys != null) {
                for (String k : keys) {
                    Object v = now.get(k);
                    Object old = was.get(k);
                    if (v != null) {
                        apply(k, v, nowFlip, true);
                    }
                    if (old != null) {
                        apply(k, old, wasFlip, false);
                    }
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
                    ListCount s = lists.get(key);
                    if (add) {
                        if (s == null) {
                            s = new ListCount();
                            lists.put(key, s);
                        }
                        for (Object o : arr) {
                            if (s.counts.computeIfAbsent(o, x -> new int[1])[0]++ == 0) {
                                s.merged = null;
                            }
                        }
                    } else {
                        for (Object o : arr) {
                            int[] c = s.counts.get(o);
                            if (--c[0] == 0) {
                                s.counts.remove(o);
                                s.merged = null;
                            }
                        }
                        if (s.counts.isEmpty()) {
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
                if (s.merged == null) {
                    TreeSet<Object> t = new TreeSet<>(s.counts.keySet());
                    s.merged = t.first() instanceof Long
                            ? t.toArray(Long[]::new)
                            : t.stream().map(String::valueOf).toArray(String[]::new);
                }
                r.put(k, s.merged);
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
