package org.glouglou.server;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import org.glouglou.platform.Privileges;
import org.glouglou.protocol.session.ProbeSecrets;
import org.glouglou.spi.ConfigException;
import org.glouglou.spi.ModuleRegistry;
import org.glouglou.spi.server.ServerSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Command line of the glouglou processing server. A bad command line or configuration prints one line that says what
 * is wrong and how to fix it, and exits with 2. Order as in OpenBSD daemons: bind, drop privileges, then read
 * untrusted datagrams and talk to Redis. SIGTERM and SIGINT stop it gracefully (spec 5.8: everything accepted is
 * written and confirmed, the last acknowledgements sent) and it exits with 0.
 */
@Command(name = "glouglou server", mixinStandardHelpOptions = true, sortOptions = false, description = "Receives probe sessions over UDP and writes the live graph state into Redis.")
public final class ServerMain implements java.util.concurrent.Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(ServerMain.class);
    private static final ServerSettings D = ServerSettings.defaults();
    /**
     * 10 s: a tick and a round trip to Redis take well under a second; beyond ten, Redis is in trouble and the probes
     * send what was not acknowledged to the next server anyway (a systemd stop waits 90 s by default).
     */
    static final long DEFAULT_STOP_TIMEOUT = 10;

    @Option(names = "--listen", paramLabel = "ADDR:PORT", description = "UDP address for probes (default:"
            + " ${DEFAULT-VALUE})")
    String listen = "0.0.0.0:" + ServerConfig.DEFAULT_PORT;

    @Option(names = "--redis", paramLabel = "URI[,URI...]", description = "Redis to write to, redis://HOST:PORT[/DB]"
            + " (default: ${DEFAULT-VALUE}); with --redis-cluster, the cluster's seed nodes, comma-separated")
    String redis = "redis://127.0.0.1:6379";

    @Option(names = "--redis-cluster", description = "--redis names seed nodes of a Redis Cluster: writes are routed"
            + " by key slot, viewers subscribe to keyspace notifications on every master")
    boolean redisCluster;

    @Option(names = "--redis-fail-fast", description = "exit when Redis cannot be reached at start (default: keep"
            + " retrying every second and hold changes in memory)")
    boolean redisFailFast;

    @Option(names = "--secrets", paramLabel = "FILE", description = "probe secrets: '<id> <base64 secret> [name]'"
            + " per line")
    Path secrets;

    @Option(names = "--allow-plain", description = "also accept unsealed, unauthenticated datagrams (tests only)")
    boolean allowPlain;

    @Option(names = "--tick", paramLabel = "MS", description = "coalescing period (default: ${DEFAULT-VALUE})")
    long tick = D.tickMillis();

    @Option(names = "--metrics", paramLabel = "ADDR:PORT", description = "Prometheus endpoint, 'off' for none"
            + " (default: ${DEFAULT-VALUE})")
    String metrics = "127.0.0.1:" + ServerConfig.DEFAULT_METRICS_PORT;

    @Option(names = "--node-ttl", paramLabel = "S", description = "idle seconds before a host goes (default:"
            + " ${DEFAULT-VALUE})")
    long nodeTtl = D.nodeTtlSeconds();

    @Option(names = "--link-ttl", paramLabel = "S", description = "idle seconds before a host pair goes (default:"
            + " ${DEFAULT-VALUE})")
    long linkTtl = D.linkTtlSeconds();

    @Option(names = "--conn-ttl", paramLabel = "S", description = "idle seconds before an open connection's key goes;"
            + " keep it above the probes' flow idle timeout (default: ${DEFAULT-VALUE})")
    long connTtl = D.connTtlSeconds();

    @Option(names = "--mark-horizon", paramLabel = "S", description = "seconds a closed flow's mark (and key) is kept;"
            + " keep it far above the probes' 60 s resend horizon (default: ${DEFAULT-VALUE})")
    long markHorizon = D.markHorizonSeconds();

    @Option(names = "--stop-timeout", paramLabel = "S", description = "on SIGTERM/SIGINT, seconds to wait for Redis to"
            + " confirm what was accepted before exiting (default: ${DEFAULT-VALUE})")
    long stopTimeout = DEFAULT_STOP_TIMEOUT;

    @Option(names = "--name-ttl", paramLabel = "S", description = "seconds a name stays unless seen again (default:"
            + " ${DEFAULT-VALUE})")
    long nameTtl = D.nameTtlSeconds();

    @Option(names = "--max-keys", paramLabel = "N", description = "live keys held at most (default: ${DEFAULT-VALUE})")
    int maxKeys = ServerConfig.DEFAULT_MAX_KEYS;

    @Option(names = "--rate-limit", paramLabel = "N", description = "datagrams/s per source address (default:"
            + " ${DEFAULT-VALUE})")
    int rateLimit = ServerConfig.DEFAULT_RATE_LIMIT;

    @Option(names = "--redis-keys-per-second", paramLabel = "N", description = "Redis write budget: keys written"
            + " per second at most; more changed keys wait and coalesce (default: ${DEFAULT-VALUE})")
    int redisKeysPerSecond = org.glouglou.server.store.RedisStore.DEFAULT_KEYS_PER_SECOND;

    @Option(names = "--user", paramLabel = "USER", description = "become USER after binding (when started as root)")
    String user;

    @Option(names = "--chroot", paramLabel = "DIR", description = "chroot to DIR before becoming --user")
    Path chroot;

    /** The viewer listener's options. */
    @Mixin
    org.glouglou.server.viz.ViewerOptions viewerOptions = new org.glouglou.server.viz.ViewerOptions();

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Parses and runs; returns the exit code (2 for a bad command line or configuration). */
    public static int run(String[] args) {
        CommandLine cl = new CommandLine(new ServerMain());
        cl.setParameterExceptionHandler((ex, a) -> {
            System.err.println("glouglou server: " + ex.getMessage() + " (see --help)");
            return 2;
        });
        cl.setExecutionExceptionHandler((ex, c, p) -> {
            if (ex instanceof ConfigException) {
                System.err.println("glouglou server: " + ex.getMessage());
                return 2;
            }
            throw ex;
        });
        return cl.execute(args);
    }

    static InetSocketAddress address(String option, String s) throws ConfigException {
        int colon = s.lastIndexOf(':');
        if (colon <= 0 || colon == s.length() - 1) {
            throw new ConfigException(option + " " + s + ": expected ADDRESS:PORT, e.g. 127.0.0.1:" + 9430);
        }
        String host = s.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(s.substring(colon + 1));
        } catch (NumberFormatException e) {
            port = -1;
        }
        if (port < 0 || port > 65535) {
            throw new ConfigException(option + " " + s + ": the port must be a number from 0 to 65535");
        }
        try {
            return new InetSocketAddress(InetAddress.getByName(host), port);
        } catch (UnknownHostException e) {
            throw new ConfigException(option + " " + s + ": unknown host " + host + " (use an IP address)");
        }
    }

    private static void positive(String option, long v) throws ConfigException {
        if (v <= 0) {
            throw new ConfigException(option + " " + v + ": must be greater than 0");
        }
    }

    ServerConfig config() throws ConfigException {
        positive("--tick", tick);
        positive("--node-ttl", nodeTtl);
        positive("--link-ttl", linkTtl);
        positive("--conn-ttl", connTtl);
        positive("--mark-horizon", markHorizon);
        positive("--stop-timeout", stopTimeout);
        positive("--name-ttl", nameTtl);
        positive("--max-keys", maxKeys);
        positive("--rate-limit", rateLimit);
        if (secrets == null && !allowPlain) {
            throw new ConfigException("--secrets FILE is required: it lists the probes allowed in (make a line with"
                    + " 'glouglou probe --new-secret ID')");
        }
        if (secrets != null) {
            ProbeSecrets.load(secrets); // a bad file fails here, in one line, before anything starts
        }
        if (chroot != null && user == null) {
            throw new ConfigException("--chroot needs --user: a chrooted root can escape (add --user nobody)");
        }
        ServerSettings s = new ServerSettings(tick, nodeTtl, linkTtl, connTtl, markHorizon, nameTtl,
                D.maxConnsPerBoot());
        InetSocketAddress m = "off".equals(metrics) ? null : address("--metrics", metrics);
        ServerConfig c = new ServerConfig(address("--listen", listen), redis, secrets, allowPlain, m, s, maxKeys,
                rateLimit, ServerConfig.DEFAULT_MAX_INFLIGHT, redisFailFast, user, chroot, redisCluster);
        c.redisTarget(); // a bad --redis fails here, in one line
        return c;
    }

    @Override
    public Integer call() throws Exception {
        if (viewerOptions.runCommand()) {
            return 0;
        }
        ServerConfig c = config();
        org.glouglou.server.viz.ViewerServerConfig vc = viewerOptions.config(ServerMain::address);
        ModuleRegistry registry = ModuleRegistry.load();
        positive("--redis-keys-per-second", redisKeysPerSecond);
        GlouglouServer server = new GlouglouServer(c, registry).redisKeysPerSecond(redisKeysPerSecond);
        server.bind();
        org.glouglou.server.viz.ViewerServer viewers = null;
        if (vc != null) { // viewer port and TLS identity before the privilege drop
            viewers = new org.glouglou.server.viz.ViewerServer(vc, org.glouglou.server.viz.ViewerUsers.load(vc
                    .users()), c.redisTarget(), registry, c.settings().tickMillis());
            viewers.metrics(server.metrics());
            viewers.bind();
        } else {
            LOG.info("viewer listener off (give --viewer-users FILE to turn it on)");
        }
        if (c.user() != null) {
            // sockets are open; from here on nothing needs root, and the datagrams to come are untrusted
            LOG.info("{}", Privileges.drop(c.user(), c.chroot()));
        } else if (Privileges.isRoot()) {
            LOG.warn("running as root: pass --user nobody to drop privileges after binding");
        }
        server.start();
        org.glouglou.server.viz.ViewerServer v = viewers;
        if (v != null) {
            v.start();
        }
        CountDownLatch stop = new CountDownLatch(1);
        // SIGTERM and SIGINT: a graceful stop on the main thread, then exit 0 (a shutdown hook would exit 143)
        org.glouglou.platform.StopSignals.onStop(stop::countDown);
        Thread hook = new Thread(() -> {
            if (v != null) {
                v.close();
            }
            server.close();
        }, "shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        stop.await();
        LOG.info("stopping: no more datagrams taken, writing what was accepted (at most {} s)", stopTimeout);
        if (v != null) {
            v.close();
        }
        server.stop(stopTimeout * 1000);
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // already shutting down
        }
        return 0;
    }
}
