package org.glouglou.server.store;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisURI;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.api.sync.RedisCommands;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.glouglou.server.metrics.ServerMetrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes the changed keys of each tick to Redis (issue 4): Lettuce async API, auto-flush off, one flush per batch, so
 * a tick's writes are pipelined. Bounded: at most {@code maxInflight} commands wait for replies; past that a tick
 * writes nothing and its keys stay dirty in the {@link KeyCoalescer} (which is bounded itself). Redis down: commands
 * fail fast, their keys are written again later; on every (re)connection every live key is rewritten (Redis may have
 * restarted empty) and keyspace notifications are enabled again.
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

    private final RedisURI uri;
    private final ServerMetrics metrics;
    private final int maxInflight;
    private final int maxKeysPerTick;
    private final RedisClient client;
    private final ScheduledExecutorService connector = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "redis-connect");
        t.setDaemon(true);
        return t;
    });
    private final AtomicLong inflight = new AtomicLong();
    private final ConcurrentLinkedQueue<String> failed = new ConcurrentLinkedQueue<>();
    private volatile StatefulRedisConnection<String, String> connection;
    private volatile boolean rewriteAll;
    private volatile boolean closed;
    private volatile String notifyProblem;
    private final AtomicInteger connects = new AtomicInteger();

    /**
     * @param maxInflight    commands sent and not yet answered, at most
     * @param maxKeysPerTick keys written per tick, at most (the rest wait for the next tick)
     */
    public RedisStore(RedisURI uri, ServerMetrics metrics, int maxInflight, int maxKeysPerTick) {
        this.uri = uri;
        this.metrics = metrics;
        this.maxInflight = maxInflight;
        this.maxKeysPerTick = maxKeysPerTick;
        this.client = RedisClient.create(uri);
        // fail fast while disconnected instead of queueing without bound; 5 s: a reply slower than that means Redis
        // is in trouble, and the key is rewritten anyway
        client.setOptions(ClientOptions.builder().autoReconnect(true)
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .requestQueueSize(maxInflight * 2).timeoutOptions(TimeoutOptions.enabled(Duration.ofSeconds(5)))
                .build());
        client.addListener(new RedisConnectionStateListener() {
            @Override
            public void onRedisConnected(RedisChannelHandler<?, ?> c, SocketAddress a) {
                // only the writing connection: the short admin connections of enableNotifications come here too
                if (c == connection && !closed) {
                    LOG.info("Redis {} reconnected: rewriting every live key", uri.toString());
                    rewriteAll = true;
                    connector.execute(RedisStore.this::enableNotifications);
                }
            }

            @Override
            public void onRedisDisconnected(RedisChannelHandler<?, ?> c) {
                if (c == connection && !closed) {
                    LOG.warn("Redis {} disconnected: changes are held in memory and written when it is back",
                            uri.toString());
                }
            }
        });
        metrics.gauge("glouglou_server_redis_inflight", "Redis commands sent and not yet answered",
                cb -> cb.call(inflight.get()));
        metrics.gauge("glouglou_server_redis_connected", "1 when the Redis connection is open",
                cb -> cb.call(connected() ? 1 : 0));
    }

    /** Connects once, synchronously: for --redis-fail-fast. */
    public void connectNow() {
        StatefulRedisConnection<String, String> c = client.connect();
        c.setAutoFlushCommands(false);
        connection = c;
        rewriteAll = true;
        enableNotifications();
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
            LOG.info("connected to Redis {}", uri.toString());
        } catch (RuntimeException e) {
            if (attempt == 0 || attempt % 30 == 0) {
                LOG.warn("cannot reach Redis {}: {}; retrying every second, changes are held in memory meanwhile",
                        uri.toString(), rootMessage(e));
            }
            if (!closed) {
                connector.schedule(() -> tryConnect(attempt + 1), 1, TimeUnit.SECONDS);
            }
        }
    }

    static String rootMessage(Throwable t) {
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
    static String mergeFlags(String have, String need) {
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
        StatefulRedisConnection<String, String> c = connection;
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
                metrics.redisLatency.observe((System.nanoTime() - startNanos) / 1e9);
            }
        }
    }

    /** Called on the ingest thread once per tick: writes the dirty keys of {@code c}. */
    public void flush(KeyCoalescer c) {
        String k;
        while ((k = failed.poll()) != null) {
            c.rewrite(k);
        }
        StatefulRedisConnection<String, String> conn = connection;
        if (conn == null || !conn.isOpen()) {
            if (c.dirtyCount() > 0) {
                metrics.redisTicks.labelValues("unavailable").inc();
            }
            return;
        }
        if (rewriteAll) {
            rewriteAll = false;
            c.rewriteAll();
        }
        if (c.dirtyCount() == 0) {
            return;
        }
        long room = maxInflight - inflight.get();
        if (room < 2) {
            metrics.redisTicks.labelValues("deferred").inc();
            return;
        }
        c.now(System.currentTimeMillis());
        List<KeyCoalescer.Write> writes = c.drainDirty((int) Math.min(maxKeysPerTick, room / 2));
        RedisAsyncCommands<String, String> async = conn.async();
        Batch batch = new Batch();
        int sinceFlush = 0;
        for (KeyCoalescer.Write w : writes) {
            send(async.hset(w.key(), w.fields()), w.key(), batch);
            sinceFlush++;
            if (w.ttlSeconds() > 0) {
                send(async.expire(w.key(), w.ttlSeconds()), w.key(), batch);
                sinceFlush++;
            }
            if (sinceFlush >= FLUSH_EVERY) {
                conn.flushCommands();
                sinceFlush = 0;
            }
        }
        conn.flushCommands();
        batch.done();
        metrics.keysRewritten.inc(writes.size());
        metrics.redisTicks.labelValues("written").inc();
    }

    private void send(RedisFuture<?> f, String key, Batch batch) {
        inflight.incrementAndGet();
        batch.remaining.incrementAndGet();
        f.whenComplete((r, ex) -> {
            inflight.decrementAndGet();
            if (ex != null) {
                metrics.redisCommands.labelValues("failed").inc();
                failed.add(key);
            } else {
                metrics.redisCommands.labelValues("ok").inc();
            }
            batch.done();
        });
    }

    @Override
    public void close() {
        closed = true;
        connector.shutdownNow();
        StatefulRedisConnection<String, String> c = connection;
        if (c != null) {
            c.flushCommands();
            c.close();
        }
        client.shutdown(Duration.ofMillis(100), Duration.ofSeconds(2));
    }
}
