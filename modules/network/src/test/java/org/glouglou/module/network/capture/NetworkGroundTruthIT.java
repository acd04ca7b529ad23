package org.glouglou.module.network.capture;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.glouglou.module.network.NetworkEvents.Data;
import org.glouglou.module.network.NetworkEvents.DelConn;
import org.glouglou.module.network.NetworkEvents.Name;
import org.glouglou.module.network.NetworkEvents.NewConn;
import org.glouglou.spi.Event;
import org.glouglou.spi.ProbeSource;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Runs the network probe source on every shared capture and compares its flows with the exact ground truth made by
 * groundtruth/flows.py from tshark (sum of split flows per 5-tuple, both directions), and its names with every DNS
 * A/AAAA answer in groundtruth/NAME.dns.tsv.
 */
class NetworkGroundTruthIT {
    static Path pcaps() {
        return Path.of(System.getProperty("glouglou.pcaps", "../../../shared/pcaps"));
    }

    static Stream<Path> captures() throws IOException {
        List<Path> all = new ArrayList<>();
        try (Stream<Path> s = Files.list(pcaps())) {
            s.filter(p -> p.toString().endsWith(".pcap") || p.toString().endsWith(".pcapng")).sorted()
                    .forEach(all::add);
        }
        assertFalse(all.isEmpty(), "no captures in " + pcaps().toAbsolutePath());
        // the hand-made edge cases (fragments, IPv6 extension headers, ICMP errors, VLAN, truncation)
        all.add(Path.of("src/test/resources/captures/edge_cases.pcap"));
        return all.stream();
    }

    record Tuple(int proto, InetAddress a, int ap, InetAddress b, int bp) {
        Tuple reversed() {
            return new Tuple(proto, b, bp, a, ap);
        }
    }

    record Run(List<Event> events, Map<String, Long> stats) {
    }

    static Run run(Path file) throws Exception {
        NetworkOptions o = new NetworkOptions();
        o.read = file;
        ProbeSource src = new NetworkProbeFactory().create(o, TestContext.DEFAULT);
        List<Event> events = new ArrayList<>();
        src.openPrivileged();
        src.run((t, e) -> events.add(e));
        return new Run(events, src.stats());
    }

    @ParameterizedTest
    @MethodSource("captures")
    void flowsMatchGroundTruth(Path file) throws Exception {
        String name = file.getFileName().toString().replaceFirst("\\.pcap(ng)?$", "");
        Path truthFile = name.equals("edge_cases")
                ? file.resolveSibling("edge_cases.flows.tsv")
                : pcaps().resolve("groundtruth").resolve(name + ".flows.tsv");
        Map<Tuple, long[]> truth = new HashMap<>();
        for (String line : Files.readAllLines(truthFile)) {
            if (line.startsWith("proto")) {
                continue;
            }
            String[] c = line.split("\t");
            Tuple t = new Tuple(Integer.parseInt(c[0]), InetAddress.getByName(c[1]), Integer.parseInt(c[2]),
                    InetAddress.getByName(c[3]), Integer.parseInt(c[4]));
            assertNull(truth.put(t, new long[]{Long.parseLong(c[5]), Long.parseLong(c[6]), Long.parseLong(c[7]),
                    Long.parseLong(c[8])}), "duplicate truth row " + line);
        }
        Run r = run(file);
        Map<Tuple, long[]> got = new HashMap<>();
        Map<Long, long[]> lastData = new HashMap<>();
        Set<Long> open = new HashSet<>();
        for (Event e : r.events) {
            if (e instanceof NewConn n) {
                assertTrue(open.add(n.conn()), "conn id reused: " + n);
            } else if (e instanceof Data d) {
                assertTrue(open.contains(d.conn()), "DATA before NEWCONN or after DELCONN: " + d);
                // cumulative (spec 4.1): each DATA's totals at least the previous one's
                long[] now = {d.srcPkts(), d.srcBytes(), d.dstPkts(), d.dstBytes()};
                long[] s = lastData.put(d.conn(), now);
                for (int i = 0; s != null && i < 4; i++) {
                    assertTrue(now[i] >= s[i], "DATA of " + d.flow() + " went backwards");
                }
            } else if (e instanceof DelConn d) {
                assertTrue(open.remove(d.conn()), "DELCONN without NEWCONN: " + d);
                long[] s = lastData.get(d.conn());
                if (s != null) {
                    // DATA reports the totals before the close's tick; DELCONN's include it (spec 4.1)
                    long[] total = {d.srcPkts(), d.srcBytes(), d.dstPkts(), d.dstBytes()};
                    for (int i = 0; i < 4; i++) {
                        assertTrue(s[i] <= total[i], "DATA of " + d.flow() + " reports more than its DELCONN");
                    }
                }
                Tuple t = new Tuple(d.flow().proto(), d.flow().src(), d.flow().sport(), d.flow().dst(),
                        d.flow().dport());
                boolean swap = !truth.containsKey(t) && truth.containsKey(t.reversed());
                Tuple k = swap ? t.reversed() : t;
                // only a later part of a split flow may start from the other side
                assertTrue(!swap || got.containsKey(k), "first flow of " + k + " reported the wrong way round");
                long[] g = got.computeIfAbsent(k, x -> new long[4]);
                g[swap ? 2 : 0] += d.srcPkts();
                g[swap ? 3 : 1] += d.srcBytes();
                g[swap ? 0 : 2] += d.dstPkts();
                g[swap ? 1 : 3] += d.dstBytes();
            }
        }
        assertTrue(open.isEmpty(), open.size() + " flows never got a DELCONN");
        Set<Tuple> missing = new HashSet<>(truth.keySet());
        missing.removeAll(got.keySet());
        Set<Tuple> extra = new HashSet<>(got.keySet());
        extra.removeAll(truth.keySet());
        assertTrue(missing.isEmpty(), missing.size() + " truth flows not reported, e.g. " + first(missing));
        assertTrue(extra.isEmpty(), extra.size() + " reported flows not in the truth, e.g. " + first(extra));
        int wrong = 0;
        StringBuilder sb = new StringBuilder();
        for (var e : truth.entrySet()) {
            long[] g = got.get(e.getKey());
            if (!java.util.Arrays.equals(g, e.getValue())) {
                if (wrong++ < 5) {
                    sb.append("\n  ").append(e.getKey()).append(" truth ").append(java.util.Arrays.toString(e
                            .getValue())).append(" got ").append(java.util.Arrays.toString(g));
                }
            }
        }
        assertEquals(0, wrong, wrong + " of " + truth.size() + " flows differ:" + sb);
        System.out.printf("%s: %d flows match, %d events, stats %s%n", name, truth.size(), r.events.size(),
                r.stats);
    }

    @ParameterizedTest
    @MethodSource("captures")
    void everyDnsAnswerNamesItsAddress(Path file) throws Exception {
        String name = file.getFileName().toString().replaceFirst("\\.pcap(ng)?$", "");
        Path dnsFile = pcaps().resolve("groundtruth").resolve(name + ".dns.tsv");
        if (!Files.exists(dnsFile)) {
            return; // the edge cases carry no DNS truth
        }
        Set<String> want = new HashSet<>();
        // what a NAME may say: the query name or any CNAME of a response that gave the address
        Set<String> allowed = new HashSet<>();
        for (String line : Files.readAllLines(dnsFile)) {
            String[] c = line.split("\t", -1);
            if (c.length < 11 || !c[4].equals("1")) {
                continue;
            }
            for (String col : new String[]{c[8], c[9]}) {
                for (String a : col.split(",")) {
                    if (!a.isEmpty()) {
                        String addr = InetAddress.getByName(a).getHostAddress();
                        want.add(addr + " " + c[6].toLowerCase(Locale.ROOT));
                        allowed.add(addr + " " + c[6].toLowerCase(Locale.ROOT));
                        for (String cn : c[10].split(",")) {
                            allowed.add(addr + " " + cn.toLowerCase(Locale.ROOT));
                        }
                    }
                }
            }
        }
        Set<String> got = new HashSet<>();
        for (Event e : run(file).events) {
            if (e instanceof Name n) {
                got.add(n.addr().getHostAddress() + " " + n.name().toLowerCase(Locale.ROOT));
            }
        }
        Set<String> missing = new HashSet<>(want);
        missing.removeAll(got);
        assertTrue(missing.isEmpty(), missing.size() + " of " + want.size() + " DNS answers got no NAME, e.g. "
                + first(missing));
        Set<String> unfounded = new HashSet<>(got);
        unfounded.removeAll(allowed);
        assertTrue(unfounded.isEmpty(), unfounded.size() + " NAMEs not in any DNS answer, e.g. " + first(unfounded));
        System.out.printf("%s: %d DNS answers named%n", name, want.size());
    }

    private static <T> T first(Set<T> s) {
        return s.isEmpty() ? null : s.iterator().next();
    }
}
