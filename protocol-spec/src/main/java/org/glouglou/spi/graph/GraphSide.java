package org.glouglou.spi.graph;

import java.util.List;
import java.util.Map;

/**
 * The graph half of a module (issue 5): which Redis key families make its part of the live graph, and how one key's
 * hash becomes one graph element. The server's viewer core reads the families with SCAN MATCH, follows them through
 * keyspace notifications, and never needs to know what the keys mean. Implementations are pure functions, called
 * from the server's viewer thread.
 */
public interface GraphSide {
    /** SCAN MATCH patterns of the key families this module's graph is made of, e.g. {@code gg:node:*}. */
    List<String> keyPatterns();

    /** True when {@code key} belongs to one of {@link #keyPatterns()} (cheap: called for every notification). */
    boolean owns(String key);

    /**
     * The element that {@code key} holds with these fields, or null when the hash does not make one (empty: the key
     * is gone; incomplete: written half-way). An edge names its end nodes by their node ids; the core shows an edge
     * only while both ends exist.
     */
    GraphElement element(String key, Map<String, String> fields);
}
