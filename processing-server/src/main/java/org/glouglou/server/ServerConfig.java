package org.glouglou.server;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import org.glouglou.spi.server.ServerSettings;

/**
 * Everything the processing server is told at start, already checked. The command line makes one; tests
 * make their own.
 *
 * @param listen           UDP address for probes
 * @param redisUri         where the state goes: one {@code redis://HOST:PORT[/DB]}, or with {@code redisCluster} a
 *                         comma-separated list of seed nodes
 * @param secrets          the probe secrets file; null only with {@code allowPlain}
 * @param allowPlain       accept unsealed datagrams (tests only)
 * @param metrics          the metrics HTTP endpoint, or null for none
 * @param settings         tick and TTLs for the modules
 * @param maxKeys          keys the write buffer (the copy of live keys) holds at most
 * @param rateLimit        datagrams per second per source address
 * @param maxInflight      Redis commands in flight at most
 * @param redisFailFast    exit at start when Redis cannot be reached instead of retrying
 * @param user             become this user after binding, or null
 * @param chroot           chroot here before becoming {@code user}, or null
 * @param redisCluster     {@code redisUri} names the seed nodes of a Redis Cluster
 */
public record ServerConfig(InetSocketAddress listen, String redisUri, Path secrets, boolean allowPlain,
        InetSocketAddress metrics, ServerSettings settings, int maxKeys, int rateLimit, int maxInflight,
        boolean redisFailFast, String user, Path chroot, boolean redisCluster) {

    /** A standalone Redis (the form before cluster support). */
    public ServerConfig(InetSocketAddress listen, String redisUri, Path secrets, boolean allowPlain,
            InetSocketAddress metrics, ServerSettings settings, int maxKeys, int rateLimit, int maxInflight,
            boolean redisFailFast, String user, Path chroot) {
        this(listen, redisUri, secrets, allowPlain, metrics, settings, maxKeys, rateLimit, maxInflight, redisFailFast,
                user, chroot, false);
    }

    /** Where Redis is, parsed (a bad {@code redisUri} gives a one-line {@link org.glouglou.spi.ConfigException}). */
    public org.glouglou.server.store.RedisTarget redisTarget() throws org.glouglou.spi.ConfigException {
        try {
            return org.glouglou.server.store.RedisTarget.parse(redisUri, redisCluster);
        } catch (IllegalArgumentException e) {
            throw new org.glouglou.spi.ConfigException(e.getMessage());
        }
    }

    /** The same configuration against a Redis Cluster whose seed nodes are {@code seeds} (comma-separated). */
    public ServerConfig withRedisCluster(String seeds) {
        return new ServerConfig(listen, seeds, secrets, allowPlain, metrics, settings, maxKeys, rateLimit, maxInflight,
                redisFailFast, user, chroot, true);
    }

    /** 4430 and 9430: the project's ports (spec); 9430 on loopback only: metrics reveal probe names. */
    public static final int DEFAULT_PORT = 4430;
    public static final int DEFAULT_METRICS_PORT = 9430;
    /**
     * 1,000,000 keys: about 1 GiB of copy at worst, room for several hundred thousand live flows with their hosts and
     * links.
     */
    public static final int DEFAULT_MAX_KEYS = 1_000_000;
    /**
     * 20,000 datagrams/s per source: ten times a busy probe (2000 full datagrams a second is 2.4 MB/s), a small share of
     * what one ingest thread opens.
     */
    public static final int DEFAULT_RATE_LIMIT = 20_000;
    /** 200,000 commands: two seconds of writes at Lettuce's measured 100k+/s before a tick is deferred. */
    public static final int DEFAULT_MAX_INFLIGHT = 200_000;

    /** A test configuration: loopback, ephemeral port, no metrics endpoint, defaults otherwise. */
    public static ServerConfig forTest(String redisUri, Path secrets, boolean allowPlain, ServerSettings settings) {
        return new ServerConfig(new InetSocketAddress("127.0.0.1", 0), redisUri, secrets, allowPlain, null, settings,
                DEFAULT_MAX_KEYS, DEFAULT_RATE_LIMIT, DEFAULT_MAX_INFLIGHT, false, null, null);
    }
}
