package org.glouglou.viz.client;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What the user asked to see (issue 6): the filters and level of detail of the server's {@code config} message, from
 * the command line or the desktop viewer's toolbar. Empty lists mean "no filter"; the server checks every value and
 * refuses a bad one with a reason.
 */
public record ViewFilter(List<String> addresses, List<Integer> ports, List<String> protocols, List<String> probes,
        long minBytes, String level, Integer prefix, Integer prefix6, Integer labels, List<String> modules) {
    static final ObjectMapper JSON = new ObjectMapper();
    public static final List<String> LEVELS = List.of("hosts", "subnet", "domain");

    public ViewFilter {
        addresses = List.copyOf(addresses);
        ports = List.copyOf(ports);
        protocols = protocols.stream().map(p -> p.toLowerCase(Locale.ROOT)).toList();
        probes = List.copyOf(probes);
        modules = List.copyOf(modules);
        level = level == null ? "hosts" : level.toLowerCase(Locale.ROOT);
    }

    /** Everything, host by host. */
    public static ViewFilter all() {
        return new ViewFilter(List.of(), List.of(), List.of(), List.of(), 0, "hosts", null, null, null, List.of());
    }

    /** The same view with the toolbar's four fields replaced (blank: no filter). */
    public ViewFilter with(String address, String port, String protocol, String level) throws UsageException {
        List<Integer> p = new ArrayList<>();
        for (String s : words(port)) {
            p.add(FilterOptions.port(s));
        }
        String lv = level == null || level.isBlank() ? "hosts" : level.strip().toLowerCase(Locale.ROOT);
        if (!LEVELS.contains(lv)) {
            throw new UsageException("level '" + level + "': expected hosts, subnet or domain");
        }
        return new ViewFilter(words(address), p, words(protocol), probes, minBytes, lv, prefix, prefix6, labels,
                modules);
    }

    static List<String> words(String s) {
        if (s == null || s.isBlank()) {
            return List.of();
        }
        List<String> l = new ArrayList<>();
        for (String w : s.strip().split("[\\s,]+")) {
            if (!w.isEmpty()) {
                l.add(w);
            }
        }
        return l;
    }

    /** The {@code config} object for the server (ViewerConfig on its side). */
    public ObjectNode toConfig(String format) {
        ObjectNode c = JSON.createObjectNode();
        c.put("format", format);
        if (!modules.isEmpty()) {
            modules.forEach(c.putArray("modules")::add);
        }
        ObjectNode f = c.putObject("filter");
        addresses.forEach(f.putArray("addresses")::add);
        ports.forEach(f.putArray("ports")::add);
        protocols.forEach(f.putArray("protocols")::add);
        probes.forEach(f.putArray("probes")::add);
        if (minBytes > 0) {
            f.put("min_bytes", minBytes);
        }
        ObjectNode d = c.putObject("detail");
        d.put("level", level);
        if (prefix != null) {
            d.put("prefix", prefix);
        }
        if (prefix6 != null) {
            d.put("prefix6", prefix6);
        }
        if (labels != null) {
            d.put("labels", labels);
        }
        return c;
    }

    /** One line for a status bar or a log: what is filtered. */
    public String describe() {
        List<String> s = new ArrayList<>();
        if (!addresses.isEmpty()) {
            s.add("address " + String.join(",", addresses));
        }
        if (!ports.isEmpty()) {
            s.add("port " + ports.stream().map(String::valueOf).reduce((a, b) -> a + "," + b).get());
        }
        if (!protocols.isEmpty()) {
            s.add("protocol " + String.join(",", protocols));
        }
        if (!probes.isEmpty()) {
            s.add("probe " + String.join(",", probes));
        }
        if (minBytes > 0) {
            s.add(">= " + minBytes + " bytes");
        }
        s.add("level " + level);
        return String.join(", ", s);
    }
}
