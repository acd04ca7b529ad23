package org.glouglou.probe;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.glouglou.protocol.transport.ExportPipeline;
import org.glouglou.protocol.transport.ResendBuffer;
import org.glouglou.protocol.transport.Uplink;
import org.glouglou.probe.print.JsonLinePrinter;
import org.glouglou.protocol.ProtocolConstants;
import org.glouglou.protocol.internal.InternalEvents;
import org.glouglou.protocol.session.ProbeSecrets;
import org.glouglou.protocol.session.ProbeSession;
import org.glouglou.relay.Relay;
import org.glouglou.relay.RelayMain;
import org.glouglou.platform.DaemonCommandLine;
import org.glouglou.platform.HostPort;
import org.glouglou.platform.Privileges;
import org.glouglou.spi.ConfigException;
import org.glouglou.spi.EventSink;
import org.glouglou.spi.GlouglouModule;
import org.glouglou.spi.ModuleRegistry;
import org.glouglou.spi.ProbeSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The probe daemon: opens its capture sources and its socket while privileged, drops privileges, then summarises
 * what it sees into events and sends them sealed to a server or relay (or prints them as JSON lines), keeping each
 * payload until it is acknowledged durable (spec 5.8). At the end of a capture file it waits for the last
 * acknowledgements; on SIGTERM or SIGINT it ends every open flow, waits briefly for them to be durable and says BYE
 * (spec 5.7). Each module's options join the command line as a mixin: the core names no module.
 */
@Command(name = "glouglou probe", mixinStandardHelpOptions = true, sortOptions = false, version = "glouglou probe 0.1", description = "Capture and summarise activity on this host and send it to a glouglou server or relay.")
public final class ProbeMain implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(ProbeMain.class);

    @Option(names = "--server", paramLabel = "HOST:PORT", description = "Receiver (server or relay) to send to;"
            + " repeat for failover in order. Port 4430 if omitted.")
    List<String> servers = new ArrayList<>();

    @Option(names = "--secret-file", paramLabel = "FILE", description = "This probe's line '<id> <base64 secret>"
            + " [name]' (make one with --new-secret).")
    Path secretFile;

    @Option(names = "--probe-id", paramLabel = "ID", description = "Probe id; taken from the secret file if omitted.")
    Long probeId;

    @Option(names = "--name", description = "Name announced in HELLO (default: the host name).")
    String name;

    @Option(names = "--print", description = "Print events as JSON lines on standard output instead of sending.")
    boolean print;

    @Option(names = "--print-stats", description = "With --print: also print STATS events every --stats-interval.")
    boolean printStats;

    @Option(names = "--plain", description = "Send unsealed and unauthenticated (tests only; the receiver must allow"
            + " it).")
    boolean plain;

    @Option(names = "--tick", paramLabel = "MS", description = "Summary interval in milliseconds (default: 100).")
    int tickMillis = 100;

    @Option(names = "--max-datagram", paramLabel = "BYTES", description = "Largest datagram (default: 1200, fits any"
            + " IPv6 path).")
    int maxDatagram = ProtocolConstants.DEFAULT_MAX_DATAGRAM;

    @Option(names = "--queue", paramLabel = "DATAGRAMS", description = "Send queue bound (default: 1024, about 1"
            + " MiB).")
    int queue = 1024;

    @Option(names = "--resend-buffer", paramLabel = "PAYLOADS", description = "Payloads kept until the receiver"
            + " says they are durable (default: 2048, about 2.4 MiB and 20 s of a busy probe's traffic). When full, a"
            + " capture file waits and a live capture gives the oldest up (counted).")
    int resendBuffer = ResendBuffer.DEFAULT_CAPACITY;

    @Option(names = "--stats-interval", paramLabel = "SECONDS", description = "STATS every this many seconds"
            + " (default: 2).")
    int statsSeconds = 2;

    @Option(names = "--connect-timeout", paramLabel = "SECONDS", description = "Reading a file: give up (exit 1)"
            + " when no receiver answers or acknowledges for this long, and wait at most this long for the last"
            + " acknowledgements at the end (default: 15).")
    int connectTimeoutSeconds = 15;

    @Option(names = "--user", description = "Drop to this user after opening the capture (default: nobody, when"
            + " started as root).")
    String user = "nobody";

    @Option(names = "--chroot", paramLabel = "DIR", description = "Also chroot into this (empty) directory.")
    Path chroot;

    @Option(names = "--keep-privileges", description = "Do not drop root (debugging only: the probe then parses"
            + " untrusted packets as root).")
    boolean keepPrivileges;

    @Option(names = "--relay-listen", paramLabel = "ADDR:PORT", description = "Also relay other probes: accept their"
            + " sessions here and forward their events through this probe's uplink.")
    String relayListen;

    @Option(names = "--relay-secrets", paramLabel = "FILE", description = "The probes allowed in through"
            + " --relay-listen: '<id> <base64 secret> [name]' per line.")
    Path relaySecrets;

    @Option(names = "--config", paramLabel = "FILE", description = "Options as a properties file (option name"
            + " without dashes = value); the command line wins.")
    Path config;

    @Option(names = "--new-secret", paramLabel = "ID", description = "Print a new secret line for probe ID (for the"
            + " probe's secret file and the receiver's secrets file), then exit.")
    Long newSecret;

    /**
     * A stop (SIGTERM, SIGINT) is over within this: the sources end their flows, the last payloads are acknowledged
     * or not, BYE is said. 2 s: an init system's patience is longer (systemd waits 90 s), an operator's is not.
     */
    static final long STOP_MILLIS = 2_000;
    /** Of which at most this long waiting for durable acknowledgements: a few round trips and a store write. */
    static final long STOP_DRAIN_MILLIS = 1_500;

    private final Map<GlouglouModule, Object> moduleOptions = new LinkedHashMap<>();
    private ModuleRegistry registry;
    private PrintStream stdout = System.out;
    private PrintStream stderr = System.err;
    private Relay relay;
    /** When a stop was asked (SIGTERM, SIGINT, {@link #stop()}), or 0. */
    private volatile long stopAtMillis;
    private volatile List<ProbeSource> running = List.of();
    /** Counted down once the exit path is done: what a stop waits for before the JVM goes. */
    private final CountDownLatch finished = new CountDownLatch(1);

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs the probe; returns the exit code (0 done, 1 runtime failure, 2 usage or configuration error). */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        ProbeMain main = new ProbeMain();
        main.stdout = out;
        main.stderr = err;
        CommandLine cmd;
        try {
            main.registry = ModuleRegistry.load();
            cmd = new CommandLine(main);
            for (GlouglouModule m : main.registry.modules()) {
                ProbeSource.Factory f = m.probeSource();
                if (f != null && f.options() != null) {
                    Object opts = f.options();
                    main.moduleOptions.put(m, opts);
                    cmd.addMixin(m.name(), opts);
                }
            }
        } catch (RuntimeException e) {
            err.println("glouglou probe: " + e.getMessage());
            return 2;
        }
        return DaemonCommandLine.execute("glouglou probe", cmd, args, out, err);
    }

    @Override
    public Integer call() throws Exception {
        if (newSecret != null) {
            if (newSecret < 1 || newSecret > 0xFFFFFFFFL) {
                throw new ConfigException("--new-secret takes a probe id from 1 to 4294967295");
            }
            stdout.println(ProbeSecrets.newLine(newSecret, name));
            return 0;
        }
        if (tickMillis < 10 || tickMillis > 60_000) {
            throw new ConfigException("--tick " + tickMillis + " is outside 10..60000 ms");
        }
        if (maxDatagram < ProtocolConstants.MIN_MAX_DATAGRAM || maxDatagram > ProtocolConstants.MAX_DATAGRAM) {
            throw new ConfigException("--max-datagram " + maxDatagram + " is outside "
                    + ProtocolConstants.MIN_MAX_DATAGRAM + ".." + ProtocolConstants.MAX_DATAGRAM);
        }
        if (queue < 4 || statsSeconds < 1 || connectTimeoutSeconds < 1) {
            throw new ConfigException("--queue must be at least 4, --stats-interval and --connect-timeout at least 1");
        }
        if (resendBuffer < 4) {
            throw new ConfigException("--resend-buffer " + resendBuffer + " is below 4 payloads");
        }
        if (!print && servers.isEmpty()) {
            throw new ConfigException("nothing to send to: give --server HOST:PORT, or --print to print events");
        }
        if ((relayListen == null) != (relaySecrets == null)) {
            throw new ConfigException("--relay-listen and --relay-secrets go together: the relay needs both where to"
                    + " listen and which probes to let in");
        }
        if (relayListen != null && print) {
            throw new ConfigException("--relay-listen forwards through the uplink: it cannot be used with --print");
        }
        ProbeSecrets.Entry identity = print ? null : identity();
        long id = print ? (probeId == null ? 0 : probeId) : identity.probeId();
        List<InetSocketAddress> receivers = print ? List.of() : resolve(servers);

        ExportPipeline[] pipeline = new ExportPipeline[1];
        ProbeSource.Context context = new ProbeSource.Context() {
            @Override
            public List<InetSocketAddress> exportDestinations() {
                return receivers;
            }

            @Override
            public int tickMillis() {
                return tickMillis;
            }

            @Override
            public int backlog() {
                return pipeline[0] == null ? 0 : pipeline[0].backlog();
            }
        };
        List<ProbeSource> sources = new ArrayList<>();
        for (Map.Entry<GlouglouModule, Object> e : moduleOptions.entrySet()) {
            ProbeSource s = e.getKey().probeSource().create(e.getValue(), context);
            if (s != null) {
                sources.add(s);
            }
        }
        if (sources.isEmpty()) {
            throw new ConfigException("nothing to capture: give an interface (-i IFACE) or a capture file (-r FILE)");
        }
        boolean finite = sources.stream().allMatch(ProbeSource::finite);

        // Privileged part: capture handles and the socket, then the drop, then untrusted input.
        Uplink uplink = null;
        JsonLinePrinter printer = null;
        EventSink sink;
        if (print) {
            printer = new JsonLinePrinter(registry, id, stdout);
            sink = printer;
        } else {
            pipeline[0] = new ExportPipeline(registry, maxDatagram, queue, finite);
            String probeName = name != null ? name : hostName();
            ProbeSession session = new ProbeSession(registry, id, plain ? null : identity.secret(), probeName,
                    "glouglou-probe 0.1", plain);
            uplink = new Uplink(receivers, session, registry, pipeline[0], Uplink.Config.defaults().withResend(
                    ResendBuffer.Config.defaults().withCapacity(resendBuffer)));
            sink = pipeline[0];
            if (relayListen != null) {
                // the relay's hop id is this probe's: its upstream (our receiver) knows it
                relay = new Relay(registry, Relay.Settings.defaults(HostPort.resolve("--relay-listen", relayListen,
                        4430, true), ProbeSecrets.load(relaySecrets)).withMaxDatagram(maxDatagram), id, pipeline[0],
                        null);
                relay.bind();
                // the FORWARD_ACKs for the probes behind it come on this probe's session: route them back
                uplink.onEvent(relay.core()::onUpstreamEvent);
            }
        }
        for (ProbeSource s : sources) {
            s.openPrivileged();
        }
        if (!keepPrivileges) {
            Privileges.dropIfRoot("probe", user, chroot);
        }

        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "glouglou-tick");
            t.setDaemon(true);
            return t;
        });
        JsonLinePrinter printerRef = printer;
        Uplink uplinkRef = uplink;
        if (relay != null) {
            relay.start();
        }
        if (uplink != null) {
            uplink.start();
            timer.scheduleAtFixedRate(pipeline[0]::flush, tickMillis, tickMillis, TimeUnit.MILLISECONDS);
            timer.scheduleAtFixedRate(() -> sink.emit(System.currentTimeMillis() * 1000, stats(sources, pipeline[0],
                    uplinkRef, relay)), statsSeconds, statsSeconds, TimeUnit.SECONDS);
        } else {
            if (!finite || printStats) {
                timer.scheduleAtFixedRate(printerRef::flush, tickMillis, tickMillis, TimeUnit.MILLISECONDS);
            }
            if (printStats) {
                timer.scheduleAtFixedRate(() -> sink.emit(System.currentTimeMillis() * 1000, sourceStats(sources)),
                        statsSeconds, statsSeconds, TimeUnit.SECONDS);
            }
        }

        AtomicReference<Throwable> failure = new AtomicReference<>();
        CountDownLatch done = new CountDownLatch(sources.size());
        for (ProbeSource s : sources) {
            Thread t = new Thread(() -> {
                try {
                    s.run(sink);
                } catch (Throwable ex) {
                    failure.compareAndSet(null, ex);
                } finally {
                    done.countDown();
                }
            }, "glouglou-source");
            t.setDaemon(true); // a source stuck past the stop's deadline must not keep the JVM alive
            t.start();
        }
        running = sources;
        // SIGTERM, SIGINT: the hook only asks; this thread's exit path below does the stop, and the hook waits for it,
        // so that the JVM does not halt half-way (hooks run while other threads go on)
        Thread hook = new Thread(() -> {
            stop();
            try {
                finished.await(STOP_MILLIS + 500, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "glouglou-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        // SIGTERM, SIGINT: the same stop, and the exit status is this thread's (0 when everything was acknowledged)
        org.glouglou.platform.StopSignals.onStop(this::stop);
        try {
            return finish(sources, done, failure, timer, printer, pipeline[0], uplink, finite, id);
        } finally {
            finished.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the JVM is exiting already: the hook runs, and finds the exit path done
            }
        }
    }

    /**
     * Stops the probe as SIGTERM does: every source ends its open flows (DELCONN reason shutdown), the last payloads
     * get at most {@link #STOP_DRAIN_MILLIS} to be acknowledged, then BYE. Returns at once; {@link #run} returns once
     * it is done. Thread-safe.
     */
    public void stop() {
        if (stopAtMillis == 0) {
            stopAtMillis = System.currentTimeMillis();
            LOG.info("stopping: ending open flows, then BYE");
        }
        running.forEach(ProbeSource::stop);
    }

    private boolean stopping() {
        return stopAtMillis != 0;
    }

    /** Waits for the sources to end (input ended or a stop), then sends what is left; returns the exit code. */
    private int finish(List<ProbeSource> sources, CountDownLatch done, AtomicReference<Throwable> failure,
            ScheduledExecutorService timer, JsonLinePrinter printer, ExportPipeline pipeline, Uplink uplink,
            boolean finite, long id) throws Exception {
        String giveUp = null;
        while (!done.await(stopping() ? 10 : 200, TimeUnit.MILLISECONDS)) {
            long now = System.currentTimeMillis();
            if (stopping()) {
                if (now - stopAtMillis > STOP_MILLIS - STOP_DRAIN_MILLIS) {
                    LOG.warn("a source did not stop within {} ms; sending what it gave", now - stopAtMillis);
                    break;
                }
                continue;
            }
            if (uplink != null && finite) {
                long limit = connectTimeoutSeconds * 1000L;
                if (uplink.downForMillis(now) > limit) {
                    giveUp = "no answer from " + String.join(", ", servers) + " for " + connectTimeoutSeconds
                            + " s: is the server running, and does it know probe " + id + "?";
                } else if (uplink.stalledForMillis(now) > limit) {
                    giveUp = "no acknowledgement from " + uplink.currentServer() + " for " + connectTimeoutSeconds
                            + " s with " + uplink.unacknowledged() + " payloads waiting for one";
                }
                if (giveUp != null) {
                    sources.forEach(ProbeSource::stop);
                    break;
                }
            }
        }
        if (failure.get() != null) {
            Throwable f = failure.get();
            if (f instanceof Exception ex) {
                throw ex;
            }
            throw new IllegalStateException(f);
        }
        // not shutdownNow: an interrupt would cut a tick's flush short, and with it the payload it was queueing
        timer.shutdown();
        if (!timer.awaitTermination(1, TimeUnit.SECONDS)) {
            timer.shutdownNow();
        }
        if (printer != null) {
            printer.close();
            return 0;
        }
        if (relay != null) {
            relay.close();
        }
        if (giveUp != null) {
            uplink.close();
            stderr.println("glouglou probe: " + giveUp);
            return 1;
        }
        pipeline.emit(System.currentTimeMillis() * 1000, stats(sources, pipeline, uplink, relay));
        pipeline.flush();
        long wait = connectTimeoutSeconds * 1000L;
        long start = System.currentTimeMillis();
        // at the end of a file: until everything is durable, at most --connect-timeout; a stop brings it forward
        boolean all = uplink.drain(() -> stopping()
                ? Math.min(stopAtMillis + STOP_DRAIN_MILLIS, start + wait)
                : start + wait);
        long left = uplink.unacknowledged();
        uplink.close();
        LOG.info("sent {} events in {} datagrams ({} bytes); dropped {} events", uplink.eventsSent(), uplink
                .datagramsSent(), uplink.bytesSent(), pipeline.eventsDropped());
        if (!all) {
            stderr.println("glouglou probe: " + left + " payloads were not acknowledged by " + uplink.currentServer()
                    + " within " + (System.currentTimeMillis() - start) / 1000.0 + " s");
            return 1;
        }
        return 0;
    }

    private static InternalEvents.Stats sourceStats(List<ProbeSource> sources) {
        Map<String, Long> c = new LinkedHashMap<>();
        for (ProbeSource s : sources) {
            s.stats().forEach((k, v) -> c.merge(k, v, Long::sum));
        }
        return new InternalEvents.Stats(c);
    }

    private static InternalEvents.Stats stats(List<ProbeSource> sources, ExportPipeline p, Uplink u, Relay relay) {
        Map<String, Long> c = new LinkedHashMap<>(sourceStats(sources).counters());
        c.put("events_in", p.eventsIn());
        c.put("events_dropped", p.eventsDropped());
        c.put("datagrams_dropped", p.payloadsDropped());
        c.put("queue", (long) p.queued());
        c.put("datagrams_sent", u.datagramsSent());
        c.put("events_sent", u.eventsSent());
        c.put("bytes_sent", u.bytesSent());
        c.put("handshakes", u.handshakes());
        c.put("sessions", u.sessions());
        c.put("failovers", u.failovers());
        c.put("send_errors", u.sendErrors());
        ResendBuffer b = u.resendBuffer();
        if (b != null) { // spec 5.5
            c.put("resent_datagrams", b.resent());
            c.put("unacked", (long) b.size());
            c.put("resend_expired_events", b.expiredEvents());
            c.put("resend_dropped_events", b.droppedEvents());
        }
        if (relay != null) {
            c.putAll(relay.counters()); // names start with forward_, probes, drops_: none clashes with the probe's
        }
        return new InternalEvents.Stats(c);
    }

    private ProbeSecrets.Entry identity() throws ConfigException {
        if (plain) {
            if (probeId == null) {
                throw new ConfigException("--plain needs --probe-id");
            }
            return new ProbeSecrets.Entry(probeId, null, "probe-" + probeId);
        }
        if (secretFile == null) {
            throw new ConfigException("no secret: give --secret-file FILE (make one with 'glouglou probe"
                    + " --new-secret ID > FILE' and add the same line to the server's secrets file)");
        }
        ProbeSecrets.Entry e = ProbeSecrets.loadOwn(secretFile);
        if (probeId != null && probeId != e.probeId()) {
            throw new ConfigException("--probe-id " + probeId + " differs from the id " + e.probeId() + " in "
                    + secretFile);
        }
        return e;
    }

    static List<InetSocketAddress> resolve(List<String> specs) throws ConfigException {
        List<InetSocketAddress> out = new ArrayList<>();
        for (String spec : specs) {
            out.add(HostPort.resolve("--server", spec, 4430, false));
        }
        return out;
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "probe";
        }
    }
}
