package org.glouglou.relay;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.glouglou.platform.Privileges;
import org.glouglou.protocol.ProtocolConstants;
import org.glouglou.protocol.session.ProbeSecrets;
import org.glouglou.protocol.session.ProbeSession;
import org.glouglou.protocol.transport.ExportPipeline;
import org.glouglou.protocol.transport.Uplink;
import org.glouglou.platform.DaemonCommandLine;
import org.glouglou.platform.HostPort;
import org.glouglou.spi.ConfigException;
import org.glouglou.spi.ModuleRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The relay daemon (spec 5.6): accepts probe sessions like the server and forwards their events upstream, to the server
 * or to another relay, inside its own session, and routes the acknowledgements back. Order as in OpenBSD daemons: read
 * the secrets, bind both sockets, drop privileges, then read untrusted datagrams. A bad command line or configuration
 * prints one line and exits with 2. SIGTERM or SIGINT: it stops reading probes, sends what is queued and says BYE.
 */
@Command(name = "glouglou relay", mixinStandardHelpOptions = true, sortOptions = false, version = "glouglou relay 0.1", description = "Accept probe sessions and forward their events upstream (to a server or another relay).")
public final class RelayMain implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(RelayMain.class);

    @Option(names = "--listen", paramLabel = "ADDR:PORT", description = "UDP address for probes (default:"
            + " ${DEFAULT-VALUE}).")
    String listen = "0.0.0.0:4430";

    @Option(names = "--secrets", paramLabel = "FILE", description = "The probes (and downstream relays) allowed in:"
            + " '<id> <base64 secret> [name]' per line.")
    Path secrets;

    @Option(names = "--secret-file", paramLabel = "FILE", description = "This relay's own line '<id> <base64 secret>"
            + " [name]', listed in its upstream's secrets.")
    Path secretFile;

    @Option(names = "--upstream", paramLabel = "HOST:PORT", description = "Server or relay to forward to; repeat for"
            + " failover in order. Port 4430 if omitted.")
    List<String> upstreams = new ArrayList<>();

    @Option(names = "--queue", paramLabel = "DATAGRAMS", description = "Upstream queue bound, and origin payloads kept"
            + " until durable upstream (default: ${DEFAULT-VALUE}, about 5 MiB each; the oldest go first, counted).")
    int queue = Relay.DEFAULT_QUEUE;

    @Option(names = "--flush", paramLabel = "MS", description = "A partly filled upstream datagram leaves after this"
            + " long (default: ${DEFAULT-VALUE}).")
    long flushMillis = 10;

    @Option(names = "--rate-limit", paramLabel = "N", description = "Datagrams/s per source address (default:"
            + " ${DEFAULT-VALUE}).")
    int rateLimit = 20_000;

    @Option(names = "--stats-interval", paramLabel = "SECONDS", description = "STATS every this many seconds"
            + " (default: ${DEFAULT-VALUE}).")
    int statsSeconds = 2;

    @Option(names = "--name", description = "Name announced in HELLO (default: the host name).")
    String name;

    @Option(names = "--user", description = "Drop to this user after binding (default: ${DEFAULT-VALUE}, when started"
            + " as root).")
    String user = "nobody";

    @Option(names = "--chroot", paramLabel = "DIR", description = "Also chroot into this (empty) directory.")
    Path chroot;

    @Option(names = "--keep-privileges", description = "Do not drop root (debugging only).")
    boolean keepPrivileges;

    @Option(names = "--config", paramLabel = "FILE", description = "Options as a properties file (option name"
            + " without dashes = value); the command line wins.")
    Path config;

    /** A stop says BYE within this: 1.5 s to send what is queued, the rest for BYE and the sockets. */
    static final long STOP_MILLIS = 1_500;

    private final CountDownLatch stop = new CountDownLatch(1);
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile Relay relay;

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs the relay until stopped; returns the exit code (1 runtime failure, 2 usage or configuration error). */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        return run(new RelayMain(), args, out, err);
    }

    static int run(RelayMain main, String[] args, PrintStream out, PrintStream err) {
        CommandLine cmd = new CommandLine(main);
        return DaemonCommandLine.execute("glouglou relay", cmd, args, out, err);
    }

    @Override
    public Integer call() throws Exception {
        if (secrets == null) {
            throw new ConfigException("--secrets FILE is required: it lists the probes allowed in (make a line with"
                    + " 'glouglou probe --new-secret ID')");
        }
        if (secretFile == null) {
            throw new ConfigException("--secret-file FILE is required: the relay's own '<id> <base64 secret>' line,"
                    + " also listed in its upstream's secrets");
        }
        if (upstreams.isEmpty()) {
            throw new ConfigException("nothing to forward to: give --upstream HOST:PORT (repeat for failover)");
        }
        if (queue < 4 || flushMillis < 1 || flushMillis > 10_000 || rateLimit < 1 || statsSeconds < 1) {
            throw new ConfigException("--queue must be at least 4, --flush 1..10000 ms, --rate-limit and"
                    + " --stats-interval at least 1");
        }
        if (chroot != null && keepPrivileges) {
            throw new ConfigException("--chroot and --keep-privileges exclude each other");
        }
        ProbeSecrets probes = ProbeSecrets.load(secrets);
        ProbeSecrets.Entry identity = ProbeSecrets.loadOwn(secretFile);
        if (probes.get(identity.probeId()) != null) {
            throw new ConfigException(secrets + " lists the relay's own id " + identity.probeId()
                    + ": a relay's id must differ from its probes' ids");
        }
        InetSocketAddress listenAt = HostPort.resolve("--listen", listen, 4430, true);
        List<InetSocketAddress> ups = new ArrayList<>();
        for (String u : upstreams) {
            InetSocketAddress a = HostPort.resolve("--upstream", u, 4430, false);
            if (a.equals(listenAt)) {
                throw new ConfigException("--upstream " + u + " is the relay's own --listen address: a loop");
            }
            ups.add(a);
        }

        ModuleRegistry registry = ModuleRegistry.load();
        ExportPipeline pipeline = new ExportPipeline(registry, ProtocolConstants.DEFAULT_MAX_DATAGRAM, queue, false);
        ProbeSession session = new ProbeSession(registry, identity.probeId(), identity.secret(), name != null
                ? name
                : hostName(), "glouglou-relay 0.1", false);
        // privileged part: both sockets (the uplink's opens in its constructor), then the drop
        Uplink uplink = new Uplink(ups, session, registry, pipeline, Relay.uplinkConfig());
        Relay r = new Relay(registry, new Relay.Settings(listenAt, probes, ProtocolConstants.DEFAULT_MAX_DATAGRAM,
                rateLimit, flushMillis, statsSeconds, queue), identity.probeId(), pipeline, uplink);
        r.bind();
        if (!keepPrivileges) {
            // sockets are open; from here on nothing needs root, and the datagrams to come are untrusted
            Privileges.dropIfRoot("relay", user, chroot);
        }
        relay = r;
        r.start();
        LOG.info("relay {} forwarding to {}", identity.probeId(), upstreams);
        // the hook only asks; this thread stops the relay, and the hook waits for it, so the JVM does not halt
        // before BYE (hooks run while the other threads go on)
        Thread hook = new Thread(() -> {
            stop.countDown();
            try {
                stopped.await(STOP_MILLIS + 1_000, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "glouglou-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        // SIGTERM, SIGINT: this thread stops the relay (BYE) and the process exits 0
        org.glouglou.platform.StopSignals.onStop(stop::countDown);
        try {
            stop.await();
            r.close(STOP_MILLIS);
        } finally {
            stopped.countDown();
        }
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the JVM is exiting already
        }
        return 0;
    }

    /** Stops a relay started with {@link #run(RelayMain, String[], PrintStream, PrintStream)} (tests). */
    void stop() {
        stop.countDown();
    }

    Relay relay() {
        return relay;
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "relay";
        }
    }
}
