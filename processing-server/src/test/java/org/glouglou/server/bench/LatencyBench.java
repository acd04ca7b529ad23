package org.glouglou.server.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.glouglou.module.network.FlowKey;
import org.glouglou.module.network.NetworkEvents;
import org.glouglou.module.network.server.NetworkKeys;
import org.glouglou.server.FakeProbe;
import org.glouglou.server.viz.ViewerUsers;
import org.glouglou.spi.ModuleRegistry;
import org.glouglou.viewer.ViewerConnection;
import org.glouglou.viewer.ViewerTrust;

/**
 * End-to-end latency (figures only): from a probe's datagram to a viewer's update, while a load generator
 * ({@link IngestBench}, another process) keeps the server busy. One more probe session sends a marker flow between two
 * addresses no load uses: every {@code --interval-ms} one DATA, flushed at once as its own datagram, whose event time is
 * a millisecond no other marker uses. The link's {@code last_seen} is the maximum of its events' times, an absolute
 * value, so a marker lost on the way (a full socket buffer under overload) cannot shift the others: a JSON viewer with
 * no filter (it receives every change the load makes, the worst case) watches for the marker link's {@code ce}, and
 * every marker whose time is at most the {@code last_seen} it carries, not seen before, is covered by that update: its
 * latency is the receive time minus its send time (one clock: same process). Markers covered only by a later one
 * (coalesced within a tick, or lost) count with that later update's time, so lost markers bias the figure up, never
 * down; {@code exact} counts the markers whose own time was received. {@code --viewers N} more viewers connect over the
 * same TLS port with different filters, formats and levels, and only drain their streams, so the server fans out to N +
 * 1 viewers.
 *
 * <pre>
 * LatencyBench --make-users FILE                         writes the viewers file (user bench, password bench)
 * LatencyBench --server 127.0.0.1:P --secrets FILE --probe-id K --viewer-port V --known FILE --viewers N
 *              --interval-ms 20 --warmup S --seconds S [--server-pid PID] [--ready FILE]
 * </pre>
 *
 * scripts/bench-latency.sh starts Redis, the server and this, then the load once this wrote {@code --ready FILE} (the
 * viewers' logins and the marker session's handshake are done), so the measured window lies inside the load.
 */
public final class LatencyBench {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String USER = "bench";
    static final String PASSWORD = "bench-password";

    public static void main(String[] args) throws Exception {
        if (args.length == 2 && args[0].equals("--make-users")) {
            Files.writeString(Path.of(args[1]), USER + " " + ViewerUsers.hash(PASSWORD) + "\n");
            return;
        }
        Map<String, String> a = BenchOptions.parse(args,
                Map.of("--viewers", "49", "--interval-ms", "20", "--warmup", "5",
                        "--seconds", "20"));
        String[] hp = a.get("--server").split(":");
        InetSocketAddress server = new InetSocketAddress(hp[0], Integer.parseInt(hp[1]));
        long probeId = Long.parseLong(a.get("--probe-id"));
        int viewerPort = Integer.parseInt(a.get("--viewer-port"));
        ViewerTrust trust = ViewerTrust.trustOnFirstUse(Path.of(a.get("--known")));
        int extra = Integer.parseInt(a.get("--viewers"));
        int intervalMs = Integer.parseInt(a.get("--interval-ms"));
        int warmup = Integer.parseInt(a.get("--warmup"));
        int seconds = Integer.parseInt(a.get("--seconds"));
        byte[] secret = null;
        for (String line : Files.readAllLines(Path.of(a.get("--secrets")))) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 2 && !line.startsWith("#") && Long.parseLong(f[0]) == probeId) {
                secret = Base64.getDecoder().decode(f[1]);
            }
        }
        if (secret == null) {
            throw new IllegalArgumentException("probe " + probeId + " is not in " + a.get("--secrets"));
        }

        InetAddress x = InetAddress.getByName("10.254.0.1");
        InetAddress y = InetAddress.getByName("10.254.0.2");
        String edge = NetworkKeys.link(x, y).substring(NetworkKeys.LINK.length());
        int capacity = (warmup + seconds + 30) * 1000 / intervalMs + 16;
        AtomicLongArray sentAt = new AtomicLongArray(capacity);
        long[] latencyNanos = new long[capacity];
        long[] markerMillis = new long[capacity]; // marker k's event time (ms), strictly increasing
        AtomicLong covered = new AtomicLong(); // markers covered so far
        AtomicLong exact = new AtomicLong();
        AtomicLong sentCount = new AtomicLong();
        AtomicLong measureFrom = new AtomicLong(Long.MAX_VALUE);

        // the watching viewer: every line goes through a cheap test, only the marker's are parsed
        ViewerConnection watch = ViewerConnection.open("127.0.0.1", viewerPort, trust, USER, PASSWORD, false, 10_000);
        ObjectNode cfg = JSON.createObjectNode();
        cfg.put("format", "json");
        watch.sendConfig(cfg);
        AtomicLong watchBytes = new AtomicLong();
        Thread watcher = new Thread(() -> {
            try {
                while (true) {
                    String l = (String) watch.next();
                    watchBytes.addAndGet(l.length() + 1);
                    if (!l.contains(edge)) {
                        continue;
                    }
                    long now = System.nanoTime();
                    JsonNode m = JSON.readTree(l);
                    JsonNode e = m.path("ce").path(edge);
                    if (e.isMissingNode()) {
                        e = m.path("ae").path(edge);
                    }
                    long seen = e.path("last_seen").asLong(-1);
                    long n = sentCount.get();
                    int k = (int) covered.get() + 1;
                    for (; k <= n && markerMillis[k] <= seen; k++) {
                        latencyNanos[k] = now - sentAt.get(k);
                        if (markerMillis[k] == seen) {
                            exact.incrementAndGet();
                        }
                    }
                    covered.set(k - 1);
                }
            } catch (Exception e) {
                System.err.println("watching viewer closed: " + e);
            }
        }, "watcher");
        watcher.setDaemon(true);
        watcher.start();

        // the other viewers: each its own filter, format and level; they drain their streams
        List<ViewerConnection> others = new ArrayList<>();
        AtomicLong otherBytes = new AtomicLong();
        for (int v = 0; v < extra; v++) {
            ViewerConnection c = ViewerConnection.open("127.0.0.1", viewerPort, trust, USER, PASSWORD, false,
                    10_000);
            c.sendConfig(config(v));
            others.add(c);
            Thread t = new Thread(() -> {
                try {
                    while (true) {
                        Object o = c.next();
                        otherBytes.addAndGet(o instanceof ByteBuffer b ? b.remaining() : ((String) o).length() + 1);
                    }
                } catch (Exception e) {
                    // closed at the end
                }
            }, "viewer-" + v);
            t.setDaemon(true);
            t.start();
        }

        ModuleRegistry registry = ModuleRegistry.load();
        FakeProbe probe = IngestBench.connect(registry, probeId, secret, server);
        probe.keepSent(false);
        FlowKey key = new FlowKey(17, x, 5353, y, 5353);
        probe.add(FakeProbe.nowMicros(), new NetworkEvents.NewConn(1, key));
        probe.flush();
        if (a.containsKey("--ready")) { // everything is connected: the script starts the load now
            Files.writeString(Path.of(a.get("--ready")), "ready\n");
        }

        long start = System.nanoTime();
        long end = start + (warmup + seconds) * 1_000_000_000L;
        int n = 0;
        long cpu0 = -1;
        long t0 = 0;
        long w0 = 0;
        long o0 = 0;
        while (System.nanoTime() < end && n + 1 < capacity) {
            long now = System.nanoTime();
            if (cpu0 < 0 && now - start >= warmup * 1_000_000_000L) {
                measureFrom.set(n + 1);
                cpu0 = IngestBench.procCpu(a.get("--server-pid"));
                t0 = now;
                w0 = watchBytes.get();
                o0 = otherBytes.get();
            }
            n++;
            long ms = Math.max(System.currentTimeMillis(), markerMillis[n - 1] + 1);
            markerMillis[n] = ms;
            sentAt.set(n, System.nanoTime());
            sentCount.set(n); // after the writes above: the watcher reads them once it sees n
            probe.add(ms * 1000, new NetworkEvents.Data(1, n, 100L * n, 0, 0, null)); // cumulative (spec 4.1)
            probe.flush();
            long next = start + (long) n * intervalMs * 1_000_000L;
            long sleep = next - System.nanoTime();
            if (sleep > 0) {
                Thread.sleep(sleep / 1_000_000, (int) (sleep % 1_000_000));
            }
        }
        long t1 = System.nanoTime();
        long cpu1 = IngestBench.procCpu(a.get("--server-pid"));
        long w1 = watchBytes.get();
        long o1 = otherBytes.get();
        Thread.sleep(3000); // the last markers' way through
        int from = (int) measureFrom.get();
        int seen = 0;
        long[] lat = new long[n];
        for (int k = from; k <= n; k++) {
            if (latencyNanos[k] > 0) {
                lat[seen++] = latencyNanos[k];
            }
        }
        lat = Arrays.copyOf(lat, seen);
        Arrays.sort(lat);
        int expected = n - from + 1;
        double secs = (t1 - t0) / 1e9;
        String rss = rss(a.get("--server-pid"));
        System.out.printf(
                "RESULT markers=%d seen=%d exact=%d p50_ms=%.1f p90_ms=%.1f p99_ms=%.1f max_ms=%.1f viewers=%d"
                        + " cpu_server=%.0f server_rss_mib=%s watch_kib_s=%.0f others_kib_s=%.0f%n",
                expected, seen, exact.get(), pct(lat, 50), pct(lat, 90), pct(lat, 99),
                lat.length == 0 ? -1 : lat[lat.length - 1] / 1e6, extra + 1,
                cpu0 < 0 || cpu1 < 0 ? -1 : (cpu1 - cpu0) / 1e9 / secs * 100, rss, (w1 - w0) / 1024.0 / secs,
                (o1 - o0) / 1024.0 / secs);
        probe.close();
        watch.close();
        for (ViewerConnection c : others) {
            c.close();
        }
        System.exit(0);
    }

    /** Viewer v's configuration: a mix of formats, address filters, protocols, minimum traffic and levels. */
    static ObjectNode config(int v) {
        ObjectNode c = JSON.createObjectNode();
        c.put("format", v % 2 == 0 ? "netstream" : "json");
        ObjectNode f = c.putObject("filter");
        switch (v % 5) {
            case 0 -> f.putArray("addresses").add("10." + (1 + v % 8) + ".0.0/16");
            case 1 -> f.putArray("protocols").add("tcp");
            case 2 -> f.put("min_bytes", 1000L * (v + 1));
            case 3 -> f.putArray("addresses").add("172.16.0." + (v % 200) + "/32");
            default -> {
            }
        }
        if (v % 3 == 1) {
            c.putObject("detail").put("level", "subnet").put("prefix", 16 + v % 9);
        }
        return c;
    }

    static double pct(long[] sorted, int p) {
        if (sorted.length == 0) {
            return -1;
        }
        int i = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))] / 1e6;
    }

    static String rss(String pid) {
        if (pid == null) {
            return "-1";
        }
        try {
            for (String l : Files.readAllLines(Path.of("/proc", pid, "status"))) {
                if (l.startsWith("VmRSS:")) {
                    return String.valueOf(Long.parseLong(l.replaceAll("\\D", "")) / 1024);
                }
            }
        } catch (Exception e) {
            // gone
        }
        return "-1";
    }
}
