package org.glouglou.spi.testkit;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real {@code redis-server} on a free loopback port for integration tests (issue 4: no embedded fakes). Use as a
 * static {@code @RegisterExtension} field; it starts before the class's tests and is killed after. It can be stopped
 * and started again on the same port to test outages. Never touches a system Redis.
 */
public final class RedisServerProcess implements BeforeAllCallback, AfterAllCallback {
    private int port;
    private Process process;
    private Path dir;
    private RedisClient client;
    private StatefulRedisConnection<String, String> connection;

    /** Starts outside JUnit (the bench). */
    public RedisServerProcess startStandalone() throws Exception {
        beforeAll(null);
        return this;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        port = freePort();
        dir = Files.createTempDirectory("gg-redis");
        start();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (connection != null) {
            connection.close();
        }
        if (client != null) {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(1));
        }
        stop();
    }

    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** Starts redis-server (again) on this fixture's port, empty, and waits until it answers PING. */
    public void start() throws Exception {
        process = new ProcessBuilder("redis-server", "--port", String.valueOf(port), "--bind", "127.0.0.1", "--save",
                "", "--appendonly", "no", "--dir", dir.toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("redis.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            if (answersPing(port)) {
                return;
            }
            if (!process.isAlive()) {
                throw new IllegalStateException("redis-server exited: " + Files.readString(dir.resolve(
                        "redis.log")));
            }
            Thread.sleep(20);
        }
        throw new IllegalStateException("redis-server on port " + port + " did not answer PING within 10 s");
    }

    /** Whether a redis-server on loopback {@code port} answers PING (one plain socket, no client state). */
    public static boolean answersPing(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 200);
            s.getOutputStream().write("PING\r\n".getBytes());
            byte[] b = new byte[7];
            int n = s.getInputStream().read(b);
            return n > 0 && new String(b, 0, n).startsWith("+PONG");
        } catch (IOException e) {
            return false;
        }
    }

    /** Kills redis-server (SIGKILL: no save, like a crash). */
    public void stop() {
        if (process != null) {
            process.destroyForcibly();
            try {
                process.waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            process = null;
        }
    }

    public int port() {
        return port;
    }

    public String uri() {
        return "redis://127.0.0.1:" + port;
    }

    /** A synchronous connection for assertions (reconnects by itself after a restart). */
    public RedisCommands<String, String> sync() {
        if (client == null) {
            client = RedisClient.create(uri());
            connection = client.connect();
        }
        return connection.sync();
    }
}
