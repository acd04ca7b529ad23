package org.glouglou.server.viz.format;

import java.util.IdentityHashMap;
import org.glouglou.spi.graph.GraphOp;

/**
 * One tick's encodings, in one format, of the operations that several views send alike (issue 5, fan-out): at the
 * hosts level every view that shows a changed model element sends the same {@link GraphOp.ChangeNode} or
 * {@link GraphOp.ChangeEdge} object, and the addition of the same model element; each is encoded once and then
 * copied, instead of once per view. Keys are compared by identity (the op, or the element added) and live only for
 * the tick, so an equal-looking but different operation is never taken for another. Owned by the viewer thread;
 * cleared after each tick.
 */
public final class EncodedOps {
    private final IdentityHashMap<Object, byte[]> encoded = new IdentityHashMap<>();
    private long hits;

    /** What identifies {@code op}'s encoding across views, or null when it is not worth sharing. */
    static Object keyOf(GraphOp op) {
        if (op instanceof GraphOp.ChangeNode || op instanceof GraphOp.ChangeEdge) {
            return op;
        }
        if (op instanceof GraphOp.AddNode a) {
            return a.node();
        }
        if (op instanceof GraphOp.AddEdge a) {
            return a.edge();
        }
        return null;
    }

    byte[] get(Object key) {
        byte[] b = encoded.get(key);
        if (b != null) {
            hits++;
        }
        return b;
    }

    void put(Object key, byte[] bytes) {
        encoded.put(key, bytes);
    }

    /** Encodings reused since the last {@link #clear}. */
    public long hits() {
        return hits;
    }

    public int size() {
        return encoded.size();
    }

    public void clear() {
        encoded.clear();
        hits = 0;
    }
}
