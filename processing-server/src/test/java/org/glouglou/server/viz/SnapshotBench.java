package org.glouglou.server.viz;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.glouglou.module.network.graph.NetworkGraphSide;
import org.glouglou.server.viz.format.GraphFormatWriter;
import org.glouglou.spi.graph.GraphOp;

/**
 * Issue 5 figure (printed, not asserted): time and bytes of a viewer's snapshot of N hosts and M host pairs, both
 * formats, hosts and /24 levels; and the per-tick cost of 1% of the elements changing for V viewers. In-process: the
 * model is filled through the network GraphSide from Redis-like hashes, no Redis and no socket.
 * {@code java -cp ... org.glouglou.server.viz.SnapshotBench [nodes] [edges] [viewers]}
 */
public final class SnapshotBench {
    public static void main(String[] args) {
        int nodes = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        int edges = args.length > 1 ? Integer.parseInt(args[1]) : 50_000;
        int viewers = args.length > 2 ? Integer.parseInt(args[2]) : 50;
        NetworkGraphSide side = new NetworkGraphSide();
        GraphModel model = new GraphModel();
        Random rnd = new Random(1);
        String[] addr = new String[nodes];
        for (int i = 0; i < nodes; i++) {
            addr[i] = "10." + (i >> 16 & 255) + "." + (i >> 8 & 255) + "." + (i & 255);
            Map<String, String> h = new LinkedHashMap<>();
            h.put("addr", addr[i]);
            h.put("name", "host" + i + ".example" + (i % 50) + ".com");
            h.put("first_seen", "1763760000000");
            h.put("last_seen", "1763760100000");
            h.put("seen.7", "1763760100000");
            model.apply("gg:node:" + addr[i], "network", side.element("gg:node:" + addr[i], h));
        }
        int made = 0;
        while (made < edges) {
            int a = rnd.nextInt(nodes);
            int b = rnd.nextInt(nodes);
            if (a >= b) {
                continue;
            }
            String key = "gg:link:" + addr[a] + "|" + addr[b];
            if (model.byKey.containsKey(key)) {
                continue;
            }
            model.apply(key, "network", side.element(key, link(addr[a], addr[b], rnd)));
            made++;
        }
        model.drainDirty();
        for (int round = 0; round < 3; round++) { // the first rounds warm the JIT up
            for (String format : new String[]{"netstream", "json"}) {
                for (String level : new String[]{"hosts", "subnet"}) {
                    ViewerConfig c = new ViewerConfig(format, java.util.Set.of(), List.of(), java.util.Set.of(),
                            java.util.Set.of(), java.util.Set.of(), 0, level.equals("hosts")
                                    ? ViewerConfig.Level.HOSTS
                                    : ViewerConfig.Level.SUBNET,
                            24, 64, 2);
                    long t0 = System.nanoTime();
                    ViewerProjection p = new ViewerProjection(model, c);
                    List<GraphOp> ops = p.drain();
                    long t1 = System.nanoTime();
                    ByteBuf out = Unpooled.buffer(64 << 20);
                    GraphFormatWriter.forName(format).write(ops, out);
                    long t2 = System.nanoTime();
                    if (round == 2) {
                        System.out.printf("snapshot %s %-6s %d nodes %d edges: %d ops, project %.0f ms, encode %.0f"
                                + " ms, %.1f MB%n", format, level, p.shownNodes(), p.shownEdges(), ops.size(),
                                (t1
                                        - t0) / 1e6,
                                (t2 - t1) / 1e6, out.readableBytes() / 1e6);
                    }
                    out.release();
                }
            }
        }
        // fan-out: V viewers with different filters, 1% of the links change per tick
        ViewerProjection[] ps = new ViewerProjection[viewers];
        GraphFormatWriter[] ws = new GraphFormatWriter[viewers];
        for (int v = 0; v < viewers; v++) {
            java.util.Set<String> protos = v % 3 == 0 ? java.util.Set.of("tcp") : java.util.Set.of();
            List<Cidr> cidrs = v % 2 == 0 ? List.of() : List.of(new Cidr(new byte[]{10, 0, (byte) v, 0}, 24));
            ViewerConfig c = new ViewerConfig(v % 2 == 0 ? "json" : "netstream", java.util.Set.of(), cidrs,
                    java.util.Set.of(), protos, java.util.Set.of(), v % 5 == 0 ? 1000 : 0, v % 4 == 0
                            ? ViewerConfig.Level.SUBNET
                            : ViewerConfig.Level.HOSTS,
                    24, 64, 2);
            ps[v] = new ViewerProjection(model, c);
            ws[v] = GraphFormatWriter.forName(c.format());
            ws[v].write(ps[v].drain(), Unpooled.buffer());
        }
        List<String> keys = model.byKey.keySet().stream().filter(k -> k.startsWith("gg:link:")).toList();
        long worst = 0;
        long total = 0;
        int ticks = 20;
        for (int t = 0; t < ticks; t++) {
            for (int i = 0; i < edges / 100; i++) {
                String k = keys.get(rnd.nextInt(keys.size()));
                String[] ab = k.substring(8).split("\\|");
                model.apply(k, "network", side.element(k, link(ab[0], ab[1], rnd)));
            }
            long t0 = System.nanoTime();
            GraphModel.Dirty d = model.drainDirty();
            long bytes = 0;
            for (int v = 0; v < viewers; v++) {
                ps[v].update(d);
                ByteBuf b = Unpooled.buffer();
                ws[v].write(ps[v].drain(), b);
                bytes += b.readableBytes();
                b.release();
            }
            long el = System.nanoTime() - t0;
            worst = Math.max(worst, el);
            total += el;
            if (t == ticks - 1) {
                System.out.printf("fan-out %d viewers, %d link changes per tick: tick cost mean %.1f ms, worst %.1f ms,"
                        + " %.1f MB sent per tick%n", viewers, edges / 100, total / 1e6 / ticks, worst / 1e6,
                        bytes
                                / 1e6);
            }
        }
        Runtime rt = Runtime.getRuntime();
        System.gc();
        System.out.printf("heap used after GC: %.0f MB (model + %d viewer projections)%n", (rt.totalMemory() - rt
                .freeMemory()) / 1e6, viewers);
        java.lang.ref.Reference.reachabilityFence(ps); // else the projections are collected before the figure
    }

    private static Map<String, String> link(String a, String b, Random rnd) {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("a", a);
        h.put("b", b);
        long bab = rnd.nextInt(1_000_000);
        long bba = rnd.nextInt(1_000_000);
        h.put("pkts_ab", String.valueOf(bab / 500 + 1));
        h.put("bytes_ab", String.valueOf(bab));
        h.put("pkts_ba", String.valueOf(bba / 500 + 1));
        h.put("bytes_ba", String.valueOf(bba));
        h.put("rate_ab", String.valueOf(rnd.nextInt(10_000)));
        h.put("rate_ba", String.valueOf(rnd.nextInt(10_000)));
        h.put("conns", "3");
        h.put(rnd.nextBoolean() ? "proto.tcp" : "proto.udp", String.valueOf(bab + bba));
        h.put("port.443", "3");
        h.put("seen.7", "1763760100000");
        h.put("first_seen", "1763760000000");
        h.put("last_seen", String.valueOf(1763760100000L + rnd.nextInt(1000)));
        return h;
    }
}
