package org.glouglou.server.viz;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.glouglou.server.viz.format.GephiJsonWriter;
import org.glouglou.server.viz.format.NetStreamWriter;

/**
 * What one viewer asked to see (issue 5), from its {@code {"config":{...}}} message:
 *
 * <pre>
 * {"config": {"format": "netstream" | "json",
 *             "modules": ["network"],                       (default: every module)
 *             "filter": {"addresses": ["10.0.0.0/8", "2001:db8::1"], "ports": [443], "protocols": ["tcp"],
 *                        "probes": ["7"], "min_bytes": 10000},
 *             "detail": {"level": "hosts" | "subnet" | "domain", "prefix": 24, "prefix6": 64, "labels": 2}}}
 * </pre>
 *
 * Unknown fields are refused (a typo must not silently show everything).
 */
public record ViewerConfig(String format, Set<String> modules, List<Cidr> addresses, Set<Long> ports,
        Set<String> protocols, Set<String> probes, long minBytes, Level level, int prefix4, int prefix6,
        int domainLabels) {

    public enum Level {
        HOSTS, SUBNET, DOMAIN
    }

    /** 256 entries per list: far more than anyone types, small enough that matching stays cheap. */
    static final int MAX_LIST = 256;

    /** Everything, host by host, as JSON: what a viewer gets before it says otherwise. */
    public static ViewerConfig all(String format) {
        return new ViewerConfig(format, Set.of(), List.of(), Set.of(), Set.of(), Set.of(), 0, Level.HOSTS, 24, 64, 2);
    }

    /** True when a filter applies to edges, so that a node is shown only with an edge that passes. */
    boolean edgeFilters() {
        return !ports.isEmpty() || !protocols.isEmpty() || minBytes > 0;
    }

    public static ViewerConfig parse(JsonNode c) throws ViewerProtocolException {
        if (c == null || !c.isObject()) {
            throw new ViewerProtocolException("config must be an object");
        }
        only(c, "config", "format", "modules", "filter", "detail");
        String format = text(c, "format", GephiJsonWriter.FORMAT);
        if (!format.equals(GephiJsonWriter.FORMAT) && !format.equals(NetStreamWriter.FORMAT)) {
            throw new ViewerProtocolException("config.format '" + format + "': expected 'netstream' or 'json'");
        }
        Set<String> modules = strings(c.get("modules"), "config.modules");
        List<Cidr> addresses = new ArrayList<>();
        Set<Long> ports = new LinkedHashSet<>();
        Set<String> protocols = Set.of();
        Set<String> probes = Set.of();
        long minBytes = 0;
        JsonNode f = c.get("filter");
        if (f != null && !f.isNull()) {
            if (!f.isObject()) {
                throw new ViewerProtocolException("config.filter must be an object");
            }
            only(f, "config.filter", "addresses", "ports", "protocols", "probes", "min_bytes");
            for (String a : strings(f.get("addresses"), "config.filter.addresses")) {
                addresses.add(Cidr.parse(a));
            }
            JsonNode p = f.get("ports");
            if (p != null && !p.isNull()) {
                list(p, "config.filter.ports");
                for (JsonNode n : p) {
                    if (!n.canConvertToInt() || !n.isIntegralNumber() || n.asInt() < 0 || n.asInt() > 65535) {
                        throw new ViewerProtocolException("config.filter.ports: " + n + " is not a port number");
                    }
                    ports.add(n.asLong());
                }
            }
            protocols = strings(f.get("protocols"), "config.filter.protocols");
            probes = strings(f.get("probes"), "config.filter.probes");
            JsonNode m = f.get("min_bytes");
            if (m != null && !m.isNull()) {
                if (!m.isIntegralNumber() || m.asLong() < 0) {
                    throw new ViewerProtocolException("config.filter.min_bytes must be a number >= 0");
                }
                minBytes = m.asLong();
            }
        }
        Level level = Level.HOSTS;
        int p4 = 24;
        int p6 = 64;
        int labels = 2;
        JsonNode d = c.get("detail");
        if (d != null && !d.isNull()) {
            if (!d.isObject()) {
                throw new ViewerProtocolException("config.detail must be an object");
            }
            only(d, "config.detail", "level", "prefix", "prefix6", "labels");
            String l = text(d, "level", "hosts");
            level = switch (l) {
                case "hosts" -> Level.HOSTS;
                case "subnet" -> Level.SUBNET;
                case "domain" -> Level.DOMAIN;
                default -> throw new ViewerProtocolException("config.detail.level '" + l
                        + "': expected hosts, subnet or domain");
            };
            p4 = integer(d, "prefix", p4, 0, 32);
            p6 = integer(d, "prefix6", p6, 0, 128);
            labels = integer(d, "labels", labels, 1, 16);
        }
        return new ViewerConfig(format, modules, List.copyOf(addresses), Set.copyOf(ports), protocols, probes,
                minBytes, level, p4, p6, labels);
    }

    private static void only(JsonNode o, String where, String... allowed) throws ViewerProtocolException {
        Set<String> ok = Set.of(allowed);
        Iterator<String> it = o.fieldNames();
        while (it.hasNext()) {
            String f = it.next();
            if (!ok.contains(f)) {
                throw new ViewerProtocolException(where + ": unknown field '" + f + "'");
            }
        }
    }

    private static String text(JsonNode o, String field, String dflt) throws ViewerProtocolException {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) {
            return dflt;
        }
        if (!n.isTextual()) {
            throw new ViewerProtocolException(field + " must be a string");
        }
        return n.asText();
    }

    private static int integer(JsonNode o, String field, int dflt, int min, int max) throws ViewerProtocolException {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) {
            return dflt;
        }
        if (!n.isIntegralNumber() || n.asInt() < min || n.asInt() > max) {
            throw new ViewerProtocolException("config.detail." + field + " must be a number from " + min + " to "
                    + max);
        }
        return n.asInt();
    }

    private static void list(JsonNode n, String where) throws ViewerProtocolException {
        if (!n.isArray()) {
            throw new ViewerProtocolException(where + " must be a list");
        }
        if (n.size() > MAX_LIST) {
            throw new ViewerProtocolException(where + ": at most " + MAX_LIST + " entries");
        }
    }

    private static Set<String> strings(JsonNode n, String where) throws ViewerProtocolException {
        if (n == null || n.isNull()) {
            return Set.of();
        }
        list(n, where);
        Set<String> s = new LinkedHashSet<>();
        for (JsonNode e : n) {
            if (!e.isTextual() || e.asText().isEmpty()) {
                throw new ViewerProtocolException(where + ": " + e + " is not a non-empty string");
            }
            s.add(e.asText());
        }
        return Set.copyOf(s);
    }
}
