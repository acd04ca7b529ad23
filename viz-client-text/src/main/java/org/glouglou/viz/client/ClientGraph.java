package org.glouglou.viz.client;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The graph as a JSON-format viewer holds it (issue 6): nodes and edges with their attributes, kept up to date from the
 * server's Gephi-streaming events ({@code an cn dn ae ce de}, plus glouglou's {@code st cg notice}). {@link #apply}
 * reports what each event changed, old values included, so the text client can say "www.example.org is 192.0.2.7"
 * when a name arrives. Not thread-safe: one reader thread applies, others read under the object's lock.
 */
public final class ClientGraph {
    /** One element: its id, attributes, and for an edge its ends. */
    public record Element(String id, String source, String target, Map<String, Object> attributes) {
        public boolean isEdge() {
            return source != null;
        }

        public String text(String attr) {
            Object v = attributes.get(attr);
            return v == null ? null : String.valueOf(v);
        }

        public long number(String attr) {
            Object v = attributes.get(attr);
            return v instanceof Number n ? n.longValue() : 0;
        }
    }

    /** What one event did. */
    public sealed interface Change {
    }

    public record Added(Element element) implements Change {
    }

    /** {@code before} holds the previous values of the attributes in {@code set} and {@code removed}. */
    public record Changed(Element element, Map<String, Object> before, Map<String, Object> set, List<String> removed)
            implements
                Change {
    }

    public record Removed(Element element) implements Change {
    }

    public record Cleared() implements Change {
    }

    public record Step(long seq, long timeMillis) implements Change {
    }

    public record Notice(String kind, String message) implements Change {
    }

    /** A line the graph does not know ({@code ok}, or something newer): passed on untouched. */
    public record Other(JsonNode line) implements Change {
    }

    private final Map<String, Element> nodes = new LinkedHashMap<>();
    private final Map<String, Element> edges = new LinkedHashMap<>();
    private long steps;

    public Map<String, Element> nodes() {
        return Collections.unmodifiableMap(nodes);
    }

    public Map<String, Element> edges() {
        return Collections.unmodifiableMap(edges);
    }

    public long steps() {
        return steps;
    }

    /** Applies one event line (already parsed) and says what it changed; null for an element the graph lacks. */
    public Change apply(JsonNode line) {
        if (line == null || !line.isObject() || line.size() != 1) {
            return new Other(line);
        }
        String type = line.fieldNames().next();
        JsonNode body = line.get(type);
        switch (type) {
            case "st" -> {
                steps++;
                return new Step(body.path("seq").asLong(), body.path("time").asLong());
            }
            case "cg" -> {
                nodes.clear();
                edges.clear();
                return new Cleared();
            }
            case "notice" -> {
                return new Notice(body.path("kind").asText(), body.path("message").asText());
            }
            case "an", "cn", "dn", "ae", "ce", "de" -> {
                if (!body.isObject() || body.size() != 1) {
                    return new Other(line);
                }
                String id = body.fieldNames().next();
                return element(type, id, body.get(id));
            }
            default -> {
                return new Other(line);
            }
        }
    }

    private Change element(String type, String id, JsonNode attrs) {
        boolean edge = type.charAt(1) == 'e';
        Map<String, Element> m = edge ? edges : nodes;
        switch (type.charAt(0)) {
            case 'a' -> {
                Map<String, Object> a = new TreeMap<>();
                String source = null;
                String target = null;
                for (Iterator<Map.Entry<String, JsonNode>> it = attrs.fields(); it.hasNext();) {
                    Map.Entry<String, JsonNode> f = it.next();
                    if (edge && f.getKey().equals("source")) {
                        source = f.getValue().asText();
                    } else if (edge && f.getKey().equals("target")) {
                        target = f.getValue().asText();
                    } else if (!(edge && f.getKey().equals("directed")) && !f.getValue().isNull()) {
                        a.put(f.getKey(), value(f.getValue()));
                    }
                }
                Element e = new Element(id, edge ? source : null, edge ? target : null, a);
                m.put(id, e);
                return new Added(e);
            }
            case 'c' -> {
                Element e = m.get(id);
                if (e == null) {
                    return null;
                }
                Map<String, Object> before = new LinkedHashMap<>();
                Map<String, Object> set = new LinkedHashMap<>();
                List<String> removed = new ArrayList<>();
                for (Iterator<Map.Entry<String, JsonNode>> it = attrs.fields(); it.hasNext();) {
                    Map.Entry<String, JsonNode> f = it.next();
                    Object old = e.attributes().get(f.getKey());
                    if (old != null) {
                        before.put(f.getKey(), old);
                    }
                    if (f.getValue().isNull()) {
                        e.attributes().remove(f.getKey());
                        removed.add(f.getKey());
                    } else {
                        Object v = value(f.getValue());
                        e.attributes().put(f.getKey(), v);
                        set.put(f.getKey(), v);
                    }
                }
                return new Changed(e, before, set, removed);
            }
            default -> {
                Element e = m.remove(id);
                return e == null ? null : new Removed(e);
            }
        }
    }

    /** JSON to the attribute types the server uses: String, Long, Double, Boolean, List of those. */
    static Object value(JsonNode v) {
        if (v.isIntegralNumber()) {
            return v.asLong();
        }
        if (v.isNumber()) {
            return v.asDouble();
        }
        if (v.isBoolean()) {
            return v.asBoolean();
        }
        if (v.isArray()) {
            List<Object> l = new ArrayList<>();
            v.forEach(e -> l.add(value(e)));
            return List.copyOf(l);
        }
        return v.asText();
    }
}
