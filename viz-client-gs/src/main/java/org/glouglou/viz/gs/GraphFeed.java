package org.glouglou.viz.gs;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;
import org.graphstream.graph.Edge;
import org.graphstream.graph.Element;
import org.graphstream.graph.Graph;
import org.graphstream.graph.Node;
import org.graphstream.stream.Sink;
import org.graphstream.stream.netstream.NetStreamDecoder;

/**
 * Feeds the server's NetStream into the viewer's graph (issue 6). Frames are decoded by gs-core's own
 * {@link NetStreamDecoder}; its events are replayed through the graph's API rather than wired to the graph as a sink,
 * because the server's time ids start again at 1 on every connection and a GraphStream graph silently drops events
 * whose time id it has already seen from a source: after a reconnection nothing would show. Events for elements the
 * graph lacks are ignored (the next snapshot repairs), never thrown. All calls hold the graph's lock.
 */
final class GraphFeed implements Sink {
    static final String NOTICE_ATTRIBUTE = "gg.notice";

    /** What the window shows about the stream. */
    interface Listener {
        void notice(String text);

        void step(long seq);
    }

    private final Graph graph;
    private final GraphStyler styler;
    private final Listener listener;
    private NetStreamDecoder decoder;
    final AtomicLong frames = new AtomicLong();

    GraphFeed(Graph graph, Listener listener) {
        this.graph = graph;
        this.styler = new GraphStyler(graph);
        this.listener = listener;
        reset();
    }

    /** A new connection: a fresh decoder and an empty graph; its snapshot follows. */
    void reset() {
        synchronized (graph) {
            decoder = new NetStreamDecoder();
            decoder.addSink(this);
            graph.clear();
            styler.graphCleared(null, 0);
        }
    }

    /** One whole frame, size included. */
    void frame(ByteBuffer frame) {
        synchronized (graph) {
            decoder.decode(frame);
        }
        frames.incrementAndGet();
    }

    @Override
    public void nodeAdded(String sourceId, long timeId, String nodeId) {
        if (graph.getNode(nodeId) == null) {
            graph.addNode(nodeId);
            styler.nodeAdded(sourceId, timeId, nodeId);
        }
    }

    @Override
    public void nodeRemoved(String sourceId, long timeId, String nodeId) {
        Node n = graph.getNode(nodeId);
        if (n != null) {
            n.edges().toList().forEach(e -> styler.edgeRemoved(sourceId, timeId, e.getId()));
            graph.removeNode(n);
            styler.nodeRemoved(sourceId, timeId, nodeId);
        }
    }

    @Override
    public void edgeAdded(String sourceId, long timeId, String edgeId, String from, String to, boolean directed) {
        if (graph.getEdge(edgeId) == null && graph.getNode(from) != null && graph.getNode(to) != null) {
            graph.addEdge(edgeId, from, to, directed);
            styler.edgeAdded(sourceId, timeId, edgeId, from, to, directed);
        }
    }

    @Override
    public void edgeRemoved(String sourceId, long timeId, String edgeId) {
        Edge e = graph.getEdge(edgeId);
        if (e != null) {
            styler.edgeRemoved(sourceId, timeId, edgeId);
            graph.removeEdge(e);
        }
    }

    @Override
    public void graphCleared(String sourceId, long timeId) {
        graph.clear();
        styler.graphCleared(sourceId, timeId);
    }

    @Override
    public void stepBegins(String sourceId, long timeId, double step) {
        styler.restyle();
        listener.step((long) step);
    }

    @Override
    public void nodeAttributeAdded(String sourceId, long timeId, String nodeId, String attribute, Object value) {
        set(graph.getNode(nodeId), attribute, value);
        styler.nodeAttributeAdded(sourceId, timeId, nodeId, attribute, value);
    }

    @Override
    public void nodeAttributeChanged(String sourceId, long timeId, String nodeId, String attribute, Object oldValue,
            Object newValue) {
        nodeAttributeAdded(sourceId, timeId, nodeId, attribute, newValue);
    }

    @Override
    public void nodeAttributeRemoved(String sourceId, long timeId, String nodeId, String attribute) {
        Node n = graph.getNode(nodeId);
        if (n != null) {
            n.removeAttribute(attribute);
            styler.nodeAttributeAdded(sourceId, timeId, nodeId, attribute, null);
        }
    }

    @Override
    public void edgeAttributeAdded(String sourceId, long timeId, String edgeId, String attribute, Object value) {
        set(graph.getEdge(edgeId), attribute, value);
        styler.edgeAttributeAdded(sourceId, timeId, edgeId, attribute, value);
    }

    @Override
    public void edgeAttributeChanged(String sourceId, long timeId, String edgeId, String attribute, Object oldValue,
            Object newValue) {
        edgeAttributeAdded(sourceId, timeId, edgeId, attribute, newValue);
    }

    @Override
    public void edgeAttributeRemoved(String sourceId, long timeId, String edgeId, String attribute) {
        Edge e = graph.getEdge(edgeId);
        if (e != null) {
            e.removeAttribute(attribute);
            styler.edgeAttributeAdded(sourceId, timeId, edgeId, attribute, null);
        }
    }

    @Override
    public void graphAttributeAdded(String sourceId, long timeId, String attribute, Object value) {
        if (NOTICE_ATTRIBUTE.equals(attribute)) {
            listener.notice(String.valueOf(value));
        }
    }

    @Override
    public void graphAttributeChanged(String sourceId, long timeId, String attribute, Object oldValue,
            Object newValue) {
        graphAttributeAdded(sourceId, timeId, attribute, newValue);
    }

    @Override
    public void graphAttributeRemoved(String sourceId, long timeId, String attribute) {
    }

    private static void set(Element e, String attribute, Object value) {
        if (e != null && !attribute.startsWith("ui.")) { // the server never styles; the viewer does
            e.setAttribute(attribute, value);
        }
    }
}
