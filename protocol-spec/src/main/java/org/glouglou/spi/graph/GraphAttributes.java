package org.glouglou.spi.graph;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Attribute names every module uses for the same meaning (issue 5), so the core can filter, group and label elements
 * without knowing the module, and the value types every output format can carry.
 */
public final class GraphAttributes {
    /** Text to draw: a DNS name, else the address; a group's prefix or domain. */
    public static final String LABEL = "label";
    /** What the element is: {@link #KIND_HOST}, {@link #KIND_GROUP}, {@link #KIND_PROCESS}, or a module's own. */
    public static final String KIND = "kind";
    public static final String KIND_HOST = "host";
    public static final String KIND_GROUP = "group";
    public static final String KIND_PROCESS = "process";
    /** A node's network address in RFC 5952 text: filters by address/CIDR and subnet grouping use it. */
    public static final String ADDR = "addr";
    /** A node's DNS name: grouping by domain uses it. */
    public static final String NAME = "name";
    /** Module that made the element (set by the core). */
    public static final String MODULE = "module";
    /** Ids of the probes that saw the element, String[]. */
    public static final String PROBES = "probes";
    /** Protocol names carried by an edge, String[] ({@code tcp}, {@code udp}...). */
    public static final String PROTOCOLS = "protocols";
    /** Prefix of per-protocol byte totals of an edge: {@code proto.tcp} = bytes (the protocol mix). */
    public static final String PROTO_PREFIX = "proto.";
    /** Service ports of an edge (the responder's port of its connections), Long[]. */
    public static final String PORTS = "ports";
    /** Total bytes of an edge, both directions (minimum-traffic filter). */
    public static final String BYTES = "bytes";
    public static final String BYTES_AB = "bytes_ab";
    public static final String BYTES_BA = "bytes_ba";
    public static final String PKTS_AB = "pkts_ab";
    public static final String PKTS_BA = "pkts_ba";
    /** Current rate per direction in bytes/s. */
    public static final String RATE_AB = "rate_ab";
    public static final String RATE_BA = "rate_ba";
    /** Connections opened. */
    public static final String CONNS = "conns";
    /** Milliseconds since the epoch. */
    public static final String FIRST_SEEN = "first_seen";
    public static final String LAST_SEEN = "last_seen";
    /** Distance to the host in hops, as the nearest probe measured it. */
    public static final String HOPS = "hops";
    /** Members of a group node (set by the core). */
    public static final String MEMBERS = "members";

    private GraphAttributes() {
    }

    /**
     * Returns {@code v} when every output format can carry it (String, Long, Double, Boolean, non-empty String[] or
     * Long[]: NetStream needs boxed, non-empty arrays), else throws.
     */
    public static Object checkValue(String name, Object v) {
        if (v instanceof String || v instanceof Long || v instanceof Double || v instanceof Boolean) {
            return v;
        }
        if ((v instanceof String[] s && s.length > 0) || (v instanceof Long[] l && l.length > 0)) {
            return v;
        }
        throw new IllegalArgumentException("graph attribute " + name + ": unsupported value " + (v == null
                ? "null"
                : v.getClass().getSimpleName()));
    }

    /** An unmodifiable, checked copy that keeps the insertion order. */
    static Map<String, Object> freeze(Map<String, Object> m) {
        Map<String, Object> c = new LinkedHashMap<>(m.size() * 2);
        m.forEach((k, v) -> c.put(k, checkValue(k, v)));
        return Collections.unmodifiableMap(c);
    }
}
