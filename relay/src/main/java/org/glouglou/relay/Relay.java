package org.glouglou.relay;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.glouglou.protocol.internal.InternalEvents;
import org.glouglou.protocol.session.ProbeSecrets;
import org.glouglou.protocol.session.ReceiverSessions;
import org.glouglou.protocol.transport.ExportPipeline;
import org.glouglou.protocol.transport.SourceRateLimiter;
import org.glouglou.protocol.transport.Uplink;
import org.glouglou.spi.ConfigException;
import org.glouglou.spi.ModuleRegistry;

/**
 * A relay assembled (issue 7): the listening socket and {@link RelayCore} on one side, an {@link ExportPipeline} (and,
 * standing alone, its own {@link Uplink}) on the other. Standing alone it has its own identity upstream and reports
 * its counters in its own STATS; beside a probe ({@code glouglou probe --relay-listen}) it feeds the probe's pipeline,
 * uses the probe's id as its hop, and the probe merges {@link #counters()} into its STATS. {@link #bind} opens the
 * socket (privileged part), {@link #start} begins reading untrusted datagrams.
 */
public final class Relay implements AutoCloseable {
    /**
     * @param listen          where probes send to
     * @param secrets         the probes (and downstream relays) allowed in
     * @param maxDatagram     upstream datagram size
     * @param rateLimit       datagrams per second per source address
     * @param flushMillis     a partly filled upstream datagram leaves after at most this long
     * @param statsSeconds    STATS every this many seconds (standing alone)
     */
    public record Settings(InetSocketAddress listen, ProbeSecrets secrets, int maxDatagram, double rateLimit,
            long flushMillis, int statsSeconds) {
        /**
         * 20,000 datagrams/s per source as on the server: a busy probe sends a few hundred, a downstream relay a few
         * thousand. 10 ms flush: a tenth of a probe's tick, so a hop adds little latency, while bursts still fill
         * whole datagrams (a full one leaves at once). 2 s STATS as the probe.
         */
        public static Settings defaults(InetSocketAddress listen, ProbeSecrets secrets) {
            return new Settings(listen, secrets, org.glouglou.protocol.ProtocolConstants.DEFAULT_MAX_DATAGRAM,
                    20_000, 10, 2);
        }

        public Settings withMaxDatagram(int bytes) {
            return new Settings(listen, secrets, bytes, rateLimit, flushMillis, statsSeconds);
        }
    }

    /** 4096 sources remembered by the rate limiter, as on the server. */
    static final int MAX_SOURCES = 4096;

    private final Settings settings;
    private final RelayCore core;
    private final RelayListener listener;
    private final ExportPipeline pipeline;
    private final Uplink uplink;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "glouglou-relay-tick");
        t.setDaemon(true);
        return t;
    });
    private InetSocketAddress bound;

    /**
     * @param relayId  this relay's probe id at its upstream (beside a probe: the probe's id)
     * @param pipeline the upstream queue: the relay's own, or the probe's
     * @param uplink   the relay's own uplink over {@code pipeline}, or null beside a probe (the probe runs it)
     */
    public Relay(ModuleRegistry registry, Settings settings, long relayId, ExportPipeline pipeline, Uplink uplink) {
        this.settings = settings;
        this.pipeline = pipeline;
        this.uplink = uplink;
        this.core = new RelayCore(registry, settings.secrets(), ReceiverSessions.Config.defaults(),
                new SourceRateLimiter(settings.rateLimit(), 2.0 * settings.rateLimit(), MAX_SOURCES), relayId,
                settings.maxDatagram(), pipeline);
        pipeline.onDrop(core::onUpstreamDrop);
        this.listener = new RelayListener(core);
    }

    /** Opens the listening socket: the part that may need root. */
    public InetSocketAddress bind() throws ConfigException {
        try {
            bound = listener.bind(settings.listen());
            return bound;
        } catch (IOException e) {
            throw new ConfigException("cannot listen on udp " + settings.listen() + ": " + e.getMessage()
                    + " (another process has it, or a port below 1024 needs root)");
        }
    }

    /** Starts reading probes, the flush timer and, standing alone, the uplink and the STATS timer. */
    public void start() {
        listener.start();
        timer.scheduleAtFixedRate(pipeline::flush, settings.flushMillis(), settings.flushMillis(),
                TimeUnit.MILLISECONDS);
        if (uplink != null) {
            uplink.start();
            timer.scheduleAtFixedRate(this::emitStats, settings.statsSeconds(), settings.statsSeconds(),
                    TimeUnit.SECONDS);
        }
    }

    private void emitStats() {
        pipeline.emit(System.currentTimeMillis() * 1000, new InternalEvents.Stats(counters()));
    }

    public InetSocketAddress address() {
        return bound;
    }

    public RelayCore core() {
        return core;
    }

    public Uplink uplink() {
        return uplink;
    }

    /** The relay's counters: this hop's (see {@link RelayCore#counters()}) and, standing alone, its uplink's. */
    public Map<String, Long> counters() {
        Map<String, Long> c = new LinkedHashMap<>(core.counters());
        if (uplink != null) {
            c.put("queue", (long) pipeline.queued());
            c.put("datagrams_sent", uplink.datagramsSent());
            c.put("bytes_sent", uplink.bytesSent());
            c.put("handshakes", uplink.handshakes());
            c.put("failovers", uplink.failovers());
            c.put("send_errors", uplink.sendErrors());
        }
        return c;
    }

    /** Stops reading probes; standing alone, sends what is queued (at most {@code millis}) and says BYE. */
    public void close(long millis) {
        listener.close();
        timer.shutdownNow();
        if (uplink != null) {
            pipeline.emit(System.currentTimeMillis() * 1000, new InternalEvents.Stats(counters()));
            pipeline.flush();
            try {
                uplink.drain(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            uplink.close();
        }
    }

    /** Stops at once (a crash, for tests): nothing more is sent. */
    @Override
    public void close() {
        listener.close();
        timer.shutdownNow();
        if (uplink != null) {
            uplink.close();
        }
    }
}
