package org.glouglou.spi.graph;

import java.util.Map;

/**
 * One element of the neutral live graph (issue 5): a node or an edge with a typed attribute map. Attribute values are
 * {@link GraphAttributes#checkValue checked} types only (String, Long, Double, Boolean, String[], Long[]), so every
 * output format can write them. Immutable: the maps are never changed once the element is built, which lets the
 * server share one element between many viewers.
 */
public sealed interface GraphElement permits GraphElement.Node, GraphElement.Edge {
    String id();

    Map<String, Object> attributes();

    /** A node; {@code id} is unique among nodes of the whole graph (modules choose ids that do not collide). */
    record Node(String id, Map<String, Object> attributes) implements GraphElement {
        public Node {
            attributes = GraphAttributes.freeze(attributes);
        }
    }

    /**
     * An edge between two node ids. Attributes that depend on the direction end in {@code _ab} (source to target) and
     * {@code _ba} (target to source), so the core can swap them when it orients a grouped edge the other way.
     */
    record Edge(String id, String source, String target, boolean directed, Map<String, Object> attributes)
            implements
                GraphElement {
        public Edge {
            attributes = GraphAttributes.freeze(attributes);
        }
    }
}
