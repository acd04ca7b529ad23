package org.glouglou.server;

import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.glouglou.module.network.FlowKey;
import org.glouglou.module.network.NetworkEvents;
import org.glouglou.module.network.server.NetworkKeys;

/**
 * The shared captures' ground truth ({@code glouglou.pcaps}/groundtruth/*.flows.tsv and *.dns.tsv) as the events a
 * probe would send, and as the Redis state they must produce (the replay tests).
 */
public final class GroundTruth {
    public record Flow(int proto, InetAddress a, int aport, InetAddress b, int bport, long pab, long bab, long pba,
            long bba, long firstMicros, long lastMicros) {
    }

    public record Answer(InetAddress addr, String name, boolean viaCname, long timeMicros) {
    }

    /** One timed event of the synthesised probe. */
    public record Timed(long timeMicros, org.glouglou.spi.Event event) {
    }

    /** Link totals in canonical (a &lt; b) orientation. */
    public record LinkTotals(long pab, long bab, long pba, long bba) {
        LinkTotals plus(long p1, long b1, long p2, long b2) {
            return new LinkTotals(pab + p1, bab + b1, pba + p2, bba + b2);
        }
    }

    public final String name;
    public final List<Flow> flows = new ArrayList<>();
    public final List<Answer> answers = new ArrayList<>();

    public GroundTruth(String name) throws IOException {
        this.name = name;
        Path dir = dir();
        List<String> lines = Files.readAllLines(dir.resolve(name + ".flows.tsv"));
        for (String l : lines.subList(1, lines.size())) {
            String[] f = l.split("\t", -1);
            flows.add(new Flow(Integer.parseInt(f[0]), InetAddress.getByName(f[1]), Integer.parseInt(f[2]),
                    InetAddress.getByName(f[3]), Integer.parseInt(f[4]), Long.parseLong(f[5]), Long.parseLong(f[6]),
                    Long.parseLong(f[7]), Long.parseLong(f[8]), micros(f[9]), micros(f[10])));
        }
        Path dns = dir.resolve(name + ".dns.tsv");
        if (Files.exists(dns)) {
            for (String l : Files.readAllLines(dns)) {
                String[] f = l.split("\t", -1);
                if (f.length < 11 || !"1".equals(f[4]) || !"0".equals(f[5]) || f[6].isEmpty()) {
                    continue;
                }
                boolean cname = !f[10].isEmpty();
                for (String list : new String[]{f[8], f[9]}) {
                    for (String a : list.split(",")) {
                        if (!a.isEmpty()) {
                            answers.add(new Answer(InetAddress.getByName(a), f[6], cname, micros(f[1])));
                        }
                    }
                }
            }
        }
    }

    static long micros(String epoch) {
        return (long) (Double.parseDouble(epoch) * 1e6);
    }

    public static Path dir() {
        return Path.of(System.getProperty("glouglou.pcaps", "../../shared/pcaps"), "groundtruth");
    }

    /** Captures with ground truth. */
    public static List<String> names() throws IOException {
        try (var s = Files.list(dir())) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".flows.tsv"))
                    .map(n -> n.substring(0, n.length() - ".flows.tsv".length())).sorted().toList();
        }
    }

    /**
     * What a probe would send for flows {@code from..to}: NEWCONN, a DATA with about half of each direction, and a
     * DELCONN with the totals (the server adds what DATA did not carry). Connection ids are the flow's index + 1.
     */
    public List<Timed> events(int from, int to) {
        List<Timed> out = new ArrayList<>();
        for (int i = from; i < to; i++) {
            Flow f = flows.get(i);
            long conn = i + 1;
            FlowKey k = new FlowKey(f.proto(), f.a(), f.aport(), f.b(), f.bport());
            out.add(new Timed(f.firstMicros(), new NetworkEvents.NewConn(conn, k)));
            long p1 = f.pab() / 2;
            long p2 = f.pba() / 2;
            if (p1 > 0 || p2 > 0) {
                out.add(new Timed(f.lastMicros(), new NetworkEvents.Data(conn, p1, f.bab() / 2, p2, f.bba() / 2,
                        null)));
            }
            out.add(new Timed(f.lastMicros(), new NetworkEvents.DelConn(conn, NetworkEvents.Reason.END, f.pab(),
                    f.bab(), f.pba(), f.bba(), null)));
        }
        return out;
    }

    public List<Timed> nameEvents() {
        List<Timed> out = new ArrayList<>();
        for (Answer a : answers) {
            out.add(new Timed(a.timeMicros(), new NetworkEvents.Name(a.addr(), a.name(), a.viaCname()
                    ? NetworkEvents.NameSource.DNS_CNAME
                    : NetworkEvents.NameSource.DNS_A, 300)));
        }
        return out;
    }

    public Set<String> expectedHosts(int flowsUpTo) {
        Set<String> s = new TreeSet<>();
        for (Flow f : flows.subList(0, flowsUpTo)) {
            s.add(NetworkKeys.text(f.a()));
            s.add(NetworkKeys.text(f.b()));
        }
        return s;
    }

    public Map<String, LinkTotals> expectedLinks(int flowsUpTo) {
        Map<String, LinkTotals> m = new TreeMap<>();
        for (Flow f : flows.subList(0, flowsUpTo)) {
            String k = NetworkKeys.link(f.a(), f.b());
            LinkTotals t = m.getOrDefault(k, new LinkTotals(0, 0, 0, 0));
            boolean aFirst = NetworkKeys.ordered(f.a(), f.b());
            m.put(k, aFirst
                    ? t.plus(f.pab(), f.bab(), f.pba(), f.bba())
                    : t.plus(f.pba(), f.bba(), f.pab(), f
                            .bab()));
        }
        return m;
    }

    public Map<String, Set<String>> expectedNames() {
        Map<String, Set<String>> m = new TreeMap<>();
        for (Answer a : answers) {
            m.computeIfAbsent(NetworkKeys.name(a.addr()), k -> new TreeSet<>()).add(a.name());
        }
        return m;
    }

    /** Every key matching {@code pattern}, through SCAN (what a viewer's snapshot does too). */
    public static Set<String> scan(io.lettuce.core.cluster.api.sync.RedisClusterCommands<String, String> r,
            String pattern) {
        Set<String> keys = new HashSet<>();
        ScanCursor c = ScanCursor.INITIAL;
        do {
            KeyScanCursor<String> k = r.scan(c, ScanArgs.Builder.matches(pattern).limit(1000));
            keys.addAll(k.getKeys());
            c = k;
        } while (!c.isFinished());
        return keys;
    }

    public static Set<String> hosts(io.lettuce.core.cluster.api.sync.RedisClusterCommands<String, String> r) {
        Set<String> s = new TreeSet<>();
        for (String k : scan(r, NetworkKeys.NODE + "*")) {
            s.add(k.substring(NetworkKeys.NODE.length()));
        }
        return s;
    }

    public static Map<String, LinkTotals> links(
            io.lettuce.core.cluster.api.sync.RedisClusterCommands<String, String> r) {
        Map<String, LinkTotals> m = new TreeMap<>();
        for (String k : scan(r, NetworkKeys.LINK + "*")) {
            Map<String, String> h = r.hgetall(k);
            m.put(k, new LinkTotals(num(h, "pkts_ab"), num(h, "bytes_ab"), num(h, "pkts_ba"), num(h, "bytes_ba")));
        }
        return m;
    }

    public static Map<String, Set<String>> names(
            io.lettuce.core.cluster.api.sync.RedisClusterCommands<String, String> r) {
        Map<String, Set<String>> m = new TreeMap<>();
        for (String k : scan(r, NetworkKeys.NAME + "*")) {
            m.put(k, new TreeSet<>(r.hkeys(k)));
        }
        return m;
    }

    static long num(Map<String, String> h, String f) {
        String v = h.get(f);
        return v == null ? 0 : Long.parseLong(v);
    }

    /**
     * Every hash under gg: except probe status (and its marks), as a comparable snapshot: the graph state with its
     * conn keys and marks. Closed-contributor sets (sorted sets) are left out.
     */
    public static Map<String, Map<String, String>> dump(
            io.lettuce.core.cluster.api.sync.RedisClusterCommands<String, String> r) {
        Map<String, Map<String, String>> m = new TreeMap<>();
        for (String k : scan(r, "gg:*")) {
            if (!k.contains("gg:probe:") && !k.startsWith("gg:closed:")) {
                m.put(k, new TreeMap<>(r.hgetall(k)));
            }
        }
        return m;
    }

    /** assertEquals with a short message: sizes and the first few differences, not two huge collections. */
    public static void assertSame(Object expected, Object actual, String what) {
        if (expected.equals(actual)) {
            return;
        }
        java.util.Collection<?> e = expected instanceof Map<?, ?> m ? m.entrySet() : (java.util.Collection<?>) expected;
        java.util.Collection<?> a = actual instanceof Map<?, ?> m ? m.entrySet() : (java.util.Collection<?>) actual;
        List<Object> missing = e.stream().filter(x -> !a.contains(x)).limit(5).map(Object.class::cast).toList();
        List<Object> extra = a.stream().filter(x -> !e.contains(x)).limit(5).map(Object.class::cast).toList();
        org.junit.jupiter.api.Assertions.fail(what + ": expected " + e.size() + ", got " + a.size() + "; missing "
                + missing + "; unexpected " + extra);
    }

    static Map<String, Long> counts(List<Timed> events) {
        Map<String, Long> m = new HashMap<>();
        events.forEach(e -> m.merge(e.event().type().name(), 1L, Long::sum));
        return m;
    }
}
