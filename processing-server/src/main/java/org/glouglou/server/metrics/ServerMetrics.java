package org.glouglou.server.metrics;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.function.Consumer;
import org.glouglou.protocol.DropReason;

/**
 * The server's metrics in the Prometheus text format: datagrams and events by outcome, drops by reason
 * (the {@link DropReason} labels), per-probe loss, Redis write latency and failures, buffer fill. Counters are
 * lock-free and safe from any thread; gauges are read through callbacks when scraped.
 */
public final class ServerMetrics {
    private final PrometheusRegistry registry = new PrometheusRegistry();

    public final Counter datagrams = Counter.builder().name("glouglou_server_datagrams_total")
            .help("Datagrams received, by outcome (accepted: opened and decoded; dropped: see drops_total; retry: an"
                    + " event asked for it again, not acknowledged; stopping: arrived during a graceful stop)")
            .labelNames("outcome").register(registry);
    public final Counter events = Counter.builder().name("glouglou_server_events_total")
            .help("Events of authenticated datagrams, by outcome").labelNames("outcome").register(registry);
    public final Counter drops = Counter.builder().name("glouglou_server_drops_total")
            .help("Datagrams or records dropped, by reason").labelNames("reason").register(registry);
    public final Counter acks = Counter.builder().name("glouglou_server_acks_total")
            .help("Acknowledgements sent to probes (durable, received) and through relays (forward_durable,"
                    + " forward_received)")
            .labelNames("kind").register(registry);
    public final Counter redisCommands = Counter.builder().name("glouglou_server_redis_commands_total")
            .help("Redis commands, by outcome (ok, failed)").labelNames("outcome").register(registry);
    public final Counter redisTicks = Counter.builder().name("glouglou_server_redis_flushes_total")
            .help("Ticks, by what the writer did (written, deferred: too many commands in flight, unavailable)")
            .labelNames("outcome").register(registry);
    public final Counter keysRewritten = Counter.builder().name("glouglou_server_keys_written_total")
            .help("Keys written to Redis (one script call applying the key's merged operations)").register(registry);
    public final Counter keysWrittenWhole = Counter.builder().name("glouglou_server_keys_written_whole_total")
            .help("Of keys_written_total, those written with everything held (new, after a failure or a"
                    + " reconnection)")
            .register(registry);
    public final Counter keysDeferred = Counter.builder().name("glouglou_server_keys_deferred_total")
            .help("Dirty keys left for a later tick by the write budget or the in-flight bound, summed over ticks"
                    + " (never dropped: they coalesce further)")
            .register(registry);
    public final Histogram redisLatency = Histogram.builder().name("glouglou_server_redis_write_seconds")
            .help("Time from sending a tick's batch to its last reply")
            .classicUpperBounds(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5).register(registry);

    /** Viewer-side events an operator must see: resyncs (and why), viewers closed for being too slow. */
    public final Counter viewerEvents = Counter.builder().name("glouglou_server_viewer_events_total")
            .help("Viewer-side events: slow_viewer (backlog dropped, snapshot resent), too_slow (viewer closed),"
                    + " redis_resync (every viewer resynced after the subscription came back), backlog_resync"
                    + " (notified keys overflowed: snapshot read again)")
            .labelNames("event").register(registry);
    public final Counter viewerBytes = Counter.builder().name("glouglou_server_viewer_bytes_total")
            .help("Stream bytes written to viewers (before TLS)").register(registry);
    public final Histogram viewerTick = Histogram.builder().name("glouglou_server_viewer_tick_seconds")
            .help("Time the viewer thread took per tick: notified keys read from Redis, projected, encoded, written")
            .classicUpperBounds(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5).register(registry);

    private final PrometheusRegistry reg() {
        return registry;
    }

    /** Registers a gauge read at scrape time. */
    public void gauge(String name, String help, Consumer<GaugeWithCallback.Callback> callback, String... labels) {
        GaugeWithCallback.builder().name(name).help(help).labelNames(labels).callback(callback).register(reg());
    }

    /** Counts a dropped datagram or record under its reason. */
    public void drop(DropReason reason) {
        drops.labelValues(reason.label()).inc();
        if (reason.wholeDatagram()) {
            datagrams.labelValues("dropped").inc();
        }
    }

    public PrometheusRegistry registry() {
        return registry;
    }

    /** Starts the HTTP endpoint ({@code /metrics}); the caller closes it. */
    public HTTPServer serve(InetSocketAddress at) throws IOException {
        return HTTPServer.builder().inetAddress(at.getAddress()).port(at.getPort()).registry(registry)
                .buildAndStart();
    }
}
