package org.glouglou.probe;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.glouglou.spi.JsonForm;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The user-facing correctness bar: {@code glouglou probe --read FILE --print} exits 0 at end of file, and on every
 * shared capture the DELCONN totals per outer 5-tuple equal tshark's ground truth exactly, every flow's DATA totals
 * grow and stay within its DELCONN's (cumulative, spec 4.1), and every DNS A/AAAA answer gives its address the name
 * that was asked.
 */
class ProbePrintIT {
    static final Path PCAPS = Path.of(System.getProperty("glouglou.pcaps", "../../shared/pcaps"));

    static Stream<Path> captures() throws IOException {
        try (Stream<Path> s = Files.list(PCAPS)) {
            List<Path> l = s.filter(p -> p.toString().matches(".*\\.pcap(ng)?$")).sorted().toList();
            assertFalse(l.isEmpty(), "no captures in " + PCAPS.toAbsolutePath());
            return l.stream();
        }
    }

    /** proto, a, aport, b, bport in the order the truth (and the probe's src/dst) uses. */
    static String key(String proto, String a, String ap, String b, String bp) {
        return proto + " " + a + " " + ap + " " + b + " " + bp;
    }

    @ParameterizedTest
    @MethodSource("captures")
    void printedFlowsAndNamesMatchGroundTruth(Path capture) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = ProbeMain.run(new String[]{"--read", capture.toString(), "--print", "--keep-privileges"},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(0, code, err.toString(StandardCharsets.UTF_8));

        Map<String, long[]> got = new HashMap<>();
        Map<String, Set<String>> names = new HashMap<>();
        Map<Long, long[]> lastData = new HashMap<>();
        for (String line : out.toString(StandardCharsets.UTF_8).split("\n")) {
            JsonNode e = JsonForm.MAPPER.readTree(line);
            assertTrue(e.has("module") && e.has("type"), line);
            switch (e.get("type").asText()) {
                case "DATA" -> {
                    // totals since NEWCONN (spec 4.1): never lower than the flow's previous DATA
                    long[] now = counts(e);
                    long[] before = lastData.put(e.get("conn").asLong(), now);
                    for (int i = 0; before != null && i < 4; i++) {
                        assertTrue(now[i] >= before[i], "DATA went backwards: " + line);
                    }
                }
                case "DELCONN" -> {
                    long[] before = lastData.remove(e.get("conn").asLong());
                    long[] total = counts(e);
                    for (int i = 0; before != null && i < 4; i++) {
                        assertTrue(total[i] >= before[i], "DELCONN below the flow's last DATA: " + line);
                    }
                    String k = key(e.get("proto").asText(), norm(e.get("src").asText()), e.get("sport").asText(),
                            norm(e.get("dst").asText()), e.get("dport").asText());
                    long[] t = got.computeIfAbsent(k, x -> new long[4]);
                    t[0] += e.get("src_pkts").asLong();
                    t[1] += e.get("src_bytes").asLong();
                    t[2] += e.get("dst_pkts").asLong();
                    t[3] += e.get("dst_bytes").asLong();
                    assertTrue(e.has("reason"), line);
                }
                case "NAME" ->
                    names.computeIfAbsent(norm(e.get("addr").asText()), x -> new HashSet<>()).add(e.get("name")
                            .asText());
                default -> {
                }
            }
        }
        String base = capture.getFileName().toString().replaceFirst("\\.pcap(ng)?$", "");
        Map<String, long[]> truth = new HashMap<>();
        for (String line : Files.readAllLines(PCAPS.resolve("groundtruth/" + base + ".flows.tsv"))) {
            String[] c = line.split("\t");
            if (c[0].equals("proto")) {
                continue;
            }
            truth.put(key(c[0], norm(c[1]), c[2], norm(c[3]), c[4]), new long[]{Long.parseLong(c[5]), Long
                    .parseLong(c[6]), Long.parseLong(c[7]), Long.parseLong(c[8])});
        }
        // a later flow on a 5-tuple may start from the other side (late packets after a close): fold it into the
        // truth's orientation, as the truth sums split flows
        for (String k : List.copyOf(got.keySet())) {
            String[] f = k.split(" ");
            String r = key(f[0], f[3], f[4], f[1], f[2]);
            if (!truth.containsKey(k) && truth.containsKey(r)) {
                long[] c = got.remove(k);
                long[] t = got.computeIfAbsent(r, x -> new long[4]);
                t[0] += c[2];
                t[1] += c[3];
                t[2] += c[0];
                t[3] += c[1];
            }
        }
        assertEquals(truth.size(), got.size(), "number of distinct 5-tuples");
        for (Map.Entry<String, long[]> t : truth.entrySet()) {
            long[] g = got.get(t.getKey());
            assertNotNull(g, "no DELCONN for " + t.getKey());
            assertArrayEquals(t.getValue(), g, "totals of " + t.getKey());
        }
        int answers = 0;
        for (String line : Files.readAllLines(PCAPS.resolve("groundtruth/" + base + ".dns.tsv"))) {
            String[] c = line.split("\t", -1);
            // frame, epoch, ip.src, ipv6.src, is-response, rcode, query name, query type, A, AAAA, CNAMEs
            if (c.length < 10 || !c[4].equals("1") || !c[5].equals("0")) {
                continue; // not a successful response
            }
            for (int col : new int[]{8, 9}) {
                for (String addr : c[col].split(",")) {
                    if (!addr.isEmpty()) {
                        answers++;
                        assertTrue(names.getOrDefault(norm(addr), Set.of()).contains(c[6]), addr + " should be named "
                                + c[6] + ", got " + names.get(norm(addr)));
                    }
                }
            }
        }
        if (base.startsWith("web_browsing")) {
            assertTrue(answers > 40, "the browsing capture has dozens of DNS answers: " + answers);
        }
    }

    static long[] counts(JsonNode e) {
        return new long[]{e.get("src_pkts").asLong(), e.get("src_bytes").asLong(), e.get("dst_pkts").asLong(), e.get(
                "dst_bytes").asLong()};
    }

    /** The probe prints addresses as Java does; the truth as tshark does: compare in one form. */
    static String norm(String literal) throws IOException {
        return java.net.InetAddress.getByName(literal).getHostAddress();
    }
}
