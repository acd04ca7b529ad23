package org.glouglou.server.viz;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.LettuceFutures;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.cluster.event.ClusterTopologyChangedEvent;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import io.lettuce.core.cluster.pubsub.StatefulRedisClusterPubSubConnection;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.glouglou.server.store.ClusterNodes;
import org.glouglou.server.store.RedisTarget;
import org.glouglou.server.store.RedisStore;
import org.glouglou.server.viz.format.EncodedOps;
import org.glouglou.spi.GlouglouModule;
import org.glouglou.spi.ModuleRegistry;
import org.glouglou.spi.graph.GraphElement;
import org.glouglou.spi.graph.GraphSide;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows the live graph in Redis for every viewer: pattern-subscribes to {@code __keyspace@DB__:PATTERN} for each
 * key family of the graph sides FIRST, then reads every key family of every module's {@link GraphSide} with SCAN MATCH into the shared
 * {@link GraphModel}; afterwards each notified key is read again with HGETALL (once per tick, whatever the number of
 * notifications or viewers) and each {@link ViewerSession} gets the difference for its own configuration, ending with
 * a step marker. Notifications are fire-and-forget, so when the subscription breaks (Redis restart, failover) the hub
 * tells every viewer, and once it is back re-subscribes, reads a fresh snapshot and resyncs every viewer. Everything
 * but the notification callback runs on one "viewers" thread.
 *
 * <p>
 * Redis Cluster: a keyspace notification is published only on the node that owns the key, so the hub pattern-subscribes
 * on EVERY master, each through its own node connection of one {@link StatefulRedisClusterPubSubConnection} with node
 * message propagation on (all messages reach one listener); the snapshot SCANs every master; HGETALL goes through a
 * {@link StatefulRedisClusterConnection}, routed by key slot. A topology change (failover, master added or removed),
 * or a master's subscription that breaks and comes back, re-subscribes on the current masters and resyncs every viewer
 * from a fresh snapshot.
 */
public final class ViewerHub implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ViewerHub.class);
    /** 1000 keys per SCAN call and per pipelined HGETALL batch: one round trip moves about 100 KB. */
    static final int BATCH = 1000;
    /**
     * 2 s after a reconnection the snapshot is read once more: the ingest server may have rewritten its keys before
     * notifications were enabled again on a restarted Redis, and those writes made no notification.
     */
    static final long SETTLE_MILLIS = 2000;
    /** Keys waiting to be read at most; past that the hub reads a fresh snapshot instead (never unbounded). */
    static final int MAX_PENDING_KEYS = 1_000_000;
    /**
     * A tick starts this long after the first change notification that follows the previous tick: the ingest side's
     * write of one tick reaches Redis in a burst of a few milliseconds, and its notifications with it.
     */
    static final long BURST_MILLIS = 15;

    record Side(String module, GraphSide side) {
    }

    private final String uri;
    private final List<Side> sides = new ArrayList<>();
    private final long tickMillis;
    /** The standalone client; in a cluster, the admin client for per-node CONFIG (no listener). */
    private final RedisClient client;
    /** The cluster client, or null for a standalone Redis. */
    private final RedisClusterClient clusterClient;
    /** Cluster: the per-master pub/sub connections that carry the subscription (their breaks and returns matter). */
    private final Set<Object> nodeSubscriptions = ConcurrentHashMap.newKeySet();
    private volatile reactor.core.Disposable events;
    private volatile String notifyProblem;
    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "viewers");
        t.setDaemon(true);
        return t;
    });
    private final Set<String> pendingKeys = ConcurrentHashMap.newKeySet();
    private final GraphModel model = new GraphModel();
    private final List<ViewerSession> sessions = new CopyOnWriteArrayList<>();
    /** One projection per distinct configuration (format aside), shared by its viewers; viewer thread only. */
    private final Map<ViewerConfig, SharedProjection> views = new HashMap<>();
    /** Per format, the operations encoded this tick for every hosts-level view; cleared after each tick. */
    private final Map<String, EncodedOps> encodedOps = new HashMap<>(2);
    private final AtomicLong encodingsShared = new AtomicLong();
    /** Hosts-level views at the start of this tick's fan-out. */
    private int hostsViews;
    private final String channelPrefix;
    /**
     * The keyspace channels of the graph sides' key families only (e.g. gg:node:*, gg:link:*), not gg:*: the hidden
     * keys written with every change (marks, closed contributors, connections) would multiply the notifications this
     * connection must take for nothing.
     */
    private final String[] patterns;
    private volatile StatefulRedisPubSubConnection<String, String> pubsub;
    private volatile StatefulConnection<String, String> reads;
    /** The async commands of {@link #reads}: HGETALL routed by slot in a cluster. */
    private volatile RedisClusterAsyncCommands<String, String> readCommands;
    private volatile boolean resyncNeeded;
    /** Why the next snapshot resyncs every viewer: what the viewers are told. */
    private volatile String resyncReason = "Redis subscription was re-established";
    private volatile boolean redisUp;
    private boolean everSynced;
    private volatile boolean closed;
    private long settleAt;
    private final AtomicLong notifications = new AtomicLong();
    private final AtomicLong keysRead = new AtomicLong();
    private volatile long lastTickNanos;
    /** Guards {@link #nextTick}: rescheduled from the notification thread and the viewer thread. */
    private final Object ticking = new Object();
    private ScheduledFuture<?> nextTick;
    private volatile long lastTickStart = System.nanoTime();
    /** When the tick a burst of notifications asked for is due (nanoTime); guarded by {@link #ticking}. */
    private long burstDue;
    private final java.util.concurrent.atomic.AtomicBoolean burstSeen = new java.util.concurrent.atomic.AtomicBoolean();

    public ViewerHub(RedisURI uri, ModuleRegistry registry, long tickMillis) {
        this(new RedisTarget(List.of(uri), false), registry, tickMillis);
    }

    /** Follows the graph in {@code target}: a standalone Redis or a Redis Cluster. */
    public ViewerHub(RedisTarget target, ModuleRegistry registry, long tickMillis) {
        this.uri = target.toString();
        this.tickMillis = tickMillis;
        for (GlouglouModule m : registry.modules()) {
            GraphSide g = m.graphSide();
            if (g != null) {
                sides.add(new Side(m.name(), g));
            }
        }
        int db = target.database();
        this.channelPrefix = "__keyspace@" + db + "__:";
        String[] p = sides.stream().flatMap(x -> x.side().keyPatterns().stream()).map(x -> channelPrefix + x)
                .distinct().toArray(String[]::new);
        this.patterns = p.length > 0 ? p : new String[]{channelPrefix + "gg:*"}; // no graph side: nothing shown anyway
        if (target.cluster()) {
            this.clusterClient = RedisClusterClient.create(target.seeds());
            clusterClient.setOptions(RedisTarget.clusterOptions(Integer.MAX_VALUE));
            this.client = RedisClient.create(clusterClient.getResources());
            this.events = clusterClient.getResources().eventBus().get().subscribe(e -> {
                if (e instanceof ClusterTopologyChangedEvent t && !closed && pubsub != null) {
                    LOG.info("viewers: Redis Cluster topology changed ({} -> {} nodes): re-subscribing on every"
                            + " master and resyncing every viewer", t.before().size(), t.after().size());
                    needResync("the Redis Cluster topology changed");
                }
            });
        } else {
            this.clusterClient = null;
            this.client = RedisClient.create(target.first());
        }
        client.setOptions(ClientOptions.builder().autoReconnect(true)
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .timeoutOptions(TimeoutOptions.enabled(Duration.ofSeconds(5))).build());
        RedisConnectionStateListener l = new RedisConnectionStateListener() {
            @Override
            public void onRedisConnected(RedisChannelHandler<?, ?> c, SocketAddress a) {
                if (subscription(c) && !closed) {
                    LOG.info("viewer subscription to Redis {} is back: resyncing every viewer", where(a));
                    needResync("Redis subscription was re-established");
                }
            }

            @Override
            public void onRedisDisconnected(RedisChannelHandler<?, ?> c) {
                if (subscription(c) && !closed && redisUp) {
                    redisUp = false;
                    LOG.warn("viewer subscription to Redis {} broke: viewers are told, and resynced when it is back",
                            uri);
                    thread.execute(() -> broadcast("redis_unavailable", "the server lost Redis: what you see is"
                            + " not updated until a resync"));
                }
            }
        };
        if (clusterClient != null) {
            clusterClient.addListener(l);
        } else {
            client.addListener(l);
        }
    }

    /** The connection carries (part of) the subscription: the pub/sub connection, or a master's in a cluster. */
    private boolean subscription(RedisChannelHandler<?, ?> c) {
        return c == pubsub || nodeSubscriptions.contains(c);
    }

    private String where(SocketAddress a) {
        return clusterClient == null ? uri : "Cluster node " + a;
    }

    /** Subscribes and reads the first snapshot in the background (retrying every second), then ticks. */
    public void start() {
        thread.execute(this::connect);
        synchronized (ticking) {
            schedule(tickMillis * 1_000_000L);
        }
    }

    private void connect() {
        if (closed) {
            return;
        }
        try {
            StatefulRedisPubSubConnection<String, String> p;
            if (clusterClient != null) {
                StatefulRedisClusterConnection<String, String> r = clusterClient.connect();
                r.setAutoFlushCommands(false); // every node connection, now and later
                readCommands = r.async();
                reads = r;
                StatefulRedisClusterPubSubConnection<String, String> cp = clusterClient.connectPubSub();
                // messages of the per-master connections reach the listeners of the cluster pub/sub connection
                cp.setNodeMessagePropagation(true);
                p = cp;
            } else {
                StatefulRedisConnection<String, String> r = client.connect();
                r.setAutoFlushCommands(false);
                readCommands = r.async();
                reads = r;
                p = client.connectPubSub();
            }
            p.addListener(new RedisPubSubAdapter<>() {
                @Override
                public void message(String pat, String channel, String message) {
                    onNotification(channel);
                }
            });
            pubsub = p;
            resyncNeeded = true;
        } catch (RuntimeException e) {
            LOG.warn("viewers: cannot reach Redis {}: {}; retrying every second", uri, e.getMessage());
            StatefulConnection<String, String> r = reads;
            if (r != null && pubsub == null) {
                r.close();
                reads = null;
            }
            thread.schedule(this::connect, 1, TimeUnit.SECONDS);
        }
    }

    private void onNotification(String channel) {
        notifications.incrementAndGet();
        if (!burstSeen.get() && burstSeen.compareAndSet(false, true)) {
            burst();
        }
        if (!channel.startsWith(channelPrefix)) {
            return;
        }
        String key = channel.substring(channelPrefix.length());
        for (Side s : sides) {
            if (s.side().owns(key)) {
                if (pendingKeys.size() < MAX_PENDING_KEYS) {
                    pendingKeys.add(key);
                } else {
                    if (!resyncNeeded) {
                        count("backlog_resync");
                    }
                    // fell far behind: a fresh snapshot is cheaper than the backlog
                    needResync("more than " + MAX_PENDING_KEYS + " changed keys waited to be read");
                }
                return;
            }
        }
    }

    /** A fresh snapshot of Redis at the next tick, and a resync of every viewer, told {@code reason}. */
    private void needResync(String reason) {
        resyncReason = reason;
        resyncNeeded = true;
    }

    /** Adds a viewer (any thread); it gets its snapshot at the next tick. */
    void add(ViewerSession s) {
        sessions.add(s);
    }

    void remove(ViewerSession s) {
        sessions.remove(s);
    }

    /** The shared projection for {@code c}, made (and filled from the model) when no viewer has it yet. */
    SharedProjection join(ViewerSession s, ViewerConfig c) {
        SharedProjection v = views.computeIfAbsent(SharedProjection.key(c), k -> new SharedProjection(model, k,
                this::encodedOps));
        if (!v.sessions.contains(s)) {
            v.sessions.add(s);
        }
        return v;
    }

    /** {@code s} no longer uses {@code v}; a view without viewers is dropped. */
    void leave(ViewerSession s, SharedProjection v) {
        v.sessions.remove(s);
        if (v.sessions.isEmpty() && views.remove(v.key) == v) {
            v.endTick(); // it may have been encoded this tick
        }
    }

    /**
     * This tick's shared encodings in {@code format} (viewer thread); null while fewer than two hosts-level views
     * exist, as nothing could be shared and keeping each encoding would be a copy for nothing.
     */
    private EncodedOps encodedOps(String format) {
        return hostsViews < 2 ? null : encodedOps.computeIfAbsent(format, f -> new EncodedOps());
    }

    /** Distinct projections the viewers share. */
    public int projections() {
        return views.size();
    }

    /** Runs {@code r} on the viewer thread. */
    void execute(Runnable r) {
        if (!closed) {
            thread.execute(r);
        }
    }

    GraphModel model() {
        return model;
    }

    boolean redisUp() {
        return redisUp;
    }

    public int viewers() {
        return sessions.size();
    }

    private volatile org.glouglou.server.metrics.ServerMetrics metrics;

    /** Exposes the viewer side on the server's metrics endpoint (call before {@link #start}). */
    public void metrics(org.glouglou.server.metrics.ServerMetrics m) {
        this.metrics = m;
        m.gauge("glouglou_server_viewers", "Viewers connected and configured", cb -> cb.call(sessions.size()));
        m.gauge("glouglou_server_viewer_projections", "Distinct viewer configurations, each projected once a tick",
                cb -> cb.call(views.size()));
        m.gauge("glouglou_server_viewer_pending_keys", "Keys notified by Redis and not read yet (a backlog over "
                + MAX_PENDING_KEYS + " is dropped for a fresh snapshot)", cb -> cb.call(pendingKeys.size()));
        m.gauge("glouglou_server_viewer_graph_elements", "Nodes and edges of the graph the viewer side holds",
                cb -> {
                    cb.call(model.nodes.size(), "node");
                    cb.call(model.edges.size(), "edge");
                }, "kind");
        m.gauge("glouglou_server_viewer_notifications", "Keyspace notifications received since start (a counter)",
                cb -> cb.call(notifications.get()));
        m.gauge("glouglou_server_viewer_keys_read", "Keys read from Redis since start (a counter)",
                cb -> cb.call(keysRead.get()));
        m.gauge("glouglou_server_viewer_encodings_shared", "Operations whose encoding was copied from another view's"
                + " this tick instead of encoded again, since start (a counter)", cb -> cb.call(encodingsShared.get()));
        m.gauge("glouglou_server_viewer_redis_subscribed", "1 while the keyspace subscription is up",
                cb -> cb.call(redisUp ? 1 : 0));
    }

    /** Counts a viewer-side event on the metrics endpoint (any thread). */
    void count(String event) {
        org.glouglou.server.metrics.ServerMetrics m = metrics;
        if (m != null) {
            m.viewerEvents.labelValues(event).inc();
        }
    }

    void sent(long bytes) {
        org.glouglou.server.metrics.ServerMetrics m = metrics;
        if (m != null) {
            m.viewerBytes.inc(bytes);
        }
    }

    public long notifications() {
        return notifications.get();
    }

    /** Operations whose encoding was copied from another view's this tick (a counter). */
    public long encodingsShared() {
        return encodingsShared.get();
    }

    public long keysRead() {
        return keysRead.get();
    }

    public int modelNodes() {
        return model.nodes.size();
    }

    public int modelEdges() {
        return model.edges.size();
    }

    /** Nanoseconds the last tick took on the viewer thread. */
    public long lastTickNanos() {
        return lastTickNanos;
    }

    /**
     * A tick: runs {@link #tick}, then schedules the next one a tick later (a step, or a heartbeat, at least every
     * tick), unless a change notification pulls it in (see {@link #BURST_MILLIS}).
     */
    private void tickSafely() {
        synchronized (ticking) {
            nextTick = null; // this one is running: a burst now only sets burstDue, for the scheduling below
            burstSeen.set(false); // from now on, a notification may pull the next tick in
        }
        lastTickStart = System.nanoTime();
        try {
            tick();
        } catch (RuntimeException e) {
            LOG.warn("viewer tick failed: {}", e.toString(), e);
        } finally {
            synchronized (ticking) {
                long due = burstSeen.get() ? burstDue : lastTickStart + tickMillis * 1_000_000L;
                schedule(due - System.nanoTime());
            }
        }
    }

    /**
     * The first change notification since the last tick started: the next tick is brought forward to
     * {@link #BURST_MILLIS} from now (the ingest side writes a tick's changes in one burst, so the rest of it arrives
     * meanwhile), but not sooner than 3/4 of a tick after the previous one. The hub's ticks so follow the ingest's
     * writes instead of waiting up to a whole tick after them, and their rate stays about one a tick.
     */
    private void burst() {
        long due = Math.max(System.nanoTime() + BURST_MILLIS * 1_000_000L, lastTickStart + tickMillis * 750_000L);
        synchronized (ticking) {
            burstDue = due;
            ScheduledFuture<?> f = nextTick;
            long now = System.nanoTime();
            // a task that runs (or is about to) has a delay <= 0 and is never cancelled here: one chain of ticks
            if (!closed && f != null && f.getDelay(TimeUnit.NANOSECONDS) > due - now && f.cancel(false)) {
                schedule(due - now);
            }
        }
    }

    /** The next tick in {@code nanos}; nothing once the hub is closed. Holds {@link #ticking}. */
    private void schedule(long nanos) {
        if (closed) {
            return;
        }
        try {
            nextTick = thread.schedule(this::tickSafely, Math.max(0, nanos), TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closing meanwhile: no more ticks
        }
    }

    private void tick() {
        long t0 = System.nanoTime();
        String resyncViewers = null;
        if (resyncNeeded && pubsub != null) {
            String reason = resyncReason;
            // cleared before reading, not after: a trigger while the snapshot is read (the notified keys overflowing
            // meanwhile, a subscription breaking again) asks for another snapshot instead of being forgotten
            resyncNeeded = false;
            if (!snapshot()) {
                resyncNeeded = true;
            } else {
                resyncViewers = everSynced ? reason : null; // the first snapshot is no resync
                everSynced = true;
                redisUp = true;
                settleAt = System.currentTimeMillis() + SETTLE_MILLIS;
            }
        } else if (settleAt != 0 && System.currentTimeMillis() >= settleAt) {
            settleAt = 0;
            snapshot();
        }
        if (redisUp && !pendingKeys.isEmpty()) {
            readPending();
        }
        if (resyncViewers != null) {
            count("redis_resync");
        }
        fanOut(resyncViewers, System.currentTimeMillis());
        lastTickNanos = System.nanoTime() - t0;
        org.glouglou.server.metrics.ServerMetrics m = metrics;
        if (m != null) {
            m.viewerTick.observe(lastTickNanos / 1e9);
        }
    }

    /**
     * This tick's model changes to every viewer: each view projected and diffed once, then each session. When
     * {@code resync} is not null, every viewer's graph is replaced by a fresh snapshot, and it is told why.
     */
    void fanOut(String resync, long now) {
        GraphModel.Dirty dirty = model.drainDirty();
        hostsViews = 0;
        for (ViewerConfig c : views.keySet()) {
            hostsViews += c.level() == ViewerConfig.Level.HOSTS ? 1 : 0;
        }
        // each distinct configuration is projected and diffed once, whatever the number of its viewers
        for (SharedProjection v : views.values()) {
            v.tick(dirty);
        }
        try {
            for (ViewerSession s : sessions) {
                try {
                    if (resync != null) {
                        s.resync("resync", resync + ": fresh snapshot follows");
                    }
                    s.tick(now);
                } catch (RuntimeException e) {
                    LOG.warn("viewer {}: {}", s, e.toString(), e);
                    s.close("internal error: " + e.getMessage());
                }
            }
        } finally {
            for (SharedProjection v : List.copyOf(views.values())) {
                v.endTick();
            }
            for (EncodedOps e : encodedOps.values()) {
                encodingsShared.addAndGet(e.hits());
                e.clear();
            }
        }
    }

    /** Subscribes, then reads every key family into the model; false when Redis did not answer. */
    private boolean snapshot() {
        StatefulRedisPubSubConnection<String, String> p = pubsub;
        StatefulConnection<String, String> r = reads;
        try {
            // subscribe (again) BEFORE reading: a change made during the scan is notified and read afterwards
            List<Scanner> scanners = new ArrayList<>();
            if (clusterClient != null) {
                ensureClusterNotifications();
                StatefulRedisClusterPubSubConnection<String, String> cp = (StatefulRedisClusterPubSubConnection<String, String>) p;
                StatefulRedisClusterConnection<String, String> cr = (StatefulRedisClusterConnection<String, String>) r;
                List<RedisClusterNode> masters = ClusterNodes.masters(clusterClient.getPartitions());
                if (masters.isEmpty()) {
                    throw new IllegalStateException("the cluster has no master serving slots");
                }
                Set<Object> subscribed = new java.util.HashSet<>();
                for (RedisClusterNode m : masters) {
                    StatefulRedisPubSubConnection<String, String> n = cp.getConnection(m.getNodeId());
                    nodeSubscriptions.add(n);
                    subscribed.add(n);
                    n.async().psubscribe(patterns).get(5, TimeUnit.SECONDS);
                    // SCAN on this master's own connection (manual flush like every node connection of cr); by host
                    // and port, it is the connection the routed HGETALLs use too, and it is connected now (a routed
                    // command on a connection still being opened would be rejected: REJECT_COMMANDS)
                    StatefulRedisConnection<String, String> node = cr.getConnection(m.getUri().getHost(), m.getUri()
                            .getPort());
                    scanners.add(new Scanner(node.async(), node));
                }
                nodeSubscriptions.retainAll(subscribed); // a former master's connection no longer carries it
            } else {
                ensureNotifications((StatefulRedisConnection<String, String>) r);
                p.sync().psubscribe(patterns);
                scanners.add(new Scanner(readCommands, r));
            }
            Map<String, Map.Entry<String, GraphElement>> fresh = new HashMap<>();
            for (Scanner sc : scanners) {
                for (Side s : sides) {
                    for (String match : s.side().keyPatterns()) {
                        ScanCursor c = ScanCursor.INITIAL;
                        do {
                            RedisFuture<KeyScanCursor<String>> f = sc.commands().scan(c, ScanArgs.Builder.matches(
                                    match).limit(BATCH));
                            sc.connection().flushCommands();
                            KeyScanCursor<String> k = f.get(5, TimeUnit.SECONDS);
                            read(k.getKeys(), (key, fields) -> {
                                GraphElement e = s.side().element(key, fields);
                                if (e != null) {
                                    fresh.put(key, new AbstractMap.SimpleImmutableEntry<>(s.module(), e));
                                }
                            });
                            c = k;
                        } while (!c.isFinished());
                    }
                }
            }
            model.replaceAll(fresh);
            String from = clusterClient == null ? "" : " from " + scanners.size() + " masters";
            LOG.info("viewers: snapshot of Redis read{}: {} nodes, {} edges", from, model.nodes.size(), model.edges
                    .size());
            return true;
        } catch (Exception e) {
            LOG.warn("viewers: cannot read a snapshot from Redis {}: {}; retrying", uri, e.toString());
            return false;
        }
    }

    /** Where a snapshot SCANs: the standalone connection, or one master's node connection. */
    private record Scanner(RedisClusterAsyncCommands<String, String> commands,
            StatefulConnection<String, String> connection) {
    }

    /** Cluster: notifications on every node, masters and replicas; a refusal is logged once with the setting. */
    private void ensureClusterNotifications() {
        String msg = ClusterNodes.enableNotifications(client, clusterClient.getPartitions(),
                RedisStore.NOTIFY_FLAGS, LOG);
        if (msg != null && !msg.equals(notifyProblem)) {
            LOG.warn("viewers: {}", msg);
        }
        notifyProblem = msg;
    }

    private void ensureNotifications(StatefulRedisConnection<String, String> r) throws Exception {
        RedisAsyncCommands<String, String> a = r.async();
        RedisFuture<Map<String, String>> g = a.configGet("notify-keyspace-events");
        r.flushCommands();
        String have = g.get(5, TimeUnit.SECONDS).getOrDefault("notify-keyspace-events", "");
        String want = RedisStore.mergeFlags(have, RedisStore.NOTIFY_FLAGS);
        if (!want.equals(have)) {
            RedisFuture<String> s = a.configSet("notify-keyspace-events", want);
            r.flushCommands();
            try {
                s.get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                LOG.warn("viewers: Redis refused CONFIG SET notify-keyspace-events (set it to include '{}'): {}",
                        RedisStore.NOTIFY_FLAGS, e.toString());
            }
        }
    }

    private void readPending() {
        List<String> keys = new ArrayList<>(pendingKeys);
        for (String k : keys) {
            pendingKeys.remove(k); // one by one: removeAll(List) is quadratic when the set is larger
        }
        Map<String, Side> owner = new HashMap<>();
        for (String k : keys) {
            for (Side s : sides) {
                if (s.side().owns(k)) {
                    owner.put(k, s);
                    break;
                }
            }
        }
        try {
            for (int i = 0; i < keys.size(); i += BATCH) {
                read(keys.subList(i, Math.min(keys.size(), i + BATCH)), (key, fields) -> {
                    Side s = owner.get(key);
                    model.apply(key, s.module(), s.side().element(key, fields));
                });
            }
        } catch (Exception e) {
            pendingKeys.addAll(keys); // read again once Redis answers
            LOG.debug("viewers: reading notified keys failed: {}", e.toString());
        }
    }

    private interface HashConsumer {
        void accept(String key, Map<String, String> fields);
    }

    /** HGETALL of each key, pipelined; an absent key gives an empty map. */
    private void read(List<String> keys, HashConsumer out) throws Exception {
        StatefulConnection<String, String> r = reads;
        RedisClusterAsyncCommands<String, String> a = readCommands;
        List<RedisFuture<Map<String, String>>> fs = new ArrayList<>(keys.size());
        for (String k : keys) {
            fs.add(a.hgetall(k));
        }
        r.flushCommands();
        if (!LettuceFutures.awaitAll(Duration.ofSeconds(5), fs.toArray(new RedisFuture<?>[0]))) {
            throw new IllegalStateException("HGETALL timed out");
        }
        for (int i = 0; i < keys.size(); i++) {
            out.accept(keys.get(i), fs.get(i).get());
        }
        keysRead.addAndGet(keys.size());
    }

    private void broadcast(String kind, String message) {
        for (ViewerSession s : sessions) {
            s.notice(kind, message);
        }
    }

    @Override
    public void close() {
        try {
            thread.submit(() -> {
                for (ViewerSession s : sessions) {
                    s.close("server shutting down");
                }
            }).get(2, TimeUnit.SECONDS);
        } catch (Exception e) {
            // closing anyway
        }
        closed = true;
        thread.shutdownNow();
        if (pubsub != null) {
            pubsub.close();
        }
        if (reads != null) {
            reads.close();
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
