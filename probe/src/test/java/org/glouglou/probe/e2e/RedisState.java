package org.glouglou.probe.e2e;

import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What the servers wrote, read straight from Redis: one standalone node, or every master of a cluster read on the
 * master itself (SCAN and HGETALL there, merged), so the reading relies on no client's idea of the topology.
 */
final class RedisState implements AutoCloseable {
    static final String LINK = "gg:link:";
    static final String CONN = "gg:conn:";
    static final String PROBE = "gg:probe:";

    private final List<RedisClient> clients = new ArrayList<>();
    private final List<StatefulRedisConnection<String, String>> nodes = new ArrayList<>();

    RedisState(List<Integer> ports) {
        for (int port : ports) {
            RedisClient c = RedisClient.create(RedisURI.builder().withHost("127.0.0.1").withPort(port).withTimeout(
                    Duration.ofSeconds(5)).build());
            clients.add(c);
            nodes.add(c.connect());
        }
    }

    private List<RedisCommands<String, String>> masters() {
        return nodes.stream().map(StatefulRedisConnection::sync).toList();
    }

    /** Every key matching {@code pattern} with its hash, across the nodes. */
    Map<String, Map<String, String>> hashes(String pattern) {
        Map<String, Map<String, String>> m = new TreeMap<>();
        for (RedisCommands<String, String> r : masters()) {
            for (String k : scan(r, pattern)) {
                Map<String, String> h = r.hgetall(k);
                if (!h.isEmpty()) {
                    m.put(k, new TreeMap<>(h));
                }
            }
        }
        return m;
    }

    /** One hash, wherever it lives (empty if none). */
    Map<String, String> hash(String key) {
        for (RedisCommands<String, String> r : masters()) {
            try {
                Map<String, String> h = r.hgetall(key);
                if (!h.isEmpty()) {
                    return h;
                }
            } catch (io.lettuce.core.RedisCommandExecutionException moved) {
                // a cluster node that does not own the key answers MOVED: it lives on another master
            }
        }
        return Map.of();
    }

    /** Host pairs as the graph holds them: {@code A|B} to the per-direction totals. */
    Map<String, HostPairTotals.Totals> links() {
        Map<String, HostPairTotals.Totals> m = new TreeMap<>();
        hashes(LINK + "*").forEach((k, h) -> m.put(k.substring(LINK.length()), new HostPairTotals.Totals(num(h,
                "pkts_ab"), num(h, "bytes_ab"), num(h, "pkts_ba"), num(h, "bytes_ba"))));
        return m;
    }

    /** The status hash of probe {@code id}. */
    Map<String, String> probe(long id) {
        return hash(PROBE + id);
    }

    static long num(Map<String, String> h, String f) {
        String v = h.get(f);
        return v == null ? 0 : Long.parseLong(v);
    }

    private static TreeSet<String> scan(RedisCommands<String, String> r, String pattern) {
        TreeSet<String> keys = new TreeSet<>();
        ScanCursor c = ScanCursor.INITIAL;
        for (int i = 0; i < 100_000; i++) {
            KeyScanCursor<String> k = r.scan(c, ScanArgs.Builder.matches(pattern).limit(1000));
            keys.addAll(k.getKeys());
            c = k;
            if (c.isFinished()) {
                return keys;
            }
        }
        throw new IllegalStateException("SCAN " + pattern + " did not finish");
    }

    @Override
    public void close() {
        nodes.forEach(StatefulRedisConnection::close);
        clients.forEach(c -> c.shutdown(Duration.ZERO, Duration.ofSeconds(1)));
    }
}
