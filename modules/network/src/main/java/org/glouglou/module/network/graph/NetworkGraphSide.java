package org.glouglou.module.network.graph;

import static org.glouglou.spi.graph.GraphAttributes.*;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.glouglou.module.network.server.NetworkKeys;
import org.glouglou.spi.graph.GraphElement;
import org.glouglou.spi.graph.GraphSide;

/**
 * The network module's part of the live graph (issue 5): a node per {@code gg:node:ADDR} (a host, labelled with its
 * latest DNS name, else its address) and an undirected edge per {@code gg:link:A|B} (a host pair, with per-direction
 * totals and rates, protocol mix, service ports and probes). Node ids are the addresses; edge ids are {@code A|B} as
 * in the link key, source A. Names come with the node hash (the server writes the latest name into it), so
 * {@code gg:name:*} is not followed.
 */
public final class NetworkGraphSide implements GraphSide {
    private static final List<String> PATTERNS = List.of(NetworkKeys.NODE + "*", NetworkKeys.LINK + "*");

    @Override
    public List<String> keyPatterns() {
        return PATTERNS;
    }

    @Override
    public boolean owns(String key) {
        return key.startsWith(NetworkKeys.NODE) || key.startsWith(NetworkKeys.LINK);
    }

    @Override
    public GraphElement element(String key, Map<String, String> f) {
        if (f == null || f.isEmpty()) {
            return null;
        }
        if (key.startsWith(NetworkKeys.NODE)) {
            return node(key.substring(NetworkKeys.NODE.length()), f);
        }
        if (key.startsWith(NetworkKeys.LINK)) {
            return edge(key.substring(NetworkKeys.LINK.length()), f);
        }
        return null;
    }

    private static GraphElement.Node node(String addr, Map<String, String> f) {
        Map<String, Object> a = new LinkedHashMap<>();
        String name = f.get("name");
        a.put(LABEL, name != null && !name.isEmpty() ? name : addr);
        a.put(KIND, KIND_HOST);
        a.put(ADDR, addr);
        if (name != null && !name.isEmpty()) {
            a.put(NAME, name);
        }
        num(f, "first_seen", a, FIRST_SEEN);
        num(f, "last_seen", a, LAST_SEEN);
        String[] probes = suffixes(f, "seen.");
        if (probes != null) {
            a.put(PROBES, probes);
        }
        num(f, "hops", a, HOPS);
        str(f, "hops_method", a, "hops_method");
        str(f, "path", a, "path");
        return new GraphElement.Node(addr, a);
    }

    private static GraphElement.Edge edge(String pair, Map<String, String> f) {
        int bar = pair.indexOf('|');
        if (bar <= 0 || bar == pair.length() - 1) {
            return null;
        }
        String x = pair.substring(0, bar);
        String y = pair.substring(bar + 1);
        Map<String, Object> a = new LinkedHashMap<>();
        long bab = num(f, "bytes_ab", a, BYTES_AB);
        long bba = num(f, "bytes_ba", a, BYTES_BA);
        num(f, "pkts_ab", a, PKTS_AB);
        num(f, "pkts_ba", a, PKTS_BA);
        a.put(BYTES, bab + bba);
        num(f, "rate_ab", a, RATE_AB);
        num(f, "rate_ba", a, RATE_BA);
        num(f, "conns", a, CONNS);
        num(f, "first_seen", a, FIRST_SEEN);
        num(f, "last_seen", a, LAST_SEEN);
        String[] protos = suffixes(f, "proto.");
        if (protos != null) {
            a.put(PROTOCOLS, protos);
            for (String p : protos) {
                num(f, "proto." + p, a, PROTO_PREFIX + p);
            }
        }
        String[] ports = suffixes(f, "port.");
        if (ports != null) {
            List<Long> l = new ArrayList<>();
            for (String p : ports) {
                try {
                    l.add(Long.parseLong(p));
                } catch (NumberFormatException e) {
                    // not a port field: ignore
                }
            }
            if (!l.isEmpty()) {
                a.put(PORTS, l.stream().sorted().toArray(Long[]::new));
            }
        }
        String[] probes = suffixes(f, "seen.");
        if (probes != null) {
            a.put(PROBES, probes);
            // each probe's share (a link's totals are the sum over the probes that saw it): bytes.P and pkts.P, both
            // directions, so a viewer shows who saw how much (grouped views sum them like the totals)
            for (String p : probes) {
                long pb = num(f, "bytes_ab." + p) + num(f, "bytes_ba." + p);
                long pp = num(f, "pkts_ab." + p) + num(f, "pkts_ba." + p);
                if (pb != 0 || pp != 0) {
                    a.put(BYTES + "." + p, pb);
                    a.put("pkts." + p, pp);
                }
            }
        }
        a.put(KIND, "traffic");
        return new GraphElement.Edge(pair, x, y, false, a);
    }

    private static long num(Map<String, String> f, String field, Map<String, Object> a, String attr) {
        String v = f.get(field);
        if (v == null) {
            return 0;
        }
        try {
            long n = Long.parseLong(v);
            a.put(attr, n);
            return n;
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static long num(Map<String, String> f, String field) {
        String v = f.get(field);
        if (v == null) {
            return 0;
        }
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static void str(Map<String, String> f, String field, Map<String, Object> a, String attr) {
        String v = f.get(field);
        if (v != null && !v.isEmpty()) {
            a.put(attr, v);
        }
    }

    /** The sorted suffixes of the fields starting with {@code prefix}, or null when there is none. */
    private static String[] suffixes(Map<String, String> f, String prefix) {
        TreeSet<String> s = null;
        for (String k : f.keySet()) {
            if (k.startsWith(prefix) && k.length() > prefix.length()) {
                if (s == null) {
                    s = new TreeSet<>();
                }
                s.add(k.substring(prefix.length()));
            }
        }
        return s == null ? null : s.toArray(String[]::new);
    }
}
