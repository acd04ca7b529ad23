package org.glouglou.server.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The property of docs/architecture.txt 6 against a real Redis (or Redis Cluster): contributions from several
 * simulated servers, interleaved at random, repeated, overtaken, and lost in "crashes" (a write applied by Redis whose
 * answer the server never recorded, the server gone, its probes' events sent again to a new server), leave every key
 * holding exactly the sum of its contributors' final values, the largest last_seen and the smallest first_seen; and
 * no counter ever decreases between two reads. Each server is a real {@link KeyCoalescer} whose writes go through the
 * real {@link StateScript}.
 */
public final class MergeProperty {
    static final String[] FIELDS = {"pkts", "bytes"};

    /** One contributor (a flow): its key and its cumulative values step by step; the last step closes it. */
    record Contributor(String who, String key, List<long[]> steps, long firstSeen, long lastSeen) {
    }

    private final RedisClusterCommands<String, String> redis;
    private final Random rnd;
    private final long seed;
    private final List<KeyCoalescer> servers = new ArrayList<>();
    /** What each server received: what its probes still hold (not acknowledged durable) when it dies. */
    private final Map<KeyCoalescer, List<Object[]>> received = new java.util.IdentityHashMap<>();
    private final Map<String, Map<String, Long>> lastRead = new HashMap<>();
    int crashes;
    int duplicates;
    int stale;
    int writes;

    public MergeProperty(RedisClusterCommands<String, String> redis, long seed) {
        this.redis = redis;
        this.seed = seed;
        this.rnd = new Random(seed);
    }

    static KeyCoalescer server() {
        return new KeyCoalescer(100_000, 3600, 600_000);
    }

    /** Runs one seeded history and checks it. */
    public void run() {
        int keyCount = 1 + rnd.nextInt(6);
        List<String> keys = new ArrayList<>();
        for (int k = 0; k < keyCount; k++) {
            keys.add("gg:link:p" + seed + "-" + k + "-" + Long.toHexString(rnd.nextLong()));
        }
        List<Contributor> cs = new ArrayList<>();
        int n = 2 + rnd.nextInt(40);
        for (int i = 0; i < n; i++) {
            List<long[]> steps = new ArrayList<>();
            long p = 0;
            long b = 0;
            int count = 1 + rnd.nextInt(8);
            for (int s = 0; s < count; s++) {
                p += rnd.nextInt(5);
                b += rnd.nextInt(5) * (1L + rnd.nextInt(1500));
                steps.add(new long[]{p, b});
            }
            long first = 1_000_000 + rnd.nextInt(1000);
            cs.add(new Contributor("7:" + seed + ":" + i, keys.get(rnd.nextInt(keyCount)), steps, first, first + rnd
                    .nextInt(100_000)));
        }
        int serverCount = 1 + rnd.nextInt(3);
        for (int s = 0; s < serverCount; s++) {
            servers.add(server());
        }
        // what each probe still has to deliver: the next step per contributor
        int[] next = new int[n];
        int remaining = cs.stream().mapToInt(c -> c.steps.size()).sum();
        while (remaining > 0) {
            int action = rnd.nextInt(100);
            if (action < 60) {
                int i = rnd.nextInt(n);
                if (next[i] == cs.get(i).steps.size()) {
                    continue;
                }
                deliver(cs.get(i), next[i], pick());
                if (rnd.nextInt(10) == 0) {
                    deliver(cs.get(i), next[i], pick()); // a copy, maybe to another server
                    duplicates++;
                }
                next[i]++;
                remaining--;
            } else if (action < 70) {
                int i = rnd.nextInt(n);
                if (next[i] > 1) {
                    deliver(cs.get(i), rnd.nextInt(next[i] - 1), pick()); // an overtaken step arrives late
                    stale++;
                }
            } else if (action < 92) {
                flush(pick(), rnd.nextInt(10) == 0);
                checkMonotone(keys);
            } else {
                // a server dies; the probes send what it may not have made durable to another (a new) server
                int s = rnd.nextInt(servers.size());
                KeyCoalescer dead = servers.get(s);
                if (rnd.nextBoolean()) {
                    flush(dead, true); // some writes applied, answers lost
                }
                servers.set(s, server());
                crashes++;
                List<Object[]> lost = received.remove(dead);
                if (lost != null) {
                    for (Object[] e : lost) {
                        deliver((Contributor) e[0], (Integer) e[1], pick());
                    }
                }
            }
        }
        // the end: every probe's last payloads go (again) to a server that makes them durable
        KeyCoalescer last = server();
        for (Contributor c : cs) {
            if (rnd.nextBoolean()) {
                deliver(c, c.steps.size() - 1, last);
            } else {
                deliver(c, c.steps.size() - 1, pick());
            }
        }
        servers.add(last);
        for (KeyCoalescer s : servers) {
            while (s.dirtyCount() > 0) {
                flush(s, false);
            }
        }
        checkMonotone(keys);
        for (String k : keys) {
            long p = 0;
            long b = 0;
            long first = Long.MAX_VALUE;
            long lastSeen = Long.MIN_VALUE;
            int members = 0;
            for (Contributor c : cs) {
                if (c.key.equals(k)) {
                    long[] f = c.steps.get(c.steps.size() - 1);
                    p += f[0];
                    b += f[1];
                    first = Math.min(first, c.firstSeen);
                    lastSeen = Math.max(lastSeen, c.lastSeen);
                    members++;
                }
            }
            Map<String, String> h = redis.hgetall(k);
            String what = "seed " + seed + ", key " + k + " (" + members + " contributors, " + crashes
                    + " crashes, " + duplicates + " copies, " + stale + " late)";
            if (members == 0) {
                assertTrue(h.isEmpty(), what);
                continue;
            }
            assertEquals(p, num(h, "pkts"), what + ": pkts");
            assertEquals(b, num(h, "bytes"), what + ": bytes");
            assertEquals(first, num(h, "first_seen"), what + ": first_seen");
            assertEquals(lastSeen, num(h, "last_seen"), what + ": last_seen");
            assertEquals(members, redis.hlen(StateScript.markKey(k)), what + ": one mark per contributor");
            assertEquals(members, redis.zcard(StateScript.closedKey(k)), what + ": every contributor closed");
            long ttl = redis.ttl(k);
            assertTrue(ttl > 0 && redis.ttl(StateScript.markKey(k)) >= ttl, what + ": marks outlive their key");
        }
    }

    private KeyCoalescer pick() {
        return servers.get(rnd.nextInt(servers.size()));
    }

    private void deliver(Contributor c, int step, KeyCoalescer to) {
        received.computeIfAbsent(to, x -> new ArrayList<>()).add(new Object[]{c, step});
        long[] v = c.steps.get(step);
        boolean closed = step == c.steps.size() - 1;
        to.lock().lock();
        try {
            to.nextGeneration();
            to.contribute(c.key, c.who, FIELDS, v, closed);
            // times: the first step carries the first time, the last the last; the others something between
            to.hmin(c.key, "first_seen", step == 0 ? c.firstSeen : c.firstSeen + 1 + rnd.nextInt(10));
            to.hmax(c.key, "last_seen", closed ? c.lastSeen : c.lastSeen - 1 - rnd.nextInt(10));
            to.expire(c.key, 3600);
        } finally {
            to.lock().unlock();
        }
    }

    /**
     * Writes some of a server's dirty keys through the script. {@code crash}: some writes are applied by Redis but
     * their answers never reach the server (the caller throws the server away afterwards).
     */
    private void flush(KeyCoalescer c, boolean crash) {
        List<KeyCoalescer.Write> ws = c.drainDirty(1 + rnd.nextInt(8), System.currentTimeMillis());
        for (KeyCoalescer.Write w : ws) {
            boolean apply = !crash || rnd.nextBoolean();
            for (int i = 0; i < w.calls(); i++) {
                if (apply) {
                    redis.evalsha(StateScript.SHA, ScriptOutputType.INTEGER, w.keys(), w.args(i, c.horizonMillis()));
                    writes++;
                }
                if (!crash) {
                    c.done(w, true);
                }
            }
        }
        c.confirm();
    }

    private void checkMonotone(List<String> keys) {
        for (String k : keys) {
            Map<String, String> h = redis.hgetall(k);
            Map<String, Long> before = lastRead.computeIfAbsent(k, x -> new HashMap<>());
            for (String f : new String[]{"pkts", "bytes", "last_seen"}) {
                long v = num(h, f);
                long was = before.getOrDefault(f, 0L);
                assertTrue(v >= was, "seed " + seed + ": " + k + " " + f + " went from " + was + " down to " + v);
                before.put(f, v);
            }
        }
    }

    static long num(Map<String, String> h, String f) {
        String v = h.get(f);
        return v == null ? 0 : Long.parseLong(v);
    }
}
