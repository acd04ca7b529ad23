package org.glouglou.viz.text;

import java.util.List;
import java.util.Map;
import org.glouglou.spi.graph.GraphAttributes;
import org.glouglou.viz.client.ClientGraph;
import org.glouglou.viz.client.ClientGraph.Element;

/**
 * Turns graph changes into the sentences of the text client's live log (issue 6): new and ended traffic between two
 * hosts with its protocols and service ports, names learnt ("www.example.org is 192.0.2.7"), processes starting and
 * ending, server notices. Byte-count updates say nothing here: the top-talkers table shows them.
 */
final class HumanLog {
    private final ClientGraph graph;

    HumanLog(ClientGraph graph) {
        this.graph = graph;
    }

    /** The sentence for one change, or null when it is not worth a line. */
    String line(ClientGraph.Change c) {
        if (c instanceof ClientGraph.Added a) {
            Element e = a.element();
            if (e.isEdge()) {
                return "new traffic " + name(e.source()) + " <-> " + name(e.target()) + service(e);
            }
            if (GraphAttributes.KIND_PROCESS.equals(e.text(GraphAttributes.KIND))) {
                return "process started: " + e.text(GraphAttributes.LABEL);
            }
            return null; // a host appears with its first traffic, which says more
        }
        if (c instanceof ClientGraph.Changed ch) {
            Element e = ch.element();
            Object name = ch.set().get(GraphAttributes.NAME);
            if (!e.isEdge() && name != null && !name.equals(ch.before().get(GraphAttributes.NAME))) {
                return name + " is " + e.id();
            }
            Object protos = ch.set().get(GraphAttributes.PROTOCOLS);
            if (e.isEdge() && protos != null && ch.before().containsKey(GraphAttributes.PROTOCOLS)) {
                return "traffic " + name(e.source()) + " <-> " + name(e.target()) + " now" + service(e);
            }
            return null;
        }
        if (c instanceof ClientGraph.Removed r) {
            Element e = r.element();
            if (e.isEdge()) {
                return "traffic ended " + name(e.source()) + " <-> " + name(e.target()) + " after "
                        + Units.bytes(e.number(GraphAttributes.BYTES));
            }
            if (GraphAttributes.KIND_PROCESS.equals(e.text(GraphAttributes.KIND))) {
                return "process ended: " + e.text(GraphAttributes.LABEL);
            }
            return "host gone: " + label(e);
        }
        if (c instanceof ClientGraph.Notice n) {
            return "server: " + n.kind() + ": " + n.message();
        }
        if (c instanceof ClientGraph.Cleared) {
            return "server resends the whole graph";
        }
        return null;
    }

    /** A node's DNS name when it has one, else its id (the address). */
    String name(String id) {
        Element n = graph.nodes().get(id);
        return n == null ? id : label(n);
    }

    static String label(Element n) {
        String l = n.text(GraphAttributes.LABEL);
        return l == null ? n.id() : l;
    }

    /** " tcp 443,8443" or "" */
    static String service(Element e) {
        StringBuilder b = new StringBuilder();
        Object protos = e.attributes().get(GraphAttributes.PROTOCOLS);
        if (protos instanceof List<?> l && !l.isEmpty()) {
            b.append(' ').append(join(l));
        }
        Object ports = e.attributes().get(GraphAttributes.PORTS);
        if (ports instanceof List<?> l && !l.isEmpty()) {
            b.append(" port ").append(join(l));
        }
        return b.toString();
    }

    static String join(List<?> l) {
        StringBuilder b = new StringBuilder();
        for (Object o : l) {
            if (b.length() > 0) {
                b.append(',');
            }
            b.append(o);
        }
        return b.toString();
    }

    static long rate(Element e) {
        return e.number(GraphAttributes.RATE_AB) + e.number(GraphAttributes.RATE_BA);
    }

    static String attrs(Map<String, Object> m) {
        return m.toString();
    }
}
