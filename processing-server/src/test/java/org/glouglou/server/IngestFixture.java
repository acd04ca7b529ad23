package org.glouglou.server;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.glouglou.protocol.session.ProbeSecrets;
import org.glouglou.spi.ModuleRegistry;
import org.glouglou.spi.server.ServerSettings;

/** Test support: a server on loopback against a test Redis, with two known probes, and pacing helpers. */
final class IngestFixture {
    static final long PROBE = 7;
    static final long PROBE2 = 8;
    /** TTLs far longer than any test, so nothing expires under an assertion; tick 100 ms as in production. */
    static final ServerSettings SETTINGS = new ServerSettings(100, 3600, 3600, 3600, 3600, 3600, 131_072);

    final ModuleRegistry registry = ModuleRegistry.load();
    final byte[] secret;
    final byte[] secret2;
    final Path secrets;

    IngestFixture() throws Exception {
        String line = ProbeSecrets.newLine(PROBE, "replay");
        String line2 = ProbeSecrets.newLine(PROBE2, "second");
        secret = Base64.getDecoder().decode(line.split(" ")[1]);
        secret2 = Base64.getDecoder().decode(line2.split(" ")[1]);
        secrets = Files.createTempFile("gg-secrets", ".txt");
        Files.writeString(secrets, "# test\n" + line + "\n" + line2 + "\n");
    }

    GlouglouServer server(String redisUri) throws Exception {
        return server(redisUri, false);
    }

    GlouglouServer server(String redisUri, boolean metrics) throws Exception {
        return server(redisUri, metrics, SETTINGS);
    }

    GlouglouServer server(String redisUri, boolean metrics, ServerSettings settings) throws Exception {
        ServerConfig c = ServerConfig.forTest(redisUri, secrets, false, settings);
        if (metrics) {
            c = new ServerConfig(c.listen(), c.redisUri(), c.secrets(), false, new java.net.InetSocketAddress(
                    "127.0.0.1", 0), c.settings(), c.maxKeys(), c.rateLimit(), c.maxInflight(), false, null, null);
        }
        GlouglouServer s = new GlouglouServer(c, registry);
        s.bind();
        s.start();
        return s;
    }

    FakeProbe probe(GlouglouServer s) throws Exception {
        return new FakeProbe(registry, PROBE, secret, s.udpAddress()).connect();
    }

    /** A probe ({@link #PROBE} or {@link #PROBE2}) of a given boot: a new session of that run. */
    FakeProbe probe(GlouglouServer s, long id, long boot) throws Exception {
        return new FakeProbe(registry, id, id == PROBE ? secret : secret2, s.udpAddress(), boot).connect();
    }

    /** Sends events sealed, pacing so the loopback socket buffer never overflows (loss would fail the test). */
    static void send(FakeProbe p, List<GroundTruth.Timed> events) throws Exception {
        int before = p.sent.size();
        for (GroundTruth.Timed t : events) {
            p.add(t.timeMicros(), t.event());
            if (p.sent.size() - before >= 8) {
                before = p.sent.size();
                Thread.sleep(1);
            }
        }
        p.flush();
    }

    static boolean waitFor(BooleanSupplier c, long millis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + millis;
        while (System.currentTimeMillis() < deadline) {
            try {
                if (c.getAsBoolean()) {
                    return true;
                }
            } catch (RuntimeException e) {
                // Redis not back yet
            }
            Thread.sleep(100);
        }
        return c.getAsBoolean();
    }
}
