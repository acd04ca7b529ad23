package org.glouglou.viz.text;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.glouglou.protocol.session.ProbeSecrets;
import org.glouglou.server.GlouglouServer;
import org.glouglou.server.ServerConfig;
import org.glouglou.server.viz.ViewerServer;
import org.glouglou.server.viz.ViewerServerConfig;
import org.glouglou.server.viz.ViewerUsers;
import org.glouglou.spi.ModuleRegistry;
import org.glouglou.spi.server.ServerSettings;

/**
 * Test support for the viewers (issue 6): the whole pipeline on loopback, real parts only. A real redis-server on a
 * free port, the real processing server with its TLS viewer listener in this JVM, and the real probe
 * ({@code ProbeMain.run}) replaying a shared capture into it. One viewer, alice, with password {@link #PASSWORD}.
 */
public final class Pipeline implements AutoCloseable {
    public static final String USER = "alice";
    public static final String PASSWORD = "correct horse battery";
    /** TTLs far longer than any test, so nothing expires under an assertion; tick 100 ms as in production. */
    static final ServerSettings SETTINGS = new ServerSettings(100, 3600, 3600, 3600, 3600, 3600, 131_072);

    public final Path dir;
    private final Process redis;
    private final int redisPort;
    private final GlouglouServer server;
    private final ViewerServer viewers;
    private final Path probeSecret;
    public final int viewerPort;
    public final String fingerprint;
    public final Path passwordFile;

    public Pipeline() throws Exception {
        dir = Files.createTempDirectory("gg-viewers");
        redisPort = freePort();
        redis = new ProcessBuilder("redis-server", "--port", String.valueOf(redisPort), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", dir.toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("redis.log").toFile()).start();
        waitForRedis();
        String line = ProbeSecrets.newLine(7, "replay");
        probeSecret = dir.resolve("probe.secret");
        Files.writeString(probeSecret, line + "\n");
        ModuleRegistry registry = ModuleRegistry.load();
        server = new GlouglouServer(ServerConfig.forTest(redisUri(), probeSecret, false, SETTINGS), registry);
        server.bind();
        server.start();
        Path users = dir.resolve("viewers");
        Files.writeString(users, USER + " " + ViewerUsers.hash(PASSWORD) + "\n");
        passwordFile = dir.resolve("password");
        Files.writeString(passwordFile, PASSWORD + "\n");
        viewers = new ViewerServer(ViewerServerConfig.forTest(users, dir.resolve("state"), false), ViewerUsers.load(
                users), redisUri(), registry, SETTINGS.tickMillis());
        viewerPort = viewers.bind().getPort();
        viewers.start();
        fingerprint = viewers.fingerprint();
    }

    public String redisUri() {
        return "redis://127.0.0.1:" + redisPort;
    }

    public static Path capture(String name) {
        return Path.of(System.getProperty("glouglou.pcaps", "../../shared/pcaps")).resolve(name);
    }

    /** Replays a capture through the real probe, as fast as the server takes it; returns the probe's exit code. */
    public int replay(Path pcap) {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        PrintStream quiet = new PrintStream(sink, true);
        return org.glouglou.probe.ProbeMain.run(new String[]{"--server", "127.0.0.1:" + server.udpAddress()
                .getPort(), "--secret-file", probeSecret.toString(), "--read", pcap.toString(), "--keep-privileges"},
                quiet, quiet);
    }

    /** The connection options every viewer test starts from: pinned, with alice's password file. */
    public String[] login(String... more) {
        String[] base = {"--server", "127.0.0.1:" + viewerPort, "--pin", fingerprint, "--user", USER,
                "--password-file", passwordFile.toString()};
        String[] all = new String[base.length + more.length];
        System.arraycopy(base, 0, all, 0, base.length);
        System.arraycopy(more, 0, all, base.length, more.length);
        return all;
    }

    /** Hosts in Redis (gg:node:ADDR): the graph's node ids. */
    public TreeSet<String> redisNodes() {
        try (RedisClient c = RedisClient.create(redisUri()); StatefulRedisConnection<String, String> k = c.connect()) {
            TreeSet<String> s = new TreeSet<>();
            k.sync().keys("gg:node:*").forEach(key -> s.add(key.substring("gg:node:".length())));
            return s;
        }
    }

    /** Host pairs in Redis (gg:link:A|B): "A|B bytes_ab bytes_ba" each. */
    public Map<String, String> redisLinks() {
        try (RedisClient c = RedisClient.create(redisUri()); StatefulRedisConnection<String, String> k = c.connect()) {
            Map<String, String> m = new TreeMap<>();
            for (String key : k.sync().keys("gg:link:*")) {
                Map<String, String> h = k.sync().hgetall(key);
                m.put(key.substring("gg:link:".length()), h.getOrDefault("bytes_ab", "0") + " " + h.getOrDefault(
                        "bytes_ba", "0"));
            }
            return m;
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private void waitForRedis() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", redisPort), 200);
                s.getOutputStream().write("PING\r\n".getBytes());
                byte[] b = new byte[7];
                int n = s.getInputStream().read(b);
                if (n > 0 && new String(b, 0, n).startsWith("+PONG")) {
                    return;
                }
            } catch (IOException e) {
                // not up yet
            }
            Thread.sleep(20);
        }
        throw new IllegalStateException("redis-server did not answer within 10 s: " + Files.readString(dir.resolve(
                "redis.log")));
    }

    @Override
    public void close() {
        viewers.close();
        server.close();
        redis.destroyForcibly();
        try {
            redis.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
