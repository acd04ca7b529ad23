package org.glouglou.viz.gs;

import java.awt.Color;
import java.net.InetAddress;
import java.util.HashSet;
import java.util.Set;
import org.glouglou.spi.graph.GraphAttributes;
import org.graphstream.graph.Edge;
import org.graphstream.graph.Graph;
import org.graphstream.graph.Node;
import org.graphstream.stream.SinkAdapter;

/**
 * Makes the picture tell the story (issue 6): listens to the graph the server's stream fills and, at each step marker,
 * gives the elements that changed their look: nodes labelled with their DNS name (address when unnamed), sized by the
 * traffic of their edges, coloured by kind (local host, remote host, group, process); edges as wide as their current
 * rate and coloured by their protocol mix. Only {@code ui.*} attributes are written, so the server's attributes stay
 * what the server sent. Runs on the thread that feeds the graph.
 */
final class GraphStyler extends SinkAdapter {
    static final String STYLESHEET = """
            graph { fill-color: #fbfbf8; padding: 40px; }
            node { size-mode: dyn-size; size: 8px; stroke-mode: plain; stroke-color: #ffffffaa; stroke-width: 1px;
                   text-size: 11; text-color: #222222; text-alignment: under; text-background-mode: rounded-box;
                   text-background-color: #ffffffb0; text-padding: 1px; z-index: 2; }
            node.local { fill-color: #1f77b4; shape: circle; }
            node.remote { fill-color: #ff7f0e; shape: circle; }
            node.group { fill-color: #2ca02c; shape: rounded-box; }
            node.process { fill-color: #9467bd; shape: diamond; }
            node:clicked { stroke-mode: plain; stroke-color: #d62728; stroke-width: 3px; }
            edge { fill-mode: dyn-plain; fill-color: #999999; size-mode: dyn-size; size: 1px; z-index: 1; }
            """;
    /**
     * Above this many nodes the picture is drawn for speed: no anti-aliasing, plain labels shown only when zoomed in.
     * Measured with ViewerBench: label backgrounds and anti-aliasing dominate the frame time of large graphs.
     */
    static final int LARGE_GRAPH = 800;
    static final String LARGE_EXTRA = """
            node { text-background-mode: none; text-visibility-mode: under-zoom; text-visibility: 0.4;
                   stroke-mode: none; }
            node:clicked { text-visibility-mode: normal; }
            """;
    /** Kind colours, shared with the legend. */
    static final Color LOCAL = new Color(0x1f77b4);
    static final Color REMOTE = new Color(0xff7f0e);
    static final Color GROUP = new Color(0x2ca02c);
    static final Color PROCESS = new Color(0x9467bd);
    /** Protocol colours, mixed by each protocol's share of an edge's bytes. */
    static final Color TCP = new Color(0x3465a4);
    static final Color UDP = new Color(0x4e9a06);
    static final Color ICMP = new Color(0xcc0000);
    static final Color OTHER = new Color(0x75507b);

    private final Graph graph;
    private final Set<String> dirtyNodes = new HashSet<>();
    private final Set<String> dirtyEdges = new HashSet<>();

    private boolean large;

    GraphStyler(Graph graph) {
        this.graph = graph;
        applySheet();
    }

    /** The style sheet and render hints for the graph's current size; changes only when the size class changes. */
    private void applySheet() {
        large = graph.getNodeCount() > LARGE_GRAPH;
        graph.setAttribute("ui.stylesheet", large ? STYLESHEET + LARGE_EXTRA : STYLESHEET);
        if (large) {
            graph.removeAttribute("ui.quality");
            graph.removeAttribute("ui.antialias");
        } else {
            graph.setAttribute("ui.quality");
            graph.setAttribute("ui.antialias");
        }
    }

    @Override
    public void nodeAdded(String sourceId, long timeId, String nodeId) {
        dirtyNodes.add(nodeId);
    }

    @Override
    public void edgeAdded(String sourceId, long timeId, String edgeId, String from, String to, boolean directed) {
        dirtyEdges.add(edgeId);
        dirtyNodes.add(from);
        dirtyNodes.add(to);
    }

    @Override
    public void edgeRemoved(String sourceId, long timeId, String edgeId) {
        Edge e = graph.getEdge(edgeId);
        if (e != null) { // still in the graph while its removal is announced
            dirtyNodes.add(e.getSourceNode().getId());
            dirtyNodes.add(e.getTargetNode().getId());
        }
        dirtyEdges.remove(edgeId);
    }

    @Override
    public void nodeRemoved(String sourceId, long timeId, String nodeId) {
        dirtyNodes.remove(nodeId);
    }

    @Override
    public void nodeAttributeAdded(String sourceId, long timeId, String nodeId, String attribute, Object value) {
        if (!attribute.startsWith("ui.")) {
            dirtyNodes.add(nodeId);
        }
    }

    @Override
    public void nodeAttributeChanged(String sourceId, long timeId, String nodeId, String attribute, Object oldValue,
            Object newValue) {
        nodeAttributeAdded(sourceId, timeId, nodeId, attribute, newValue);
    }

    @Override
    public void edgeAttributeAdded(String sourceId, long timeId, String edgeId, String attribute, Object value) {
        if (!attribute.startsWith("ui.")) {
            dirtyEdges.add(edgeId);
            Edge e = graph.getEdge(edgeId);
            if (e != null && attribute.startsWith("bytes")) {
                dirtyNodes.add(e.getSourceNode().getId());
                dirtyNodes.add(e.getTargetNode().getId());
            }
        }
    }

    @Override
    public void edgeAttributeChanged(String sourceId, long timeId, String edgeId, String attribute, Object oldValue,
            Object newValue) {
        edgeAttributeAdded(sourceId, timeId, edgeId, attribute, newValue);
    }

    @Override
    public void graphCleared(String sourceId, long timeId) {
        dirtyNodes.clear();
        dirtyEdges.clear();
        // a clear drops the graph's attributes too, the style sheet with them
        applySheet();
    }

    /** The step marker ends a consistent state: style what it changed, once. */
    @Override
    public void stepBegins(String sourceId, long timeId, double step) {
        restyle();
    }

    void restyle() {
        if (large != graph.getNodeCount() > LARGE_GRAPH) {
            applySheet();
        }
        for (String id : dirtyEdges) {
            Edge e = graph.getEdge(id);
            if (e != null) {
                style(e);
            }
        }
        for (String id : dirtyNodes) {
            Node n = graph.getNode(id);
            if (n != null) {
                style(n);
            }
        }
        dirtyEdges.clear();
        dirtyNodes.clear();
    }

    static void style(Node n) {
        Object label = n.getAttribute(GraphAttributes.LABEL);
        n.setAttribute("ui.label", label == null ? n.getId() : label.toString());
        n.setAttribute("ui.class", kind(n));
        long bytes = n.edges().mapToLong(e -> number(e.getAttribute(GraphAttributes.BYTES))).sum();
        n.setAttribute("ui.size", nodeSize(bytes));
    }

    static void style(Edge e) {
        long rate = number(e.getAttribute(GraphAttributes.RATE_AB)) + number(e.getAttribute(GraphAttributes.RATE_BA));
        e.setAttribute("ui.size", edgeWidth(rate));
        e.setAttribute("ui.color", protocolColor(e));
    }

    /** 6 px for an idle host, +4 px per decade of bytes above 1 kB, 40 px at most: 1 GB is not drawn as a wall. */
    static double nodeSize(long bytes) {
        return Math.min(40, 6 + 4 * Math.log10(1 + bytes / 1000.0));
    }

    /** 0.8 px idle, +1.5 px per decade of bytes/s above 1 kB/s, 12 px at most. */
    static double edgeWidth(long bytesPerSecond) {
        return Math.min(12, 0.8 + 1.5 * Math.log10(1 + bytesPerSecond / 1000.0));
    }

    static String kind(Node n) {
        Object k = n.getAttribute(GraphAttributes.KIND);
        if (GraphAttributes.KIND_GROUP.equals(k)) {
            return "group";
        }
        if (GraphAttributes.KIND_PROCESS.equals(k)) {
            return "process";
        }
        Object addr = n.getAttribute(GraphAttributes.ADDR);
        return addr != null && isLocal(addr.toString()) ? "local" : "remote";
    }

    /**
     * Local: private, loopback or link-local addresses (RFC 1918, RFC 4193 ULA, fe80::/10), i.e. the probe's side of
     * the network. The hop count does not tell it: a host behind a router is many hops away and still ours.
     */
    static boolean isLocal(String addr) {
        if (!addr.matches("[0-9a-fA-F:.]+") || addr.isEmpty()) {
            return false; // never resolve a name here
        }
        try {
            InetAddress a = InetAddress.getByName(addr);
            byte[] b = a.getAddress();
            boolean ula = b.length == 16 && (b[0] & 0xfe) == 0xfc;
            return a.isSiteLocalAddress() || a.isLoopbackAddress() || a.isLinkLocalAddress() || ula;
        } catch (Exception e) {
            return false;
        }
    }

    /** The colours of the protocols an edge carries, mixed by their share of its bytes. */
    static Color protocolColor(Edge e) {
        double r = 0;
        double g = 0;
        double b = 0;
        double total = 0;
        for (String a : e.attributeKeys().toList()) {
            if (!a.startsWith(GraphAttributes.PROTO_PREFIX)) {
                continue;
            }
            double w = number(e.getAttribute(a));
            Color c = switch (a.substring(GraphAttributes.PROTO_PREFIX.length())) {
                case "tcp" -> TCP;
                case "udp" -> UDP;
                case "icmp", "icmp6", "ipv6-icmp" -> ICMP;
                default -> OTHER;
            };
            r += w * c.getRed();
            g += w * c.getGreen();
            b += w * c.getBlue();
            total += w;
        }
        if (total <= 0) {
            return new Color(0x999999);
        }
        return new Color((int) (r / total), (int) (g / total), (int) (b / total));
    }

    static long number(Object v) {
        return v instanceof Number n ? n.longValue() : 0;
    }
}
