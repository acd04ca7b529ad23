package org.glouglou.probe.e2e;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.glouglou.module.network.server.NetworkKeys;

/**
 * Packet and byte totals per host pair and direction, keyed as the graph keys them ({@code A|B} with A &lt; B by
 * address bytes, IPv4 before IPv6, RFC 5952 text): tshark's truth for a shared capture, or what Redis or a viewer
 * holds; and the comparison of two, with the figures the fault matrix reports (host pairs exact, packets on the
 * graph) and the first differing pairs.
 */
final class HostPairTotals {
    /** pkts a->b, bytes a->b, pkts b->a, bytes b->a, in the pair's canonical orientation. */
    record Totals(long pab, long bab, long pba, long bba) {
        static final Totals ZERO = new Totals(0, 0, 0, 0);

        Totals plus(Totals o) {
            return new Totals(pab + o.pab, bab + o.bab, pba + o.pba, bba + o.bba);
        }

        Totals times(int k) {
            return new Totals(pab * k, bab * k, pba * k, bba * k);
        }

        long packets() {
            return pab + pba;
        }

        long bytes() {
            return bab + bba;
        }

        @Override
        public String toString() {
            return "pkts " + pab + "/" + pba + " bytes " + bab + "/" + bba;
        }
    }

    private HostPairTotals() {
    }

    /** The ground truth of capture {@code name}: {@code glouglou.pcaps}/groundtruth/NAME.flows.tsv, summed per pair. */
    static Map<String, Totals> truth(String name) throws IOException {
        Path tsv = E2e.pcaps().resolve("groundtruth").resolve(name + ".flows.tsv");
        List<String> lines = Files.readAllLines(tsv);
        Map<String, Totals> m = new TreeMap<>();
        // columns: proto, a, aport, b, bport, pkts a->b, bytes a->b, pkts b->a, bytes b->a, first, last
        for (String l : lines.subList(1, lines.size())) {
            String[] f = l.split("\t", -1);
            InetAddress a = InetAddress.getByName(f[1]);
            InetAddress b = InetAddress.getByName(f[3]);
            Totals t = new Totals(Long.parseLong(f[5]), Long.parseLong(f[6]), Long.parseLong(f[7]), Long.parseLong(
                    f[8]));
            boolean aFirst = ordered(a, b);
            String key = pair(a, b);
            Totals oriented = aFirst ? t : new Totals(t.pba(), t.bba(), t.pab(), t.bab());
            m.merge(key, oriented, Totals::plus);
        }
        return m;
    }

    static Map<String, Totals> times(Map<String, Totals> m, int k) {
        Map<String, Totals> out = new TreeMap<>();
        m.forEach((key, t) -> out.put(key, t.times(k)));
        return out;
    }

    /** True when {@code x} comes first in a pair, as in the network module's link keys. */
    static boolean ordered(InetAddress x, InetAddress y) {
        return NetworkKeys.ordered(x, y);
    }

    /** The pair as its link key names it ({@code gg:link:A|B} without the prefix), whatever the order given. */
    static String pair(InetAddress x, InetAddress y) {
        return NetworkKeys.link(x, y).substring(NetworkKeys.LINK.length());
    }

    /** How {@code actual} compares with {@code expected}, pair by pair. */
    record Comparison(int pairs, int exact, long expectedPackets, long actualPackets, long expectedBytes,
            long actualBytes, List<String> differences, int differing) {
        boolean matches() {
            return differing == 0;
        }

        /** The fault matrix's figures: "host pairs exact 33/41, packets 4660/4999, bytes .../...". */
        String figures() {
            return "host pairs exact " + exact + "/" + pairs + ", packets " + actualPackets + "/" + expectedPackets
                    + ", bytes " + actualBytes + "/" + expectedBytes;
        }

        String describe() {
            return figures() + (differing == 0
                    ? ""
                    : "; " + differing + " pairs differ, first " + differences.size() + ": " + String.join("; ",
                            differences));
        }
    }

    static Comparison compare(Map<String, Totals> expected, Map<String, Totals> actual) {
        int exact = 0;
        long ep = 0;
        long ap = 0;
        long eb = 0;
        long ab = 0;
        int differing = 0;
        List<String> diffs = new ArrayList<>();
        TreeSet<String> keys = new TreeSet<>(expected.keySet());
        keys.addAll(actual.keySet());
        for (String k : keys) {
            Totals e = expected.get(k);
            Totals a = actual.get(k);
            if (e != null) {
                ep += e.packets();
                eb += e.bytes();
            }
            if (a != null) {
                ap += a.packets();
                ab += a.bytes();
            }
            if (e != null && e.equals(a)) {
                exact++;
                continue;
            }
            differing++;
            if (diffs.size() < 8) {
                if (a == null) {
                    diffs.add(k + " missing (expected " + e + ")");
                } else if (e == null) {
                    diffs.add(k + " unexpected (" + a + ")");
                } else {
                    diffs.add(k + " expected " + e + ", got " + a + " (pkts " + signed(a.pab() - e.pab()) + "/"
                            + signed(a.pba() - e.pba()) + ", bytes " + signed(a.bab() - e.bab()) + "/" + signed(a
                                    .bba() - e.bba())
                            + ")");
                }
            }
        }
        return new Comparison(expected.size(), exact, ep, ap, eb, ab, diffs, differing);
    }

    private static String signed(long d) {
        return d > 0 ? "+" + d : String.valueOf(d);
    }
}
