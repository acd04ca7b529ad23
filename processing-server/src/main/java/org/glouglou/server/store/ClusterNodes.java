package org.glouglou.server.store;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.cluster.models.partitions.Partitions;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Per-node work in a Redis Cluster that the routed cluster connection cannot do: CONFIG for keyspace notifications
 * goes to EVERY node, masters and replicas alike (a replica promoted by a failover must already publish them), each
 * through its own short connection of an admin {@link RedisClient} that has no connection listener (so it never looks
 * like a reconnection of the writing or subscribing connections).
 */
public final class ClusterNodes {
    private ClusterNodes() {
    }

    /** The masters (upstream nodes) of {@code p} that serve slots. */
    public static List<RedisClusterNode> masters(Partitions p) {
        List<RedisClusterNode> out = new ArrayList<>();
        for (RedisClusterNode n : p) {
            if (n.is(RedisClusterNode.NodeFlag.UPSTREAM) && !n.is(RedisClusterNode.NodeFlag.FAIL) && !n.getSlots()
                    .isEmpty()) {
                out.add(n);
            }
        }
        return out;
    }

    /**
     * SCRIPT LOAD of {@code script} on every node of {@code p} that is not marked failed, replicas included (Redis
     * does not replicate its script cache, and a promoted replica must run EVALSHA at once). Returns null when every
     * node has it, else one line naming the nodes that refused or could not be reached.
     */
    public static String loadScript(RedisClient admin, Partitions p, String script) {
        StringBuilder problems = new StringBuilder();
        for (RedisClusterNode n : p) {
            if (n.is(RedisClusterNode.NodeFlag.FAIL) || n.is(RedisClusterNode.NodeFlag.NOADDR)) {
                continue;
            }
            RedisURI u = n.getUri();
            try (StatefulRedisConnection<String, String> c = admin.connect(u)) {
                c.setTimeout(Duration.ofSeconds(5));
                c.sync().scriptLoad(script);
            } catch (RuntimeException e) {
                if (problems.length() > 0) {
                    problems.append("; ");
                }
                problems.append("node ").append(u.getHost()).append(':').append(u.getPort()).append(": ").append(
                        RedisStore.rootMessage(e));
            }
        }
        return problems.length() == 0 ? null : "SCRIPT LOAD failed on " + problems;
    }

    /**
     * Adds {@code flags} to notify-keyspace-events on every node of {@code p} that is not marked failed (never removes
     * flags). Returns null when every node has them, else one line per refusing or unreachable node, saying the exact
     * setting the operator must make.
     */
    public static String enableNotifications(RedisClient admin, Partitions p, String flags,
            org.slf4j.Logger log) {
        StringBuilder problems = new StringBuilder();
        for (RedisClusterNode n : p) {
            if (n.is(RedisClusterNode.NodeFlag.FAIL) || n.is(RedisClusterNode.NodeFlag.NOADDR)) {
                continue;
            }
            RedisURI u = n.getUri();
            try (StatefulRedisConnection<String, String> c = admin.connect(u)) {
                c.setTimeout(Duration.ofSeconds(5));
                RedisCommands<String, String> sync = c.sync();
                Map<String, String> now = sync.configGet("notify-keyspace-events");
                String have = now.getOrDefault("notify-keyspace-events", "");
                String want = RedisStore.mergeFlags(have, flags);
                if (!want.equals(have)) {
                    sync.configSet("notify-keyspace-events", want);
                    log.info("Redis node {} ({}): notify-keyspace-events set to '{}' (was '{}')", u.getHost() + ":"
                            + u.getPort(), n.is(RedisClusterNode.NodeFlag.UPSTREAM) ? "master" : "replica", want,
                            have);
                }
            } catch (RuntimeException e) {
                if (problems.length() > 0) {
                    problems.append("; ");
                }
                problems.append("node ").append(u.getHost()).append(':').append(u.getPort()).append(": ").append(
                        RedisStore.rootMessage(e));
            }
        }
        if (problems.length() == 0) {
            return null;
        }
        return "Redis Cluster refused or missed CONFIG for notify-keyspace-events (" + problems
                + "): set notify-keyspace-events to include '" + flags + "' on EVERY node, masters and replicas"
                + " (redis.conf or the managed service's parameters); viewers miss live updates of the keys those"
                + " nodes own until then";
    }
}
