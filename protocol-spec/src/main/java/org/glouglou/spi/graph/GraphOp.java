package org.glouglou.spi.graph;

import java.util.Map;
import java.util.Set;

/**
 * A neutral graph operation (issue 5): what the server sends a viewer, before any output format. The NetStream and
 * JSON writers of the server turn a list of these into bytes; nothing here knows a format.
 */
public sealed interface GraphOp {
    record AddNode(GraphElement.Node node) implements GraphOp {
    }

    /** Attributes set (added or changed) and removed on an existing node. */
    record ChangeNode(String id, Map<String, Object> set, Map<String, Object> previous, Set<String> removed)
            implements
                GraphOp {
    }

    record DeleteNode(String id) implements GraphOp {
    }

    record AddEdge(GraphElement.Edge edge) implements GraphOp {
    }

    record ChangeEdge(String id, Map<String, Object> set, Map<String, Object> previous, Set<String> removed)
            implements
                GraphOp {
    }

    record DeleteEdge(String id) implements GraphOp {
    }

    /** Everything the viewer holds is gone; a full snapshot follows (resync). */
    record Clear() implements GraphOp {
    }

    /**
     * End of a consistent batch: what the viewer holds now equals the server's graph at {@code timeMillis}.
     * {@code seq} grows by one per step and per viewer connection.
     */
    record Step(long seq, long timeMillis) implements GraphOp {
    }

    /** Something the viewer should know (resync, Redis unavailable, configuration applied); {@code kind} is stable. */
    record Notice(String kind, String message) implements GraphOp {
    }
}
