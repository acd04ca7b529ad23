package org.glouglou.server.viz;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.glouglou.module.network.graph.NetworkGraphSide;
import org.glouglou.server.bench.BenchOptions;
import org.glouglou.spi.ModuleRegistry;
import org.glouglou.viewer.ViewerConnection;
import org.glouglou.viewer.ViewerTrust;
import org.graphstream.graph.implementations.DefaultGraph;
import org.graphstream.stream.netstream.NetStreamDecoder;

/**
 * Issue 5 figure (printed, never asserted): the fan-out over real TLS sockets. The server side is the real
 * {@link ViewerServer} (TLS 1.3, self-signed, password login) with the {@link FanoutBench} graph in its hub's model;
 * the viewers run in a second JVM started by this one (same class path): each connects through the client library
 * ({@link ViewerConnection}, pinned fingerprint), sends its own filters (as in FanoutBench) and decodes what it reads:
 * NetStream with gs-core's {@code NetStreamDecoder} into a GraphStream graph, JSON lines with Jackson. Ticks are driven
 * every 100 ms on the hub's viewer thread (L link changes applied, then {@link ViewerHub#fanOut}); printed: fan-out
 * ms per tick, the server process's CPU (CPU time / wall) and memory (heap after GC, RSS), and from the viewers
 * steps received and the end-to-end latency (JSON viewers: arrival minus the tick time in the step marker).
 *
 * <pre>
 * java -cp ... org.glouglou.server.viz.TlsFanoutBench --viewers 50 --links 10000 --ticks 50
 * </pre>
 */
public final class TlsFanoutBench {
    static final ObjectMapper JSON = new ObjectMapper();

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("--viewer-side")) {
            viewers(Integer.parseInt(args[1]), args[2], Integer.parseInt(args[3]), Integer.parseInt(args[4]));
            return;
        }
        Map<String, String> a = BenchOptions.parse(args,
                Map.of("--nodes", "10000", "--edges", "50000", "--victim", "20000",
                        "--viewers", "50", "--links", "10000", "--ticks", "50", "--viewer-heap", "6g"));
        int nodes = Integer.parseInt(a.get("--nodes"));
        int edges = Integer.parseInt(a.get("--edges"));
        int victim = Integer.parseInt(a.get("--victim"));
        int viewers = Integer.parseInt(a.get("--viewers"));
        int links = Integer.parseInt(a.get("--links"));
        int ticks = Integer.parseInt(a.get("--ticks"));
        Path dir = Files.createTempDirectory("gg-tlsbench");
        Path users = dir.resolve("users");
        Files.writeString(users, "bench " + ViewerUsers.hash("bench secret") + "\n");
        ViewerServer server = new ViewerServer(ViewerServerConfig.forTest(users, dir, false).withMaxViewers(viewers
                + 4), ViewerUsers.load(users), "redis://127.0.0.1:1", ModuleRegistry.load(), 100);
        int port = server.bind().getPort();
        ViewerHub hub = server.hub();
        GraphModel model = hub.model();
        NetworkGraphSide side = new NetworkGraphSide();
        Random rnd = new Random(1);
        List<String> keys = new ArrayList<>();
        onHub(hub, () -> build(model, side, rnd, nodes, edges, victim, keys));
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx" + a.get("--viewer-heap"), "-cp", System.getProperty("java.class.path"),
                TlsFanoutBench.class.getName(), "--viewer-side", String.valueOf(port), server.fingerprint(), String
                        .valueOf(viewers),
                String.valueOf(ticks)).inheritIO().start();
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (hub.viewers() < viewers && System.nanoTime() < until) {
            Thread.sleep(100);
        }
        long t0 = System.nanoTime();
        long now0 = 1763760200000L;
        onHub(hub, () -> hub.fanOut(null, System.currentTimeMillis()));
        System.out.printf("TlsFanoutBench: %d viewers connected over TLS, %d distinct projections; snapshot tick %.0f"
                + " ms%n", hub.viewers(), hub.projections(), (System.nanoTime() - t0) / 1e6);
        Thread.sleep(Math.max(5000, viewers * 300L)); // the viewers read and decode their snapshots
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long[] cost = new long[ticks];
        long cpu0 = os.getProcessCpuTime();
        long wall0 = System.nanoTime();
        long next = System.nanoTime();
        for (int t = 0; t < ticks; t++) {
            next += TimeUnit.MILLISECONDS.toNanos(100);
            long stamp = now0 + t * 100L;
            int tt = t;
            onHub(hub, () -> {
                for (int i = 0; i < links; i++) {
                    String k = keys.get(rnd.nextInt(keys.size()));
                    String[] ab = k.substring(8).split("\\|");
                    FanoutBench.setLink(model, side, ab[0], ab[1], rnd);
                    FanoutBench.setNode(model, side, ab[0], 0, stamp);
                    FanoutBench.setNode(model, side, ab[1], 0, stamp);
                }
                long s = System.nanoTime();
                hub.fanOut(null, System.currentTimeMillis());
                cost[tt] = System.nanoTime() - s;
            });
            long sleep = next - System.nanoTime();
            if (sleep > 0) {
                TimeUnit.NANOSECONDS.sleep(sleep);
            }
        }
        double wall = (System.nanoTime() - wall0) / 1e9;
        double cpu = (os.getProcessCpuTime() - cpu0) / 1e9;
        long[] m = cost.clone();
        Arrays.sort(m);
        System.out.printf("  %d link changes (+ both ends' nodes) per tick, %d ticks: fan-out mean %.1f ms, p50 %.1f,"
                + " p99 %.1f, worst %.1f ms per tick%n", links, ticks, Arrays.stream(m).average().orElse(0) / 1e6,
                m[m.length / 2] / 1e6, m[Math.min(m.length - 1, (int) (m.length * 0.99))] / 1e6, m[m.length - 1]
                        / 1e6);
        System.gc();
        Runtime rt = Runtime.getRuntime();
        System.out.printf("  server process: CPU %.2f s over %.2f s wall = %.0f%% of one core (change generation and"
                + " TLS included); heap after GC %.0f MB; RSS %s; load %.1f%n", cpu, wall, 100 * cpu / wall,
                (rt
                        .totalMemory() - rt.freeMemory()) / 1e6,
                FanoutBench.rss(), os.getSystemLoadAverage());
        java.lang.ref.Reference.reachabilityFence(model);
        server.close(); // the viewers see their connections close, print their figures and exit
        if (!child.waitFor(60, TimeUnit.SECONDS)) {
            child.destroy();
        }
    }

    private static void onHub(ViewerHub hub, Runnable r) throws InterruptedException {
        CountDownLatch done = new CountDownLatch(1);
        hub.execute(() -> {
            try {
                r.run();
            } finally {
                done.countDown();
            }
        });
        done.await();
    }

    static void build(GraphModel model, NetworkGraphSide side, Random rnd, int nodes, int edges, int victim,
            List<String> keys) {
        String[] addr = new String[nodes];
        for (int i = 0; i < nodes; i++) {
            addr[i] = "10." + (i >> 16 & 255) + "." + (i >> 8 & 255) + "." + (i & 255);
            FanoutBench.setNode(model, side, addr[i], i, 0);
        }
        while (keys.size() < edges) {
            int x = rnd.nextInt(nodes);
            int y = rnd.nextInt(nodes);
            if (x < y && !model.byKey.containsKey(FanoutBench.link(addr[x], addr[y]))) {
                keys.add(FanoutBench.link(addr[x], addr[y]));
                FanoutBench.setLink(model, side, addr[x], addr[y], rnd);
            }
        }
        String target = "10.200.0.1";
        FanoutBench.setNode(model, side, target, 0, 0);
        for (int i = 0; i < victim; i++) {
            String src = "172.16." + (i >> 8 & 255) + "." + (i & 255);
            FanoutBench.setNode(model, side, src, i, 0);
            FanoutBench.setLink(model, side, src, target, rnd);
        }
        model.drainDirty();
    }

    /** The viewer JVM: {@code n} viewers with FanoutBench's filters, each on its own thread, until the server stops. */
    static void viewers(int port, String fingerprint, int n, int ticks) throws Exception {
        List<Thread> threads = new ArrayList<>();
        AtomicLong bytes = new AtomicLong();
        AtomicLong steps = new AtomicLong();
        List<Long> latencies = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int v = 0; v < n; v++) {
            int c = v;
            ObjectNode cfg = JSON.createObjectNode();
            cfg.put("format", v % 2 == 0 ? "json" : "netstream");
            ObjectNode f = cfg.putObject("filter");
            if (c % 3 == 0) {
                f.putArray("protocols").add("tcp");
            }
            if (c % 2 != 0) {
                f.putArray("addresses").add("10.0." + c + ".0/24");
            }
            if (c % 5 == 0) {
                f.put("min_bytes", 1000);
            }
            if (c % 4 == 0) {
                cfg.putObject("detail").put("level", "subnet");
            }
            ViewerConnection conn = ViewerConnection.open("127.0.0.1", port, ViewerTrust.pin(fingerprint), "bench",
                    "bench secret", false, 60_000);
            conn.sendConfig(cfg);
            Thread t = new Thread(() -> read(conn, bytes, steps, latencies), "viewer-" + v);
            t.setDaemon(true);
            t.start();
            threads.add(t);
        }
        long deadline = System.currentTimeMillis() + TimeUnit.SECONDS.toMillis(600);
        for (Thread t : threads) {
            t.join(Math.max(1, deadline - System.currentTimeMillis()));
        }
        List<Long> l = new ArrayList<>(latencies);
        l.sort(null);
        int skip = l.size() / 10; // the first steps: snapshots
        List<Long> steady = l.isEmpty()
                ? l
                : new ArrayList<>(latencies.subList(Math.min(skip, l.size() - 1),
                        latencies.size()));
        steady.sort(null);
        System.out.printf("  viewers (second JVM, decoding): %d steps, %.1f MB read; end-to-end latency (JSON viewers,"
                + " tick time to step marker read) p50 %d ms, p99 %d ms, worst %d ms over %d steps%n", steps.get(),
                bytes.get() / 1e6, pct(steady, 0.5), pct(steady, 0.99), pct(steady, 1.0), steady.size());
    }

    static long pct(List<Long> s, double p) {
        return s.isEmpty() ? -1 : s.get(Math.min(s.size() - 1, (int) (s.size() * p)));
    }

    static void read(ViewerConnection conn, AtomicLong bytes, AtomicLong steps, List<Long> latencies) {
        NetStreamDecoder decoder = new NetStreamDecoder();
        decoder.addSink(new DefaultGraph("viewer", false, true));
        try {
            while (true) {
                Object item = conn.next();
                if (item instanceof ByteBuffer b) {
                    bytes.addAndGet(b.remaining());
                    decoder.decode(b);
                } else {
                    String line = (String) item;
                    bytes.addAndGet(line.length() + 1);
                    JsonNode m = JSON.readTree(line);
                    JsonNode st = m.get("st");
                    if (st != null) {
                        steps.incrementAndGet();
                        latencies.add(System.currentTimeMillis() - st.path("time").asLong());
                    }
                }
            }
        } catch (Exception e) {
            // the server closed: done
        }
    }
}
