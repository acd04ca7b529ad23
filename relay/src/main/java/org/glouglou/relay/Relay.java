package org.glouglou.relay;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.glouglou.protocol.Payload;
import org.glouglou.protocol.PayloadBuilder;
import org.glouglou.protocol.internal.InternalEvents;
import org.glouglou.protocol.session.ProbeSecrets;
import org.glouglou.protocol.session.ReceiverSessions;
import org.glouglou.protocol.transport.ExportPipeline;
import org.glouglou.protocol.transport.SourceRateLimiter;
import org.glouglou.protocol.transport.Uplink;
import org.glouglou.spi.ConfigException;
import org.glouglou.spi.ModuleRegistry;

/**
 * A relay assembled (spec 5.6): the listening socket and {@link RelayCore} on one side, an {@link ExportPipeline} (and,
 * standing alone, its own {@link Uplink}) on the other. Standing alone it has its own identity upstream, keeps what it
 * forwarded until durable and sends it all again on every new upstream session, and reports its counters in its own
 * STATS; beside a probe ({@code glouglou probe --relay-listen}) it feeds the probe's pipeline, whose resend buffer keeps
 * the payloads, uses the probe's id as its hop, and the probe merges {@link #counters()} into its STATS. Either way the
 * FORWARD_ACKs from upstream are routed back towards their origins. {@link #bind} opens the socket (privileged part),
 * {@link #start} begins reading untrusted datagrams.
 */
public final class Relay implements AutoCloseable {
    /**
     * @param listen          where probes send to
     * @param secrets         the probes (and downstream relays) allowed in
     * @param maxDatagram     upstream datagram size
     * @param rateLimit       datagrams per second per source address
     * @param flushMillis     a partly filled upstream datagram leaves after at most this long
     * @param statsSeconds    STATS every this many seconds (standing alone)
     * @param keep            origin payloads kept until durable upstream (standing alone; the relay's --queue)
     */
    public record Settings(InetSocketAddress listen, ProbeSecrets secrets, int maxDatagram, double rateLimit,
            long flushMillis, int statsSeconds, int keep) {
        /**
         * 20,000 datagrams/s per source as on the server: a busy probe sends a few hundred, a downstream relay a few
         * thousand. 10 ms flush: a tenth of a probe's tick, so a hop adds little latency, while bursts still fill
         * whole datagrams (a full one leaves at once). 2 s STATS as the probe. 4096 payloads kept: the relay's
         * default --queue, about 5 MiB, a few seconds of a dozen busy probes.
         */
        public static Settings defaults(InetSocketAddress listen, ProbeSecrets secrets) {
            return new Settings(listen, secrets, org.glouglou.protocol.ProtocolConstants.DEFAULT_MAX_DATAGRAM,
                    20_000, 10, 2, DEFAULT_QUEUE);
        }

        public Settings withMaxDatagram(int bytes) {
            return new Settings(listen, secrets, bytes, rateLimit, flushMillis, statsSeconds, keep);
        }
    }

    /** 4096 datagrams: the upstream queue and the origin payloads kept, about 5 MiB each at most. */
    public static final int DEFAULT_QUEUE = 4096;

    /**
     * The relay's own uplink sends each payload once, without a resend buffer (spec 5.8): its FORWARDs are kept, per
     * origin, until durable and sent again on every new session ({@link RelayCore#resendPayloads}); its STATS are
     * cumulative, sent every few seconds and once more at the start of every session, so a lost one is made good by
     * the next. A second copy of everything in a resend buffer would double the memory for nothing.
     */
    public static Uplink.Config uplinkConfig() {
        return Uplink.Config.defaults().withResend(null);
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
                settings.maxDatagram(), pipeline, uplink == null ? 0 : settings.keep());
        pipeline.onDrop(core::onUpstreamDrop);
        this.listener = new RelayListener(core);
        if (uplink != null) {
            uplink.onEvent(core::onUpstreamEvent);
            uplink.onNewSession(() -> {
                // the counters first (right at once after a failover), then every kept origin payload, oldest first
                List<Payload> out = new ArrayList<>();
                PayloadBuilder b = new PayloadBuilder(registry, settings.maxDatagram(), 1000);
                b.add(System.currentTimeMillis() * 1000, new InternalEvents.Stats(counters()));
                out.add(b.take());
                out.addAll(core.resendPayloads());
                return out;
            });
        }
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
            c.put("sessions", uplink.sessions());
            c.put("failovers", uplink.failovers());
            c.put("send_errors", uplink.sendErrors());
        }
        return c;
    }

    /**
     * Stops reading probes; standing alone, sends what is queued and says BYE (at most {@code millis}). What is kept
     * and not yet durable is left to its origins, which send it again.
     */
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
