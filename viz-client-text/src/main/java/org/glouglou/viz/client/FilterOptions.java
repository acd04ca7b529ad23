package org.glouglou.viz.client;

import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** The filter and level-of-detail options both viewers share (issue 6), a picocli mixin; see {@link ViewFilter}. */
public final class FilterOptions {
    @Option(names = {"-a", "--address"}, paramLabel = "CIDR", description = "only hosts in this address or prefix"
            + " (repeatable, e.g. 10.0.0.0/8, 2001:db8::/32)")
    List<String> addresses = new ArrayList<>();

    @Option(names = {"-p", "--port"}, paramLabel = "PORT", description = "only traffic to this service port"
            + " (repeatable)")
    List<String> ports = new ArrayList<>();

    @Option(names = "--protocol", paramLabel = "NAME", description = "only this protocol: tcp, udp, icmp..."
            + " (repeatable)")
    List<String> protocols = new ArrayList<>();

    @Option(names = "--probe", paramLabel = "ID", description = "only what this probe saw (repeatable)")
    List<String> probes = new ArrayList<>();

    @Option(names = "--min-bytes", paramLabel = "N", description = "only host pairs with at least N bytes")
    long minBytes;

    @Option(names = {"-l", "--level"}, paramLabel = "LEVEL", description = "level of detail: hosts, subnet or domain"
            + " (default: ${DEFAULT-VALUE})")
    String level = "hosts";

    @Option(names = "--prefix", paramLabel = "BITS", description = "IPv4 prefix length for --level subnet (server"
            + " default 24)")
    Integer prefix;

    @Option(names = "--prefix6", paramLabel = "BITS", description = "IPv6 prefix length for --level subnet (server"
            + " default 64)")
    Integer prefix6;

    @Option(names = "--labels", paramLabel = "N", description = "DNS labels kept for --level domain (server default"
            + " 2: example.org)")
    Integer labels;

    @Option(names = "--module", paramLabel = "NAME", description = "only this module's elements (repeatable;"
            + " default all)")
    List<String> modules = new ArrayList<>();

    public ViewFilter filter() throws UsageException {
        List<Integer> p = new ArrayList<>();
        for (String s : ports) {
            for (String w : ViewFilter.words(s)) {
                p.add(port(w));
            }
        }
        if (!ViewFilter.LEVELS.contains(level.toLowerCase(java.util.Locale.ROOT))) {
            throw new UsageException("--level " + level + ": expected hosts, subnet or domain");
        }
        if (minBytes < 0) {
            throw new UsageException("--min-bytes must be 0 or more");
        }
        return new ViewFilter(addresses, p, protocols, probes, minBytes, level, prefix, prefix6, labels, modules);
    }

    static int port(String s) throws UsageException {
        try {
            int n = Integer.parseInt(s.strip());
            if (n < 0 || n > 65535) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new UsageException("port '" + s + "': expected a number from 0 to 65535");
        }
    }
}
