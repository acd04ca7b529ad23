package org.glouglou.server.store;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisURI;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions.RefreshTrigger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Where the live graph is: one standalone Redis, or a Redis Cluster reached through one or more seed nodes. Parsed
 * from {@code --redis URI[,URI...]} and {@code --redis-cluster}; {@link #parse} checks everything the command line
 * can get wrong and says it in one line.
 *
 * @param seeds   the standalone Redis (exactly one), or the cluster's seed nodes (any of them is enough to learn the
 *                topology; more seeds only help when some are down at start)
 * @param cluster true for Redis Cluster
 */
public record RedisTarget(List<RedisURI> seeds, boolean cluster) {
    /**
     * 10 s: how often the cluster clients reread the topology (CLUSTER NODES) even when no command was redirected; a
     * failover or a new master is seen within that, and sooner when a MOVED/ASK reply or persistent reconnects trigger
     * an adaptive refresh.
     */
    public static final Duration TOPOLOGY_REFRESH = Duration.ofSeconds(10);
    /**
     * 5 s between two adaptive refreshes at most (Lettuce's default is 30 s): a master that dies triggers one at once
     * (persistent reconnects), before the cluster has failed over; the next one, 5 s later, sees the promoted replica.
     */
    public static final Duration ADAPTIVE_REFRESH_GAP = Duration.ofSeconds(5);

    public RedisTarget {
        seeds = List.copyOf(seeds);
        if (seeds.isEmpty()) {
            throw new IllegalArgumentException("no Redis URI");
        }
    }

    /** A standalone Redis (tests, the usual case). */
    public static RedisTarget standalone(String uri) {
        return parse(uri, false);
    }

    /**
     * Parses {@code --redis}: one {@code redis://HOST:PORT[/DB]} (or {@code rediss://} for TLS) for a standalone
     * Redis; with {@code cluster}, a comma-separated list of seed nodes, database 0 only (a cluster has no other).
     *
     * @throws IllegalArgumentException with a one-line message naming the bad part and the expected form
     */
    public static RedisTarget parse(String spec, boolean cluster) {
        if (spec == null || spec.isBlank()) {
            throw new IllegalArgumentException("--redis is empty: expected redis://HOST:PORT");
        }
        List<RedisURI> out = new ArrayList<>();
        for (String part : spec.split(",", -1)) {
            String s = part.trim();
            if (s.isEmpty()) {
                throw new IllegalArgumentException("--redis " + spec + ": an empty URI in the list (expected"
                        + " redis://HOST:PORT[,redis://HOST:PORT...])");
            }
            if (!s.startsWith("redis://") && !s.startsWith("rediss://")) {
                throw new IllegalArgumentException("--redis " + s + ": expected redis://HOST:PORT (or rediss:// for"
                        + " TLS)");
            }
            RedisURI u;
            try {
                u = RedisURI.create(s);
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("--redis " + s + ": " + e.getMessage() + " (expected"
                        + " redis://HOST:PORT" + (cluster ? ")" : "[/DB])"));
            }
            if (u.getHost() == null || u.getHost().isEmpty()) {
                throw new IllegalArgumentException("--redis " + s + ": no host (expected redis://HOST:PORT)");
            }
            if (cluster && u.getDatabase() != 0) {
                throw new IllegalArgumentException("--redis " + s + ": a Redis Cluster has database 0 only; drop"
                        + " the /" + u.getDatabase());
            }
            out.add(u);
        }
        if (!cluster && out.size() > 1) {
            throw new IllegalArgumentException("--redis " + spec + ": several URIs are the seed nodes of a cluster:"
                    + " add --redis-cluster, or give one URI");
        }
        return new RedisTarget(out, cluster);
    }

    /** The standalone Redis (or the first seed). */
    public RedisURI first() {
        return seeds.get(0);
    }

    /** The database the keys are in (always 0 in a cluster). */
    public int database() {
        return cluster ? 0 : first().getDatabase();
    }

    /** For logs: the URIs without passwords. */
    @Override
    public String toString() {
        StringBuilder b = new StringBuilder(cluster ? "cluster " : "");
        for (int i = 0; i < seeds.size(); i++) {
            b.append(i == 0 ? "" : ",").append(seeds.get(i).toString());
        }
        return b.toString();
    }

    /**
     * Cluster client options, the standalone behaviour (fail fast while disconnected, 5 s timeout) plus: topology
     * reread every {@link #TOPOLOGY_REFRESH} and on every adaptive trigger (MOVED, ASK, persistent reconnects,
     * uncovered slot, unknown node; at most one per {@link #ADAPTIVE_REFRESH_GAP}), stale node connections closed.
     */
    public static ClusterClientOptions clusterOptions(int requestQueueSize) {
        return ClusterClientOptions.builder().autoReconnect(true)
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .requestQueueSize(requestQueueSize).timeoutOptions(TimeoutOptions.enabled(Duration.ofSeconds(5)))
                .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder().enablePeriodicRefresh(
                        TOPOLOGY_REFRESH).enableAdaptiveRefreshTrigger(RefreshTrigger.MOVED_REDIRECT,
                                RefreshTrigger.ASK_REDIRECT, RefreshTrigger.PERSISTENT_RECONNECTS,
                                RefreshTrigger.UNCOVERED_SLOT, RefreshTrigger.UNKNOWN_NODE)
                        .adaptiveRefreshTriggersTimeout(ADAPTIVE_REFRESH_GAP).closeStaleConnections(true).build())
                .build();
    }
}
