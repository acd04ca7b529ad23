package org.glouglou.server.viz;

import io.lettuce.core.RedisURI;
import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.glouglou.module.network.graph.NetworkGraphSide;
import org.glouglou.server.bench.BenchOptions;
import org.glouglou.spi.ModuleRegistry;

/**
 * Issue 5 figure (printed, never asserted): the viewer fan-out of one tick, in-process, through the real
 * {@link ViewerHub#fanOut} and {@link ViewerSession}s on Netty {@code EmbeddedChannel}s (no socket, no TLS, no Redis).
 * A graph of N hosts and M host pairs plus one victim host with V edges (the SYN flood); each tick L links change,
 * with the last_seen of both their ends (as the ingest side writes them) and the victim's node. Viewers have
 * different filters (hosts and /24 levels, address, protocol and min_bytes filters, both formats), or with
 * {@code --distinct D} only D distinct configurations among them.
 *
 * <pre>
 * java -cp ... org.glouglou.server.viz.FanoutBench --viewers 50 --links 10000 --ticks 30
 * </pre>
 */
public final class FanoutBench {
    public static void main(String[] args) throws Exception {
        Map<String, String> a = BenchOptions.parse(args,
                Map.of("--nodes", "10000", "--edges", "50000", "--victim", "20000",
                        "--viewers", "50", "--links", "10000", "--ticks", "30", "--distinct", "0"));
        int nodes = Integer.parseInt(a.get("--nodes"));
        int edges = Integer.parseInt(a.get("--edges"));
        int victim = Integer.parseInt(a.get("--victim"));
        int viewers = Integer.parseInt(a.get("--viewers"));
        int links = Integer.parseInt(a.get("--links"));
        int ticks = Integer.parseInt(a.get("--ticks"));
        int distinct = Integer.parseInt(a.get("--distinct"));
        NetworkGraphSide side = new NetworkGraphSide();
        ViewerHub hub = new ViewerHub(RedisURI.create("redis://127.0.0.1:1"), ModuleRegistry.load(), 100);
        GraphModel model = hub.model();
        Random rnd = new Random(1);
        String[] addr = new String[nodes];
        for (int i = 0; i < nodes; i++) {
            addr[i] = "10." + (i >> 16 & 255) + "." + (i >> 8 & 255) + "." + (i & 255);
            setNode(model, side, addr[i], i, 0);
        }
        List<String> keys = new ArrayList<>();
        while (keys.size() < edges) {
            int x = rnd.nextInt(nodes);
            int y = rnd.nextInt(nodes);
            if (x < y && !model.byKey.containsKey(link(addr[x], addr[y]))) {
                keys.add(link(addr[x], addr[y]));
                setLink(model, side, addr[x], addr[y], rnd);
            }
        }
        String target = "10.200.0.1";
        setNode(model, side, target, 0, 0);
        for (int i = 0; i < victim; i++) {
            String src = "172.16." + (i >> 8 & 255) + "." + (i & 255);
            setNode(model, side, src, i, 0);
            setLink(model, side, src, target, rnd);
        }
        model.drainDirty();
        List<EmbeddedChannel> channels = new ArrayList<>();
        for (int v = 0; v < viewers; v++) {
            int c = distinct > 0 ? v % distinct : v;
            Set<String> protos = c % 3 == 0 ? Set.of("tcp") : Set.of();
            List<Cidr> cidrs = c % 2 == 0 ? List.of() : List.of(new Cidr(new byte[]{10, 0, (byte) c, 0}, 24));
            ViewerConfig cfg = new ViewerConfig(v % 2 == 0 ? "json" : "netstream", Set.of(), cidrs, Set.of(), protos,
                    Set.of(), c % 5 == 0 ? 1000 : 0, c % 4 == 0 ? ViewerConfig.Level.SUBNET : ViewerConfig.Level.HOSTS,
                    24, 64, 2);
            EmbeddedChannel ch = new EmbeddedChannel();
            channels.add(ch);
            new ViewerSession(hub, ch, "v" + v).configure(cfg);
        }
        long t0 = System.nanoTime();
        hub.fanOut(null, System.currentTimeMillis());
        long snapBytes = drain(channels);
        System.out.printf("FanoutBench: %d hosts, %d pairs + victim with %d edges; %d viewers, %d distinct"
                + " projections; first tick (snapshots) %.0f ms, %.1f MB%n", nodes, edges, victim, viewers,
                hub
                        .projections(),
                (System.nanoTime() - t0) / 1e6, snapBytes / 1e6);
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long[] cost = new long[ticks];
        long bytes = 0;
        long cpu0 = 0;
        long wall0 = 0;
        int warm = Math.min(5, ticks / 3);
        for (int t = 0; t < ticks; t++) {
            if (t == warm) {
                cpu0 = os.getProcessCpuTime();
                wall0 = System.nanoTime();
            }
            long now = 1763760200000L + t * 100L;
            for (int i = 0; i < links; i++) {
                String k = keys.get(rnd.nextInt(keys.size()));
                String[] ab = k.substring(8).split("\\|");
                setLink(model, side, ab[0], ab[1], rnd);
                setNode(model, side, ab[0], 0, now); // last_seen moves with every packet
                setNode(model, side, ab[1], 0, now);
            }
            setNode(model, side, target, 0, now);
            long s = System.nanoTime();
            hub.fanOut(null, now);
            cost[t] = System.nanoTime() - s;
            long b = drain(channels);
            if (t >= warm) {
                bytes += b;
            }
        }
        double wall = (System.nanoTime() - wall0) / 1e9;
        double cpu = (os.getProcessCpuTime() - cpu0) / 1e9;
        long[] m = Arrays.copyOfRange(cost, warm, ticks);
        Arrays.sort(m);
        double mean = Arrays.stream(m).average().orElse(0) / 1e6;
        System.out.printf("  %d link changes (+ both ends' nodes) per tick: fan-out mean %.1f ms, p50 %.1f ms, worst"
                + " %.1f ms per tick (%.2f ms per viewer); %.2f MB written per tick to all viewers%n", links, mean,
                m[m.length / 2] / 1e6, m[m.length - 1] / 1e6, mean / viewers, bytes / 1e6 / m.length);
        System.out.printf("  operations whose encoding was copied from another view: %d per tick%n", hub
                .encodingsShared() / ticks);
        System.gc();
        Runtime rt = Runtime.getRuntime();
        System.out.printf("  process CPU %.2f s over %.2f s wall (%.0f%% of one core, change generation included);"
                + " heap after GC %.0f MB; RSS %s; load %.1f%n", cpu, wall, 100 * cpu / wall,
                (rt.totalMemory() - rt
                        .freeMemory()) / 1e6,
                rss(), os.getSystemLoadAverage());
        java.lang.ref.Reference.reachabilityFence(hub); // else the graph and projections are collected before the figure
        for (EmbeddedChannel ch : channels) {
            ch.finishAndReleaseAll();
        }
    }

    static String rss() {
        try {
            return Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("VmRSS"))
                    .map(l -> l.replaceAll("\\s+", " ").substring(6)).findFirst().orElse("?");
        } catch (Exception e) {
            return "?";
        }
    }

    static long drain(List<EmbeddedChannel> channels) {
        long n = 0;
        for (EmbeddedChannel ch : channels) {
            Object o;
            while ((o = ch.readOutbound()) != null) {
                n += ((ByteBuf) o).readableBytes();
                ((ByteBuf) o).release();
            }
        }
        return n;
    }

    static String link(String x, String y) {
        return "gg:link:" + x + "|" + y;
    }

    static void setNode(GraphModel model, NetworkGraphSide side, String addr, int i, long now) {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("name", "host" + i + ".example" + (i % 50) + ".com");
        h.put("first_seen", "1763760000000");
        h.put("last_seen", String.valueOf(now == 0 ? 1763760100000L : now));
        h.put("seen.7", "1763760100000");
        String k = "gg:node:" + addr;
        model.apply(k, "network", side.element(k, h));
    }

    static void setLink(GraphModel model, NetworkGraphSide side, String x, String y, Random rnd) {
        Map<String, String> h = new LinkedHashMap<>();
        long bab = rnd.nextInt(1_000_000);
        long bba = rnd.nextInt(1_000_000);
        h.put("pkts_ab", String.valueOf(bab / 500 + 1));
        h.put("bytes_ab", String.valueOf(bab));
        h.put("pkts_ba", String.valueOf(bba / 500 + 1));
        h.put("bytes_ba", String.valueOf(bba));
        h.put("rate_ab", String.valueOf(rnd.nextInt(10_000)));
        h.put("rate_ba", String.valueOf(rnd.nextInt(10_000)));
        h.put("conns", "3");
        h.put(x.hashCode() % 2 == 0 ? "proto.tcp" : "proto.udp", String.valueOf(bab + bba));
        h.put("port.443", "3");
        h.put("seen.7", "1763760100000");
        h.put("first_seen", "1763760000000");
        h.put("last_seen", String.valueOf(1763760100000L + rnd.nextInt(1000)));
        String k = link(x, y);
        model.apply(k, "network", side.element(k, h));
    }
}
