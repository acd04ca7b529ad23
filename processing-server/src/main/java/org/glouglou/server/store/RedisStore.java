package org.glouglou.server.store;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisURI;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.cluster.event.ClusterTopologyChangedEvent;
import io.lettuce.core.event.connection.ConnectionActivatedEvent;
import io.lettuce.core.event.connection.ReconnectAttemptEvent;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.glouglou.server.metrics.ServerMetrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes the changed keys of each tick to Redis on its own store thread (docs/architecture.txt 6.2): one EVALSHA of
 * {@link StateScript} per changed key, which applies the key's coalesced merge operations atomically; Lettuce async
 * API, auto-flush off, one flush per 512 commands, so a tick's writes are pipelined. Bounded twice: a write budget in
 * keys per second (keys beyond it stay dirty in the {@link KeyCoalescer} and coalesce further, counted as deferred),
 * and at most {@code maxInflight} commands waiting for replies, and fewer while Redis answers slowly
 * ({@link #nextInflightCap}), so no command waits long enough to time out on a slow Redis. Every reply is handed back
 * to the coalescer, which tracks what is confirmed (the durable watermark). A failed write is simply sent again: every
 * operation is idempotent. Redis down: commands fail fast, their keys are written again later; on every
 * (re)connection the script is loaded again, keyspace notifications are enabled again and every live key is sent
 * again whole (Redis may have restarted empty; what it still has is not counted twice).
 *
 * <p>
 * Redis Cluster ({@link RedisTarget#cluster()}): one {@link StatefulRedisClusterConnection}, same pipelining and
 * bounds; EVALSHA is routed by its first key, the written key, whose companion keys share its slot (hash tag). A node
 * connection that comes back after a reconnect attempt, or a topology change (failover, master added or removed),
 * sends every live key again (the node may have restarted empty, a promoted replica may lack the last writes), loads
 * the script and enables notifications on every node, masters and replicas ({@link ClusterNodes}).
 */
public final class RedisStore implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RedisStore.class);

    /**
     * The notification classes viewers need: K keyspace channel (its message names the operation on that key),
     * h hash commands (every write is an HSET), x expired (elements that go). Not g: the EXPIRE sent with every write
     * would double the notifications for nothing.
     */
    public static final String NOTIFY_FLAGS = "Khx";

    /** 512 commands per flush: large enough to fill a socket buffer, small enough to start replies early. */
    private static final int FLUSH_EVERY = 512;
    /** 512 keys per drain: a few hundred microseconds under the copy's lock, the longest the ingest thread waits. */
    private static final int CHUNK = 512;
    /**
     * 50,000 keys/s: with a live keyspace subscriber pipelined HSET ran at 63-74k/s on this class of machine
     * (PLATFORM.md); every key written is one script call (one notification on the key, one on its marks when it has
     * contributions), so 50k keys/s stays under the low end with room for viewers' SCANs. 5,000 keys per 100 ms tick
     * bounds the notifications.
     */
    public static final int DEFAULT_KEYS_PER_SECOND = 50_000;
    /** 2,048 commands: the in-flight bound never drops below four flushes' worth. */
    static final long MIN_INFLIGHT = 2_048;
    /** 1 s: a batch answered slower than this halves the in-flight bound, well before the 5 s command timeout. */
    static final long SLOW_BATCH_NANOS = 1_000_000_000L;
    /** 250 ms: a batch answered faster than this lets the bound grow by an eighth. */
    static final long FAST_BATCH_NANOS = 250_000_000L;

    /**
     * The next in-flight bound after a batch answered in {@code latencyNanos} (additive-increase, multiplicative
     * decrease, between {@link #MIN_INFLIGHT} and {@code max}). Why: a Redis slowed down (a busy box: redis-benchmark
     * fell to 43k HSET/s here) answers a 200,000-command pipeline after the 5 s timeout; every timed-out command costs
     * an exception on Lettuce's threads (most of the server's CPU and garbage in a profile) and a rewrite of its key,
     * which slows Redis further. With the bound following Redis's pace, keys that do not fit stay dirty and coalesce.
     */
    static long nextInflightCap(long cap, long latencyNanos, long max) {
        if (latencyNanos > SLOW_BATCH_NANOS) {
            return Math.max(Math.min(MIN_INFLIGHT, max), cap / 2);
        }
        if (latencyNanos < FAST_BATCH_NANOS) {
            return Math.min(max, cap + Math.max(1, cap / 8));
        }
        return cap;
    }

    private final String uri;
    private final ServerMetrics metrics;
    private final int maxInflight;
    /** Commands in flight at most now: follows how fast Redis answers ({@link #nextInflightCap}). */
    private volatile long inflightCap;
    private volatile int keysPerSecond;
    /** The store thread: turns dirty keys into Redis commands, off the ingest thread. */
    private final java.util.concurrent.ExecutorService writer = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "redis-writer");
        t.setDaemon(true);
        return t;
    });
    private final java.util.concurrent.atomic.AtomicBoolean flushPending = new java.util.concurrent.atomic.AtomicBoolean();
    private final io.prometheus.metrics.core.datapoints.CounterDataPoint commandsOk;
    private final io.prometheus.metrics.core.datapoints.CounterDataPoint commandsFailed;
    /** Store thread only (the tick is set before the first datagram). */
    private volatile long tickMillis = 100;
    private double tokens;
    private long lastRefillNanos = System.nanoTime();
    /** The standalone client; in a cluster, the admin client for per-node CONFIG (no listener). */
    private final RedisClient client;
    /** The cluster client, or null for a standalone Redis. */
    private final RedisClusterClient clusterClient;
    /** Cluster: remote addresses of node connections that lost their link and are trying to reconnect. */
    private final Set<String> reconnecting = ConcurrentHashMap.newKeySet();
    private volatile reactor.core.Disposable events;
    private final ScheduledExecutorService connector = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "redis-connect");
        t.setDaemon(true);
        return t;
    });
    private final AtomicLong inflight = new AtomicLong();
    /** The state script is in Redis (every node of a cluster): writes wait while it is not. */
    private volatile boolean scriptLoaded;
    private final java.util.concurrent.atomic.AtomicBoolean failureLogged = new java.util.concurrent.atomic.AtomicBoolean();
    private volatile Runnable progressListener;
    private volatile KeyCoalescer lastCoalescer;
    private volatile StatefulConnection<String, String> connection;
    /** The async commands of {@link #connection}: standalone and cluster share this interface. */
    private volatile RedisClusterAsyncCommands<String, String> commands;
    private volatile boolean rewriteAll;
    private volatile boolean closed;
    private volatile String notifyProblem;
    private final AtomicInteger connects = new AtomicInteger();

    /**
     * @param maxInflight    commands sent and not yet answered, at most
     * @param keysPerSecond  keys written per second at most (the write budget; the rest wait, coalescing further)
     */
    public RedisStore(RedisURI uri, ServerMetrics metrics, int maxInflight, int keysPerSecond) {
        this(new RedisTarget(List.of(uri), false), metrics, maxInflight, keysPerSecond);
    }

    /**
     * @param target         a standalone Redis or a cluster's seed nodes
     * @param maxInflight    commands sent and not yet answered, at most
     * @param keysPerSecond  keys written per second at most (the write budget; the rest wait, coalescing further)
     */
    public RedisStore(RedisTarget target, ServerMetrics metrics, int maxInflight, int keysPerSecond) {
        this.uri = target.toString();
        this.metrics = metrics;
        this.maxInflight = maxInflight;
        // 20,000 to start: two ticks of the default budget at two commands a key
        this.inflightCap = Math.min(maxInflight, 20_000);
        this.keysPerSecond = Math.max(1, keysPerSecond);
        this.commandsOk = metrics.redisCommands.labelValues("ok");
        this.commandsFailed = metrics.redisCommands.labelValues("failed");
        if (target.cluster()) {
            this.clusterClient = RedisClusterClient.create(target.seeds());
            clusterClient.setOptions(RedisTarget.clusterOptions(maxInflight * 2));
            this.client = RedisClient.create(clusterClient.getResources());
            this.events = clusterClient.getResources().eventBus().get().subscribe(this::onClusterEvent);
        } else {
            this.clusterClient = null;
            this.client = RedisClient.create(target.first());
        }
        // fail fast while disconnected instead of queueing without bound; 5 s: a reply slower than that means Redis
        // is in trouble, and the key is rewritten anyway
        client.setOptions(ClientOptions.builder().autoReconnect(true)
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .requestQueueSize(maxInflight * 2).timeoutOptions(TimeoutOptions.enabled(Duration.ofSeconds(5)))
                .build());
        // standalone: the writing connection; in a cluster it never matches (the admin client's connections only)
        client.addListener(new RedisConnectionStateListener() {
            @Override
            public void onRedisConnected(RedisChannelHandler<?, ?> c, SocketAddress a) {
                // only the writing connection: the short admin connections of enableNotifications come here too
                if (c == connection && !closed) {
                    LOG.info("Redis {} reconnected: rewriting every live key", uri);
                    connector.execute(() -> {
                        // notifications and the script first: the node may have restarted without either
                        enableNotifications();
                        scriptLoaded = false;
                        loadScript();
                        rewriteAll = true;
                    });
                }
            }

            @Override
            public void onRedisDisconnected(RedisChannelHandler<?, ?> c) {
                if (c == connection && !closed) {
                    LOG.warn("Redis {} disconnected: changes are held in memory and written when it is back",
                            uri);
                }
            }
        });
        metrics.gauge("glouglou_server_redis_inflight", "Redis commands sent and not yet answered",
                cb -> cb.call(inflight.get()));
        metrics.gauge("glouglou_server_redis_inflight_bound",
                "Redis commands in flight at most now (halved when a batch is answered slower than 1 s)",
                cb -> cb.call(inflightCap));
        metrics.gauge("glouglou_server_redis_write_budget", "Keys written to Redis per second at most",
                cb -> cb.call(this.keysPerSecond));
        metrics.gauge("glouglou_server_redis_connected", "1 when the Redis connection is open",
                cb -> cb.call(connected() ? 1 : 0));
    }

    /**
     * Cluster only (client event bus): the topology-refresh connections come and go all the time, so a reconnection
     * is a node connection that made a reconnect attempt (its link was lost) and is active again. Also reacts to a
     * topology change.
     */
    private void onClusterEvent(io.lettuce.core.event.Event e) {
        if (closed || connection == null) {
            return;
        }
        if (e instanceof ReconnectAttemptEvent r) {
            String node = hostPort(r.remoteAddress());
            if (reconnecting.add(node)) {
                LOG.warn("Redis Cluster node {} disconnected: its keys are held in memory and written when it is"
                        + " back", node);
            }
        } else if (e instanceof ConnectionActivatedEvent a && reconnecting.remove(hostPort(a.remoteAddress()))) {
            LOG.info("Redis Cluster node {} reconnected: rewriting every live key", hostPort(a.remoteAddress()));
            // notifications first: a node that restarted lost its CONFIG, and viewers must see the rewrite
            connector.execute(() -> {
                enableNotifications();
                scriptLoaded = false;
                loadScript();
                rewriteAll = true;
            });
        } else if (e instanceof ClusterTopologyChangedEvent t) {
            LOG.info("Redis Cluster topology changed ({} -> {} nodes): rewriting every live key, enabling"
                    + " notifications on every node", t.before().size(), t.after().size());
            connector.execute(() -> {
                if (connection instanceof StatefulRedisClusterConnection<String, String> cc) {
                    openMasterConnections(cc);
                }
                enableNotifications();
                scriptLoaded = false;
                loadScript();
                rewriteAll = true;
            });
        }
    }

    /** HOST:PORT of a node, the same whether Lettuce reports the address resolved or not. */
    static String hostPort(SocketAddress a) {
        if (a instanceof java.net.InetSocketAddress i) {
            return i.getHostString() + ":" + i.getPort();
        }
        return String.valueOf(a);
    }

    /**
     * Opens the routed connection to every master now (by host and port: the connection slot routing uses), so the
     * first writes of a master are not rejected while its connection is still being opened (REJECT_COMMANDS); such a
     * write would only be retried a tick later.
     */
    private void openMasterConnections(StatefulRedisClusterConnection<String, String> cc) {
        for (io.lettuce.core.cluster.models.partitions.RedisClusterNode m : ClusterNodes.masters(cc.getPartitions())) {
            try {
                cc.getConnection(m.getUri().getHost(), m.getUri().getPort());
            } catch (RuntimeException ex) {
                LOG.warn("Redis Cluster master {}:{} unreachable: {}; its keys are retried", m.getUri().getHost(), m
                        .getUri().getPort(), rootMessage(ex));
            }
        }
    }

    /** Connects once, synchronously: for --redis-fail-fast. */
    public void connectNow() {
        StatefulConnection<String, String> c;
        if (clusterClient != null) {
            StatefulRedisClusterConnection<String, String> cc = clusterClient.connect();
            cc.setAutoFlushCommands(false); // applies to every node connection, now and later
            commands = cc.async();
            c = cc;
            openMasterConnections(cc);
        } else {
            StatefulRedisConnection<String, String> sc = client.connect();
            sc.setAutoFlushCommands(false);
            commands = sc.async();
            c = sc;
        }
        connection = c;
        rewriteAll = true;
        enableNotifications();
        loadScript();
    }

    /** Connects in the background, retrying until it works; ingest goes on meanwhile. */
    public void connectInBackground() {
        connector.execute(() -> tryConnect(0));
    }

    private void tryConnect(int attempt) {
        if (closed || connection != null) {
            return;
        }
        try {
            connectNow();
            LOG.info("connected to Redis {}", uri);
        } catch (RuntimeException e) {
            if (attempt == 0 || attempt % 30 == 0) {
                LOG.warn("cannot reach Redis {}: {}; retrying every second, changes are held in memory meanwhile",
                        uri, rootMessage(e));
            }
            if (!closed) {
                connector.schedule(() -> tryConnect(attempt + 1), 1, TimeUnit.SECONDS);
            }
        }
    }

    public static String rootMessage(Throwable t) {
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }

    /**
     * Adds {@link #NOTIFY_FLAGS} to what the server has (never removes flags another user relies on). On a managed
     * Redis that refuses CONFIG, logs what the operator must set and goes on.
     */
    void enableNotifications() {
        if (clusterClient != null) {
            try {
                String msg = ClusterNodes.enableNotifications(client, clusterClient.getPartitions(), NOTIFY_FLAGS,
                        LOG);
                if (msg != null && !msg.equals(notifyProblem)) {
                    LOG.warn(msg);
                }
                notifyProblem = msg;
            } catch (RuntimeException e) {
                LOG.warn("Redis Cluster: cannot enable notifications: {}", rootMessage(e));
            }
            return;
        }
        try (StatefulRedisConnection<String, String> admin = client.connect()) {
            RedisCommands<String, String> sync = admin.sync();
            Map<String, String> now = sync.configGet("notify-keyspace-events");
            String have = now.getOrDefault("notify-keyspace-events", "");
            String want = mergeFlags(have, NOTIFY_FLAGS);
            if (!want.equals(have)) {
                sync.configSet("notify-keyspace-events", want);
                LOG.info("Redis notify-keyspace-events set to '{}' (was '{}')", want, have);
            }
            notifyProblem = null;
        } catch (RuntimeException e) {
            String msg = "Redis refused CONFIG for notify-keyspace-events (" + rootMessage(e)
                    + "): set notify-keyspace-events to include '" + NOTIFY_FLAGS
                    + "' in the Redis configuration (or the managed service's parameters); viewers get no live"
                    + " updates until then";
            if (!msg.equals(notifyProblem)) {
                LOG.warn(msg);
            }
            notifyProblem = msg;
        }
    }

    /** The flags of {@code have} plus those of {@code need} that it lacks ('A' covers every class but K, E, m, n). */
    public static String mergeFlags(String have, String need) {
        StringBuilder b = new StringBuilder(have);
        for (char f : need.toCharArray()) {
            boolean covered = have.indexOf(f) >= 0 || have.indexOf('A') >= 0 && "g$lshzxetd".indexOf(f) >= 0;
            if (!covered) {
                b.append(f);
            }
        }
        return b.toString();
    }

    public boolean connected() {
        StatefulConnection<String, String> c = connection;
        return c != null && c.isOpen();
    }

    /** The notification problem to tell the operator, or null. */
    public String notifyProblem() {
        return notifyProblem;
    }

    public long inflight() {
        return inflight.get();
    }

    /** One batch of commands: its latency is observed when the last reply arrives. */
    private final class Batch {
        final long startNanos = System.nanoTime();
        final AtomicInteger remaining = new AtomicInteger(1); // the sender's own hold, released after sending

        void done() {
            if (remaining.decrementAndGet() == 0) {
                long latency = System.nanoTime() - startNanos;
                metrics.redisLatency.observe(latency / 1e9);
                synchronized (RedisStore.this) {
                    inflightCap = nextInflightCap(inflightCap, latency, maxInflight);
                }
                progress();
            }
        }
    }

    /**
     * Asks the store thread to write the dirty keys of {@code c} now, within the write budget; called by the ingest
     * thread at the end of each tick, after the modules' tick and the probe status, so a write never shows a tick's
     * traffic without its status. Never blocks: a request while the previous write still runs is merged into it.
     */
    public void requestFlush(KeyCoalescer c) {
        lastCoalescer = c;
        if (flushPending.compareAndSet(false, true)) {
            try {
                writer.execute(() -> {
                    flushPending.set(false);
                    try {
                        flush(c);
                    } catch (RuntimeException e) {
                        LOG.warn("store tick failed: {}", e.toString(), e);
                    }
                });
            } catch (java.util.concurrent.RejectedExecutionException e) {
                flushPending.set(false); // closing
            }
        }
    }

    /** The tick, for the token bucket's size (two ticks' worth of budget is saved up at most). */
    public void tickMillis(long tickMillis) {
        this.tickMillis = tickMillis;
    }

    /** Keys per second written at most from now on (at least 1). */
    public void keysPerSecond(int n) {
        this.keysPerSecond = Math.max(1, n);
    }

    public int keysPerSecond() {
        return keysPerSecond;
    }

    /**
     * One store tick (the store thread; tests call it directly): applies the replies received so far, sends the reads
     * modules asked for, then writes dirty keys of {@code c}, new and closing elements first, then the oldest-dirtied,
     * as many as the budget and the in-flight bound allow; the rest stay dirty, coalescing further, and are counted
     * as deferred.
     */
    public void flush(KeyCoalescer c) {
        write(c, false);
    }

    /**
     * Writes as {@link #flush} does; with {@code unbounded}, ignoring the budget and the in-flight bound (a graceful
     * stop writes everything it accepted). Returns the keys written.
     */
    long write(KeyCoalescer c, boolean unbounded) {
        c.confirm();
        long nowNanos = System.nanoTime();
        // token bucket: the budget accrues with time, at most two ticks' worth is saved up
        double cap = Math.max(1.0, 2.0 * keysPerSecond * tickMillis / 1000.0);
        tokens = Math.min(cap, tokens + (nowNanos - lastRefillNanos) * keysPerSecond / 1e9);
        lastRefillNanos = nowNanos;
        StatefulConnection<String, String> conn = connection;
        RedisClusterAsyncCommands<String, String> async = commands;
        boolean up = conn != null && conn.isOpen();
        List<KeyCoalescer.Read> reads = c.takeReads();
        for (KeyCoalescer.Read r : reads) {
            if (!up) {
                c.answered(r, null);
                continue;
            }
            async.hgetall(r.key()).whenComplete((m, ex) -> {
                c.answered(r, ex == null ? m : null);
                progress();
            });
        }
        if (!up) {
            if (c.dirtyCount() > 0) {
                metrics.redisTicks.labelValues("unavailable").inc();
            }
            if (!reads.isEmpty()) {
                progress();
            }
            return 0;
        }
        if (!reads.isEmpty()) {
            conn.flushCommands();
        }
        if (rewriteAll) {
            rewriteAll = false;
            c.rewriteAll();
        }
        if (c.dirtyCount() == 0 || !scriptLoaded) {
            return 0;
        }
        long room = inflightCap - inflight.get();
        long allowance = unbounded ? Long.MAX_VALUE : Math.min((long) tokens, room);
        if (allowance < 1) {
            metrics.redisTicks.labelValues("deferred").inc();
            metrics.keysDeferred.inc(c.dirtyCount());
            return 0;
        }
        long nowMillis = System.currentTimeMillis();
        Batch batch = new Batch();
        long written = 0;
        long full = 0;
        int sinceFlush = 0;
        long horizon = c.horizonMillis();
        while (written < allowance) {
            // chunks: the ingest thread waits for the copy's lock at most one chunk's drain
            List<KeyCoalescer.Write> writes = c.drainDirty((int) Math.min(CHUNK, allowance - written), nowMillis);
            if (writes.isEmpty()) {
                break;
            }
            for (KeyCoalescer.Write w : writes) {
                String[] keys = w.keys();
                for (int i = 0; i < w.calls(); i++) {
                    RedisFuture<Long> f;
                    try {
                        f = async.evalsha(StateScript.SHA, ScriptOutputType.INTEGER, keys, w.args(i, horizon));
                    } catch (RuntimeException e) {
                        // rejected before it left (disconnected meanwhile): sent again later
                        commandsFailed.inc();
                        c.done(w, false);
                        continue;
                    }
                    send(f, c, w, batch);
                    sinceFlush++;
                }
                if (w.full()) {
                    full++;
                }
                if (sinceFlush >= FLUSH_EVERY) {
                    conn.flushCommands();
                    sinceFlush = 0;
                }
            }
            written += writes.size();
        }
        conn.flushCommands();
        batch.done();
        if (!unbounded) {
            tokens -= written;
        }
        metrics.keysRewritten.inc(written);
        metrics.keysWrittenWhole.inc(full);
        int left = c.dirtyCount();
        if (left > 0) {
            metrics.keysDeferred.inc(left);
            metrics.redisTicks.labelValues("deferred").inc();
        } else {
            metrics.redisTicks.labelValues("written").inc();
        }
        return written;
    }

    private void send(RedisFuture<Long> f, KeyCoalescer c, KeyCoalescer.Write w, Batch batch) {
        inflight.incrementAndGet();
        batch.remaining.incrementAndGet();
        f.whenComplete((r, ex) -> {
            inflight.decrementAndGet();
            if (ex != null) {
                commandsFailed.inc();
                if (ex instanceof RedisNoScriptException || ex.getCause() instanceof RedisNoScriptException) {
                    scriptMissing();
                } else if (failureLogged.compareAndSet(false, true)) {
                    LOG.warn("Redis write of {} failed: {} (sent again; later failures are counted, not logged)",
                            w.key(), rootMessage(ex));
                }
            } else {
                commandsOk.inc();
            }
            c.done(w, ex == null);
            batch.done();
        });
    }

    /** A node answered NOSCRIPT (restarted, or a new master): load the script again, then write on. */
    private void scriptMissing() {
        if (scriptLoaded) {
            scriptLoaded = false;
            LOG.info("Redis {} does not have the state script (restarted or failed over): loading it again", uri);
            connector.execute(this::loadScript);
        }
    }

    /**
     * SCRIPT LOAD on the Redis, or on every node of the cluster (masters and replicas: a promoted replica must have
     * it), through short admin connections. Writes wait until it is done; retried every second until it works.
     */
    void loadScript() {
        if (closed) {
            return;
        }
        try {
            if (clusterClient != null) {
                String problem = ClusterNodes.loadScript(client, clusterClient.getPartitions(), StateScript.TEXT);
                if (problem != null) {
                    throw new IllegalStateException(problem);
                }
            } else {
                try (StatefulRedisConnection<String, String> admin = client.connect()) {
                    String sha = admin.sync().scriptLoad(StateScript.TEXT);
                    if (!StateScript.SHA.equals(sha)) {
                        throw new IllegalStateException("Redis gave SHA " + sha + " for the state script, expected "
                                + StateScript.SHA);
                    }
                }
            }
            scriptLoaded = true;
            requestProgress();
        } catch (RuntimeException e) {
            LOG.warn("cannot load the state script into Redis {}: {}; retrying in a second", uri, rootMessage(e));
            if (!closed) {
                connector.schedule(this::loadScript, 1, TimeUnit.SECONDS);
            }
        }
    }

    /** Wakes the store thread for a tick's write at once (the script is back). */
    private void requestProgress() {
        KeyCoalescer c = lastCoalescer;
        if (c != null) {
            requestFlush(c);
        }
    }

    /** Tells the ingest side that replies arrived (durable acknowledgements may be due, reads answered). */
    private void progress() {
        Runnable p = progressListener;
        if (p != null) {
            p.run();
        }
    }

    /** Called (on a Redis thread) whenever a batch of writes or a read was answered. */
    public void progressListener(Runnable r) {
        this.progressListener = r;
    }

    /**
     * Writes everything held dirty, ignoring the budget, and waits until every write is answered and nothing is
     * dirty any more, or until {@code deadlineNanos}. On the store thread. Returns true when all was confirmed.
     */
    public boolean drain(KeyCoalescer c, long deadlineNanos) throws InterruptedException {
        java.util.concurrent.Future<Boolean> f = writer.submit(() -> {
            while (System.nanoTime() < deadlineNanos) {
                write(c, true);
                c.confirm();
                boolean settled;
                c.lock().lock();
                try {
                    settled = c.dirtyCount() == 0 && c.unconfirmedCount() == 0 && inflight.get() == 0;
                } finally {
                    c.lock().unlock();
                }
                if (settled) {
                    return true;
                }
                Thread.sleep(10);
            }
            return false;
        });
        try {
            return f.get(Math.max(0, deadlineNanos - System.nanoTime()) + 1_000_000_000L, TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            return false;
        }
    }

    @Override
    public void close() {
        closed = true;
        connector.shutdownNow();
        writer.shutdownNow();
        try {
            writer.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        StatefulConnection<String, String> c = connection;
        if (c != null) {
            c.flushCommands();
            c.close();
        }
        reactor.core.Disposable d = events;
        if (d != null) {
            d.dispose();
        }
        client.shutdown(Duration.ofMillis(100), Duration.ofSeconds(2));
        if (clusterClient != null) {
            clusterClient.shutdown(Duration.ofMillis(100), Duration.ofSeconds(2));
        }
    }
}
