package org.glouglou.server;

import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Map;
import org.glouglou.protocol.session.ProbeSecrets;
import org.glouglou.protocol.session.ReceiverSessions;
import org.glouglou.server.ingest.IngestCore;
import org.glouglou.protocol.transport.SourceRateLimiter;
import org.glouglou.server.ingest.UdpListener;
import org.glouglou.server.metrics.ServerMetrics;
import org.glouglou.server.store.KeyCoalescer;
import org.glouglou.server.store.RedisStore;
import org.glouglou.server.store.RedisTarget;
import org.glouglou.spi.ConfigException;
import org.glouglou.spi.ModuleRegistry;

/**
 * The ingest half of the processing server assembled: UDP listener, receiver sessions, module server sides, key
 * buffer, Redis writer, metrics endpoint. {@link #bind} opens the sockets (privileged part), {@link #start} begins
 * talking to Redis; the caller drops privileges in between. {@link #stop} is the graceful stop of spec 5.8 (everything
 * accepted written and confirmed, the last acknowledgements sent); {@link #close} stops at once, as a crash would
 * for Redis and the probes.
 */
public final class GlouglouServer implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(GlouglouServer.class);
    /**
     * 4096 sources: more probes and relays than one server serves; a spoofed flood only churns the table.
     * Burst of two seconds' worth: a probe catching up after a stall is not cut.
     */
    static final int MAX_SOURCES = 4096;

    private final ServerConfig config;
    private final ServerMetrics metrics = new ServerMetrics();
    private final KeyCoalescer store;
    private final RedisStore redis;
    private final IngestCore core;
    private final UdpListener listener;
    private HTTPServer http;
    private InetSocketAddress udp;

    public GlouglouServer(ServerConfig config, ModuleRegistry registry) throws ConfigException {
        this.config = config;
        ProbeSecrets secrets;
        if (config.secrets() != null) {
            secrets = ProbeSecrets.load(config.secrets());
        } else if (config.allowPlain()) {
            secrets = new ProbeSecrets(Map.of());
        } else {
            throw new ConfigException("no --secrets FILE: the server needs the probes' secrets (or --allow-plain for"
                    + " tests)");
        }
        RedisTarget target = config.redisTarget();
        // the largest of the TTLs: a key whose module set none still goes eventually
        long defaultTtl = Math.max(config.settings().nodeTtlSeconds(), config.settings().linkTtlSeconds());
        this.store = new KeyCoalescer(config.maxKeys(), defaultTtl, config.settings().markHorizonSeconds() * 1000);
        this.redis = new RedisStore(target, metrics, config.maxInflight(), RedisStore.DEFAULT_KEYS_PER_SECOND);
        this.core = new IngestCore(registry, secrets, ReceiverSessions.Config.defaults().withAllowPlain(config
                .allowPlain()), store, redis, metrics, new SourceRateLimiter(config.rateLimit(),
                        2.0 * config
                                .rateLimit(),
                        MAX_SOURCES),
                config.settings());
        this.listener = new UdpListener(core);
        redis.progressListener(listener::progress);
    }

    /** Opens the UDP socket and the metrics endpoint: the part that may need root. */
    public InetSocketAddress bind() throws ConfigException {
        try {
            udp = listener.bind(config.listen(), config.settings().tickMillis());
        } catch (Exception e) {
            throw new ConfigException("cannot listen on udp " + config.listen() + ": " + e.getMessage()
                    + " (another process has it, or a port below 1024 needs root)");
        }
        if (config.metrics() != null) {
            try {
                http = metrics.serve(config.metrics());
            } catch (IOException e) {
                throw new ConfigException("cannot serve metrics on " + config.metrics() + ": " + e.getMessage()
                        + " (choose another --metrics address)");
            }
        }
        return udp;
    }

    /** Connects to Redis: at once and failing with a message under --redis-fail-fast, else in the background. */
    public void start() throws ConfigException {
        redis.tickMillis(config.settings().tickMillis());
        if (config.redisFailFast()) {
            try {
                redis.connectNow();
            } catch (RuntimeException e) {
                throw new ConfigException("cannot reach Redis " + (config.redisCluster() ? "Cluster " : "") + "at "
                        + config.redisUri() + ": " + RedisStore.rootMessage(e)
                        + " (start it, fix --redis, or drop --redis-fail-fast to keep retrying)");
            }
        } else {
            redis.connectInBackground();
        }
    }

    public InetSocketAddress udpAddress() {
        return udp;
    }

    public int metricsPort() {
        return http == null ? -1 : http.getPort();
    }

    public ServerMetrics metrics() {
        return metrics;
    }

    /** The Redis write budget in keys per second (call before {@link #start}). */
    public GlouglouServer redisKeysPerSecond(int n) {
        redis.keysPerSecond(n);
        return this;
    }

    public KeyCoalescer store() {
        return store;
    }

    public RedisStore redis() {
        return redis;
    }

    /** Runs {@code task} on the ingest thread, where the key copy and the sessions live. */
    public <T> T onIngestThread(java.util.concurrent.Callable<T> task) throws Exception {
        return listener.call(task);
    }

    /** The modules' server-side counters, by module name (tests). */
    public Map<String, Map<String, Long>> moduleCounters() {
        return core.moduleCounters();
    }

    public IngestCore core() {
        return core;
    }

    /**
     * The graceful stop (SIGTERM, SIGINT; spec 5.8): stops reading datagrams, runs a last tick, writes everything
     * accepted ignoring the budget and waits for Redis to confirm it (at most {@code timeoutMillis}), sends the last
     * acknowledgements, then closes. Returns true when everything accepted was confirmed.
     */
    public boolean stop(long timeoutMillis) {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        boolean confirmed = false;
        core.stopReceiving();
        listener.pauseReading();
        try {
            listener.call(() -> {
                core.tick(System.currentTimeMillis());
                core.closeCounts();
                return null;
            });
            confirmed = redis.drain(store, deadline);
            listener.call(() -> {
                core.finalAcks();
                return null;
            });
            // the acknowledgements leave through the channel's event loop before it closes
            listener.call(() -> null);
        } catch (Exception e) {
            LOG.warn("graceful stop: {}", e.toString());
        }
        if (confirmed) {
            LOG.info("stopped: everything accepted is confirmed by Redis and acknowledged");
        } else {
            LOG.warn("stopped after {} ms with writes not confirmed by Redis: their probes send them again to the"
                    + " next server", timeoutMillis);
        }
        close();
        return confirmed;
    }

    @Override
    public void close() {
        listener.close();
        if (http != null) {
            http.close();
        }
        redis.close();
    }
}
