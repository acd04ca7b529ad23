package org.glouglou.server.bench;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import org.glouglou.module.network.FlowKey;
import org.glouglou.module.network.NetworkEvents;
import org.glouglou.protocol.session.ProbeSecrets;
import org.glouglou.server.FakeProbe;
import org.glouglou.server.GlouglouServer;
import org.glouglou.spi.testkit.RedisServerProcess;
import org.glouglou.server.ServerConfig;
import org.glouglou.server.metrics.ServerMetrics;
import org.glouglou.spi.ModuleRegistry;
import org.glouglou.spi.server.ServerSettings;

/**
 * Ingest load generator (issue 4, figures): starts its own redis-server on a free loopback port and the server
 * in-process, then one sealed probe session sends DATA-heavy traffic over loopback UDP at a target rate. Reports
 * events/s delivered to the module, loss, and the Redis commands/s that cost, then runs
 * {@code redis-benchmark -P 16 -t hset} against the same Redis for comparison.
 *
 * <pre>
 * mvn -q -o -pl processing-server test-compile exec:java -Dexec.classpathScope=test \
 *   -Dexec.mainClass=org.glouglou.server.bench.IngestBench -Dexec.args="--seconds 10 --conns 10000 --rate 500000"
 * </pre>
 */
public final class IngestBench {
    static String dropSummary(ServerMetrics m) {
        StringBuilder b = new StringBuilder();
        for (org.glouglou.protocol.DropReason r : org.glouglou.protocol.DropReason.values()) {
            double v = m.drops.labelValues(r.label()).get();
            if (v > 0) {
                b.append(r.label()).append('=').append((long) v).append(' ');
            }
        }
        return b.length() == 0 ? "none" : b.toString().strip();
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = new HashMap<>(Map.of("--seconds", "10", "--conns", "10000", "--rate", "500000"));
        for (int i = 0; i + 1 < args.length; i += 2) {
            a.put(args[i], args[i + 1]);
        }
        int seconds = Integer.parseInt(a.get("--seconds"));
        int conns = Integer.parseInt(a.get("--conns"));
        long rate = Long.parseLong(a.get("--rate"));

        RedisServerProcess redis = new RedisServerProcess().startStandalone();
        ModuleRegistry registry = ModuleRegistry.load();
        String line = ProbeSecrets.newLine(1, "bench");
        byte[] secret = Base64.getDecoder().decode(line.split(" ")[1]);
        Path secrets = Files.createTempFile("gg-bench", ".txt");
        Files.writeString(secrets, line + "\n");
        ServerConfig c = ServerConfig.forTest(redis.uri(), secrets, false, ServerSettings.defaults());
        c = new ServerConfig(c.listen(), c.redisUri(), c.secrets(), false, null, c.settings(), c.maxKeys(),
                1_000_000, c.maxInflight(), true, null, null);
        try (GlouglouServer server = new GlouglouServer(c, registry)) {
            InetSocketAddress at = server.bind();
            server.start();
            FakeProbe probe = new FakeProbe(registry, 1, secret, at).connect();
            probe.keepSent(false);
            long t0 = FakeProbe.nowMicros();
            for (int i = 0; i < conns; i++) {
                byte[] src = {10, 1, (byte) (i >> 8), (byte) i};
                byte[] dst = {10, 2, 0, (byte) (i % 100)};
                probe.add(t0, new NetworkEvents.NewConn(i, new FlowKey(6, InetAddress.getByAddress(src), 1024 + i
                        % 50000, InetAddress.getByAddress(dst), 443)));
            }
            probe.flush();
            Thread.sleep(1000);
            ServerMetrics m = server.metrics();
            double ev0 = m.events.labelValues("delivered").get();
            double cmd0 = m.redisCommands.labelValues("ok").get();
            double keys0 = m.keysRewritten.get();
            long start = System.nanoTime();
            long sent = 0;
            long end = start + seconds * 1_000_000_000L;
            while (System.nanoTime() < end) {
                // pace in slices of 1 ms: the target number of events by now, or as fast as possible with rate 0
                long due = rate == 0 ? sent + 1000 : (System.nanoTime() - start) * rate / 1_000_000_000L;
                while (sent < due) {
                    int conn = (int) (sent % conns);
                    probe.add(FakeProbe.nowMicros(), new NetworkEvents.Data(conn, 1, 100, 1, 1500, null));
                    sent++;
                }
                if (rate != 0) {
                    // sleep, never spin: on 2 cores a spinning sender would take the server's CPU
                    java.util.concurrent.locks.LockSupport.parkNanos(500_000);
                }
            }
            probe.flush();
            double secs = (System.nanoTime() - start) / 1e9;
            Thread.sleep(1500); // let the last ticks reach Redis
            double ev = m.events.labelValues("delivered").get() - ev0;
            double cmds = m.redisCommands.labelValues("ok").get() - cmd0;
            double keys = m.keysRewritten.get() - keys0;
            long lost = server.core().sessions().current(1).lost();
            System.out.printf("IngestBench: %d s, %d conns, target %d events/s%n", seconds, conns, rate);
            System.out.printf("  sent      %,.0f DATA events/s (%d datagrams sealed)%n", sent / secs, probe
                    .session().sequence());
            System.out.printf(
                    "  delivered %,.0f events/s to the network module; %d datagrams lost in transit (%.2f%%)%n",
                    ev / secs, lost, 100.0 * lost / Math.max(1, probe.session().sequence()));
            System.out.printf("  Redis     %,.0f commands/s (%,.0f keys written/s: one HSET each, EXPIRE when due)%n",
                    cmds / secs,
                    keys / secs);
            System.out.printf("  datagrams accepted %,.0f, dropped %,.0f; drops %s%n",
                    m.datagrams.labelValues("accepted")
                            .get(),
                    m.datagrams.labelValues("dropped").get(), dropSummary(m));
            probe.close();
        }
        Process p = new ProcessBuilder("redis-benchmark", "-p", String.valueOf(redis.port()), "-P", "16", "-t",
                "hset", "-n", "1000000", "-q").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor();
        System.out.println("  redis-benchmark -P 16 -t hset -n 1000000 on the same Redis: " + out.replaceAll(
                "[\\r\\n]+.*\\r", "").strip());
        redis.afterAll(null);
    }
}
