package org.glouglou.probe.e2e;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import org.glouglou.spi.testkit.RedisServerProcess;

/**
 * One test's world of real processes on loopback: redis-server (standalone or a cluster), processing servers,
 * relays, probes, fault proxies and viewers, started as an operator would (the packaged jars, the documented
 * options, sealed sessions with secrets files), every process's output in a log file under the test's directory.
 * Closing it kills whatever is left.
 */
final class Topology implements AutoCloseable {
    /**
     * JVM options of every daemon: serial GC, C1 only and small stacks start fast and leave the two cores of a CI box
     * to the work (the launcher's router options, with a heap that fits a test).
     */
    static final List<String> JVM = List.of("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss512k", "-Xmx256m",
            "-XX:+ExitOnOutOfMemoryError", "-XX:-UsePerfData");
    /** A daemon on a busy 2-core box may take this long to start (JVM start-up, TLS key, Redis). */
    static final long START_MILLIS = 30_000;

    final Path dir;
    private final List<Daemon> daemons = Collections.synchronizedList(new ArrayList<>());
    private final List<FaultProxy> proxies = Collections.synchronizedList(new ArrayList<>());
    private final List<ViewerMonitor> viewers = Collections.synchronizedList(new ArrayList<>());
    private final SecureRandom random = new SecureRandom();
    private List<Integer> redisPorts = List.of();
    private boolean cluster;
    private RedisState state;

    Topology(Path dir) throws IOException {
        this.dir = Files.createDirectories(dir);
    }

    // ---------------------------------------------------------------- Redis

    /** A standalone redis-server on a free loopback port, no persistence. */
    Topology redis() throws Exception {
        int port = E2e.freeTcpPort();
        Path d = Files.createDirectories(dir.resolve("redis-" + port));
        Daemon r = daemon("redis-" + port, List.of("redis-server", "--port", String.valueOf(port), "--bind",
                "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", d.toString()));
        r.start();
        E2e.await(() -> RedisServerProcess.answersPing(port), 10_000, () -> "redis-server on " + port
                + " never answered PING: " + r.tail(10));
        redisPorts = List.of(port);
        return this;
    }

    /**
     * A Redis Cluster of {@code masters} masters without replicas on free loopback ports, joined with
     * {@code redis-cli --cluster create} (slots spread evenly), ready once every node reports cluster_state:ok.
     */
    Topology redisCluster(int masters) throws Exception {
        List<Integer> ports = new ArrayList<>();
        for (int i = 0; i < masters; i++) {
            int port = E2e.freeTcpPort();
            // the cluster bus listens on port + 10000: both must be free
            while (port > 55_535 || ports.contains(port) || !tcpFree(port + 10_000)) {
                port = E2e.freeTcpPort();
            }
            ports.add(port);
            Path d = Files.createDirectories(dir.resolve("redis-" + port));
            daemon("redis-" + port, List.of("redis-server", "--port", String.valueOf(port), "--bind", "127.0.0.1",
                    "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout",
                    "2000", "--save", "", "--appendonly", "no", "--dir", d.toString())).start();
        }
        for (int port : ports) {
            E2e.await(() -> RedisServerProcess.answersPing(port), 10_000, () -> "redis-server on " + port
                    + " never answered PING");
        }
        List<String> cmd = new ArrayList<>(List.of("redis-cli", "--cluster", "create"));
        ports.forEach(p -> cmd.add("127.0.0.1:" + p));
        cmd.addAll(List.of("--cluster-replicas", "0", "--cluster-yes"));
        Process create = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(create.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!create.waitFor(30, TimeUnit.SECONDS) || create.exitValue() != 0) {
            throw new IllegalStateException("redis-cli --cluster create failed: " + out);
        }
        for (int port : ports) {
            E2e.await(() -> clusterInfo(port).contains("cluster_state:ok"), 20_000, () -> "node " + port
                    + " never reported cluster_state:ok");
        }
        redisPorts = List.copyOf(ports);
        cluster = true;
        return this;
    }

    private static boolean tcpFree(int port) {
        try (java.net.ServerSocket s = new java.net.ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static String clusterInfo(int port) throws Exception {
        Process p = new ProcessBuilder("redis-cli", "-p", String.valueOf(port), "cluster", "info")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(5, TimeUnit.SECONDS);
        return out;
    }

    /** The --redis argument of a server: the node, or every node as seeds. */
    private String redisUris() {
        return String.join(",", redisPorts.stream().map(p -> "redis://127.0.0.1:" + p).toList());
    }

    /** What the servers wrote (standalone or every master). */
    synchronized RedisState state() {
        if (state == null) {
            state = new RedisState(redisPorts);
        }
        return state;
    }

    // ---------------------------------------------------------------- identities

    /** A probe's (or relay's) identity: its secret file holds {@code <id> <base64 secret> <name>}. */
    record Identity(long id, String name, String line, Path file) {
    }

    /** A new identity with a 32-byte random secret, as {@code glouglou probe --new-secret ID} makes it. */
    Identity identity(long id, String name) throws IOException {
        byte[] secret = new byte[32];
        random.nextBytes(secret);
        String line = id + " " + Base64.getEncoder().encodeToString(secret) + " " + name;
        Path f = dir.resolve(name + ".secret");
        Files.writeString(f, line + "\n");
        return new Identity(id, name, line, f);
    }

    /** A secrets file listing {@code ids} (what a server or relay accepts). */
    Path secrets(String name, List<Identity> ids) throws IOException {
        Path f = dir.resolve(name + ".secrets");
        Files.writeString(f, String.join("\n", ids.stream().map(Identity::line).toList()) + "\n");
        return f;
    }

    // ---------------------------------------------------------------- daemons

    /** A process of this test; a second one of the same name (a probe run again) gets "-2", "-3"... */
    Daemon daemon(String name, List<String> command) {
        String unique = name;
        for (int i = 2; Files.exists(dir.resolve(unique + ".log")); i++) {
            unique = name + "-" + i;
        }
        Daemon d = new Daemon(unique, command, dir.resolve(unique + ".log"));
        daemons.add(d);
        return d;
    }

    private static List<String> javaCommand(String module, String main, List<String> args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(E2e.java());
        cmd.addAll(JVM);
        cmd.add("-cp");
        cmd.add(E2e.classPath(module));
        cmd.add(main);
        cmd.addAll(args);
        return cmd;
    }

    /** A processing server: its UDP port for probes, and its TLS viewer port if {@code withViewers}. */
    final class Server {
        final Daemon daemon;
        final int udpPort;
        final int viewerPort;

        Server(Daemon daemon, int udpPort, int viewerPort) {
            this.daemon = daemon;
            this.udpPort = udpPort;
            this.viewerPort = viewerPort;
        }

        InetSocketAddress address() {
            return new InetSocketAddress(InetAddress.getLoopbackAddress(), udpPort);
        }

        String hostPort() {
            return "127.0.0.1:" + udpPort;
        }

        /** Starts it again on the same ports with the same state directory (same viewer certificate). */
        Server restart() throws Exception {
            daemon.start();
            awaitReady();
            return this;
        }

        void awaitReady() throws Exception {
            awaitUdpAnswers(daemon, udpPort);
            if (viewerPort > 0) {
                fingerprint();
                E2e.await(() -> {
                    try (Socket s = new Socket()) {
                        s.connect(new InetSocketAddress("127.0.0.1", viewerPort), 200);
                        return true;
                    }
                }, START_MILLIS, () -> daemon.name + " does not accept viewers on " + viewerPort + ": " + daemon
                        .tail(10));
            }
        }

        /**
         * One real handshake as {@code who} (listed in this server's secrets): the first handshake of a fresh JVM
         * loads and compiles the whole session path, which costs more than the failover being measured.
         */
        void warmUp(Identity who) throws Exception {
            byte[] secret = Base64.getDecoder().decode(who.line().split(" ")[1]);
            try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
                s.setSoTimeout(2000);
                E2e.await(() -> Datagrams.handshake(s, address(), who.id(), secret), START_MILLIS, () -> daemon.name
                        + " never completed a handshake with " + who.name() + ": " + daemon.tail(10));
            }
        }

        /** The viewer certificate's SHA-256 fingerprint, as the server logs it at start (what viewers pin). */
        String fingerprint() {
            Matcher m = daemon.awaitLog("certificate SHA-256 fingerprint ([0-9A-F:]+)", START_MILLIS);
            return m.group(1);
        }

        /** A viewer connected to this server for the rest of the test (reconnecting if the server restarts). */
        ViewerMonitor viewer() throws Exception {
            ViewerMonitor v = new ViewerMonitor("viewer of " + daemon.name, viewerPort, fingerprint(),
                    ViewerAccount.token());
            viewers.add(v);
            v.awaitConnected(START_MILLIS);
            return v;
        }
    }

    /** Starts a server that accepts {@code accepts}; with a TLS viewer port if {@code withViewers}. */
    Server server(String name, List<Identity> accepts, boolean withViewers) throws Exception {
        int udp = E2e.freeUdpPort();
        int viewers = withViewers ? E2e.freeTcpPort() : 0;
        List<String> args = new ArrayList<>(List.of("--listen", "127.0.0.1:" + udp, "--redis", redisUris(),
                "--secrets", secrets(name, accepts).toString(), "--metrics", "off"));
        if (cluster) {
            args.add("--redis-cluster");
        }
        if (withViewers) {
            args.addAll(List.of("--viewers", "127.0.0.1:" + viewers, "--viewer-users", ViewerAccount.users()
                    .toString(), "--state-dir", Files.createDirectories(dir.resolve(name + "-state")).toString()));
        } else {
            args.addAll(List.of("--viewers", "off"));
        }
        Daemon d = daemon(name, javaCommand("processing-server", "org.glouglou.server.ServerMain", args));
        Server s = new Server(d, udp, viewers);
        d.start();
        s.awaitReady();
        return s;
    }

    /** A relay: its UDP port for probes (or downstream relays). */
    record Relay(Daemon daemon, int udpPort) {
        String hostPort() {
            return "127.0.0.1:" + udpPort;
        }
    }

    /** Starts relay {@code self} accepting {@code accepts}, forwarding to {@code upstreams} in order. */
    Relay relay(Identity self, List<Identity> accepts, List<String> upstreams) throws Exception {
        int udp = E2e.freeUdpPort();
        List<String> args = new ArrayList<>(List.of("--listen", "127.0.0.1:" + udp, "--secrets", secrets(self
                .name(), accepts).toString(), "--secret-file", self.file().toString(), "--name", self.name(),
                "--keep-privileges"));
        for (String u : upstreams) {
            args.add("--upstream");
            args.add(u);
        }
        Daemon d = daemon(self.name(), javaCommand("relay", "org.glouglou.relay.RelayMain", args));
        d.start();
        awaitUdpAnswers(d, udp);
        return new Relay(d, udp);
    }

    /**
     * Starts a probe {@code self} replaying {@code capture} (at capture speed if {@code realtime}), sending sealed to
     * {@code servers} in order.
     */
    Daemon probe(Identity self, Path capture, boolean realtime, List<String> servers) throws IOException {
        List<String> args = new ArrayList<>(List.of("--read", capture.toString(), "--secret-file", self.file()
                .toString(), "--name", self.name(), "--keep-privileges"));
        if (realtime) {
            args.add("--realtime");
        }
        for (String s : servers) {
            args.add("--server");
            args.add(s);
        }
        Daemon d = daemon(self.name(), javaCommand("probe", "org.glouglou.probe.ProbeMain", args));
        d.start();
        return d;
    }

    /**
     * Waits until a receiver (server or relay) answers on its UDP port: a HELLO from a probe id it does not know gets
     * an AUTH_FAIL (spec 5.2), which says it is bound and reading.
     */
    static void awaitUdpAnswers(Daemon d, int port) throws Exception {
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            s.setSoTimeout(200);
            byte[] buf = new byte[2048];
            E2e.await(() -> {
                if (!d.alive()) {
                    throw new IllegalStateException(d.name + " exited with " + d.exitCode());
                }
                byte[] hello = Datagrams.hello(0xFFFF_FFF0L);
                s.send(new DatagramPacket(hello, hello.length, InetAddress.getLoopbackAddress(), port));
                try {
                    s.receive(new DatagramPacket(buf, buf.length));
                    return true;
                } catch (SocketTimeoutException e) {
                    return false;
                }
            }, START_MILLIS, () -> d.name + " never answered on udp " + port + "; its log ends with:\n" + d.tail(
                    15));
        }
    }

    // ---------------------------------------------------------------- timeline

    /**
     * Waits until the servers know probe {@code self} (its status key {@code gg:probe:ID} is in Redis: its first
     * session is up and its replay under way); returns that moment (System.nanoTime).
     */
    long awaitSession(Identity self, Daemon probe) {
        E2e.await(() -> {
            if (!probe.alive()) {
                throw new IllegalStateException(probe.name + " exited with " + probe.exitCode() + ":\n" + probe.tail(
                        10));
            }
            return !state().probe(self.id()).isEmpty();
        }, START_MILLIS, () -> "no gg:probe:" + self.id() + " in Redis: " + self.name() + " never got a session; "
                + "its log ends with:\n" + probe.tail(10));
        return System.nanoTime();
    }

    /**
     * Lets the scenario run until {@code offsetMillis} after {@code startNanos} (a scheduled fault, not a wait for a
     * condition), checking meanwhile that {@code running} are all still running.
     */
    static void runUntil(long startNanos, long offsetMillis, Daemon... running) {
        long due = startNanos + offsetMillis * 1_000_000;
        while (System.nanoTime() < due) {
            for (Daemon d : running) {
                if (!d.alive()) {
                    throw new AssertionError(d.name + " exited (" + d.exitCode() + ") before the fault at +"
                            + offsetMillis + " ms:\n" + d.tail(10));
                }
            }
            E2e.sleep(Math.max(1, Math.min(20, (due - System.nanoTime()) / 1_000_000)));
        }
    }

    // ---------------------------------------------------------------- proxies

    /** A fault proxy in front of {@code upstream} (a server's or relay's UDP port). */
    FaultProxy proxy(String name, int upstreamPort, FaultProxy.Faults faults, long seed) throws IOException {
        FaultProxy p = new FaultProxy(name, 0, new InetSocketAddress(InetAddress.getLoopbackAddress(),
                upstreamPort), faults, seed);
        proxies.add(p);
        return p;
    }

    /** What the proxies did and what the viewers saw, for a failure message. */
    String describeHelpers() {
        List<String> s = new ArrayList<>();
        synchronized (proxies) {
            proxies.forEach(p -> s.add("proxy " + p.describe()));
        }
        synchronized (viewers) {
            viewers.forEach(v -> s.add(v.describe()));
        }
        return String.join("\n", s);
    }

    List<Daemon> daemons() {
        synchronized (daemons) {
            return new ArrayList<>(daemons);
        }
    }

    @Override
    public void close() {
        synchronized (viewers) {
            viewers.forEach(ViewerMonitor::close);
        }
        synchronized (proxies) {
            proxies.forEach(FaultProxy::close);
        }
        if (state != null) {
            state.close();
        }
        // probes first, then relays and servers, Redis last
        List<Daemon> all = daemons();
        Collections.reverse(all);
        all.forEach(Daemon::close);
    }
}
