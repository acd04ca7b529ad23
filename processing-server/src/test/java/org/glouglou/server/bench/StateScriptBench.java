package org.glouglou.server.bench;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.glouglou.server.store.KeyCoalescer;
import org.glouglou.server.store.StateScript;

/**
 * What one state script call costs Redis (figures only): pipelined EVALSHA of the writes the network module makes
 * per DATA (a link with one flow's contribution and rates, two hosts, the flow's conn key), on N distinct links, and
 * a plain HSET of the same fields for comparison. Prints calls per second and Redis CPU per call.
 *
 * <pre>
 * StateScriptBench --redis redis://127.0.0.1:P --redis-pid PID --links 10000 --rounds 5
 * </pre>
 */
public final class StateScriptBench {
    public static void main(String[] args) throws Exception {
        Map<String, String> a = BenchOptions.parse(args, Map.of("--links", "10000", "--rounds", "5"));
        int links = Integer.parseInt(a.get("--links"));
        int rounds = Integer.parseInt(a.get("--rounds"));
        RedisClient client = RedisClient.create(a.get("--redis"));
        try (StatefulRedisConnection<String, String> c = client.connect();
                StatefulRedisConnection<String, String> admin = client.connect()) {
            admin.sync().scriptLoad(StateScript.TEXT);
            admin.sync().configResetstat();
            c.setAutoFlushCommands(false);
            RedisAsyncCommands<String, String> async = c.async();
            KeyCoalescer k = new KeyCoalescer(10_000_000, 300, 600_000);
            String[] fields = {"pkts_ab", "bytes_ab", "pkts_ba", "bytes_ba", "pkts_ab.1", "bytes_ab.1", "pkts_ba.1",
                    "bytes_ba.1", "proto.tcp", "conns", "port.443"};
            String only = System.getenv().getOrDefault("KINDS", "link,node,hset");
            boolean rates = !"0".equals(System.getenv("RATES"));
            int nf = Integer.parseInt(System.getenv().getOrDefault("NF", "11"));
            fields = java.util.Arrays.copyOf(fields, nf);
            for (String kind : only.split(",")) {
                for (int round = 1; round <= rounds; round++) {
                    k.lock().lock();
                    try {
                        for (int i = 0; i < links; i++) {
                            String key = (kind.equals("node") ? "gg:node:10.0." : "gg:link:10.0.") + i / 256 + "."
                                    + i % 256 + (kind.equals("node") ? "" : "|172.16.0.1");
                            k.nextGeneration();
                            if (kind.equals("node")) {
                                k.hmax(key, "last_seen", System.currentTimeMillis());
                                k.hmax(key, "seen.1", System.currentTimeMillis());
                                k.hmin(key, "first_seen", 1);
                            } else {
                                long n = round;
                                k.contribute(key, "1:1:" + i, fields, java.util.Arrays.copyOf(new long[]{n, 100 * n, n,
                                        1400 * n, n, 100 * n, n, 1400 * n, 1500 * n, 1, 1}, nf), false);
                                k.hmax(key, "last_seen", System.currentTimeMillis());
                                k.hmax(key, "seen.1", System.currentTimeMillis());
                                if (rates) {
                                    k.rate(key, "rate_ab", "bytes_ab");
                                    k.rate(key, "rate_ba", "bytes_ba");
                                }
                            }
                            k.expire(key, 300);
                        }
                    } finally {
                        k.lock().unlock();
                    }
                    List<KeyCoalescer.Write> ws = k.drainDirty(Integer.MAX_VALUE, System.currentTimeMillis());
                    long cpu0 = IngestBench.procCpu(a.get("--redis-pid"));
                    long t0 = System.nanoTime();
                    List<RedisFuture<?>> fs = new ArrayList<>();
                    for (KeyCoalescer.Write w : ws) {
                        if (kind.equals("hset")) {
                            Map<String, String> m = new java.util.HashMap<>();
                            for (String f : fields) {
                                m.put(f, Integer.toString(round));
                            }
                            m.put("last_seen", "1");
                            fs.add(async.hset("gg:plain:" + w.key(), m));
                        } else {
                            fs.add(async.evalsha(StateScript.SHA, ScriptOutputType.INTEGER, w.keys(), w.args(0,
                                    600_000)));
                        }
                        if (fs.size() % 512 == 0) {
                            c.flushCommands();
                        }
                        k.done(w, true);
                    }
                    c.flushCommands();
                    for (RedisFuture<?> f : fs) {
                        f.get();
                    }
                    long t1 = System.nanoTime();
                    long cpu1 = IngestBench.procCpu(a.get("--redis-pid"));
                    k.confirm();
                    String stats = admin.sync().info("commandstats");
                    admin.sync().configResetstat();
                    String us = "?";
                    for (String line : stats.split("\r?\n")) {
                        if (line.startsWith(kind.equals("hset") ? "cmdstat_hset:" : "cmdstat_evalsha:")) {
                            us = line.replaceAll(".*usec_per_call=([0-9.]+).*", "$1");
                        }
                    }
                    System.out.printf("%s round %d: %d calls in %.0f ms = %.0f calls/s, Redis CPU %.1f us per call"
                            + " (commandstats: %s us per call)%n", kind, round, ws.size(), (t1 - t0) / 1e6,
                            ws.size()
                                    / ((t1 - t0) / 1e9),
                            (cpu1 - cpu0) / 1e3 / ws.size(), us);
                }
            }
        } finally {
            client.shutdown();
        }
    }
}
