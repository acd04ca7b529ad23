package org.glouglou.relay;

import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanIterator;
import io.lettuce.core.api.sync.RedisCommands;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.glouglou.protocol.ProtocolConstants;
import org.glouglou.protocol.session.ProbeSecrets;
import org.glouglou.protocol.session.ProbeSession;
import org.glouglou.protocol.transport.ExportPipeline;
import org.glouglou.protocol.transport.Uplink;
import org.glouglou.server.GlouglouServer;
import org.glouglou.server.ServerConfig;
import org.glouglou.spi.GlouglouModule;
import org.glouglou.spi.ModuleRegistry;
import org.glouglou.spi.ProbeSource;
import org.glouglou.spi.server.ServerSettings;
import picocli.CommandLine;

/** Test support for the relay ITs: identities, a real server, relays on loopback, a capture replayed as a probe. */
final class RelayTestNet {
    static final ModuleRegistry REGISTRY = ModuleRegistry.load();
    /** TTLs far longer than any test, so nothing expires under an assertion; tick 100 ms as in production. */
    static final ServerSettings SETTINGS = new ServerSettings(100, 3600, 3600, 3600, 3600, 3600, 131_072);

    private RelayTestNet() {
    }

    /** One identity: its secret line. */
    record Identity(long id, String line) {
        byte[] secret() {
            return Base64.getDecoder().decode(line.split(" ")[1]);
        }

        Path file() throws Exception {
            return secretsFile(List.of(this));
        }
    }

    static Identity identity(long id, String name) {
        return new Identity(id, ProbeSecrets.newLine(id, name));
    }

    static Path secretsFile(List<Identity> ids) throws Exception {
        Path f = Files.createTempFile("gg-secrets", ".txt");
        StringBuilder b = new StringBuilder("# test\n");
        for (Identity i : ids) {
            b.append(i.line()).append('\n');
        }
        Files.writeString(f, b);
        f.toFile().deleteOnExit();
        return f;
    }

    static GlouglouServer server(String redisUri, List<Identity> known) throws Exception {
        GlouglouServer s = new GlouglouServer(ServerConfig.forTest(redisUri, secretsFile(known), false, SETTINGS),
                REGISTRY);
        s.bind();
        s.start();
        return s;
    }

    /** A standalone relay with its own uplink, listening on a free loopback port. */
    static Relay relay(Identity self, List<Identity> probes, int queue, InetSocketAddress... upstreams)
            throws Exception {
        ExportPipeline pipeline = new ExportPipeline(REGISTRY, ProtocolConstants.DEFAULT_MAX_DATAGRAM, queue, false);
        ProbeSession session = new ProbeSession(REGISTRY, self.id(), self.secret(), "relay-" + self.id(),
                "glouglou-relay test", false);
        Uplink uplink = new Uplink(List.of(upstreams), session, REGISTRY, pipeline, Relay.uplinkConfig());
        Relay.Settings s = new Relay.Settings(new InetSocketAddress("127.0.0.1", 0), ProbeSecrets.load(secretsFile(
                probes)), ProtocolConstants.DEFAULT_MAX_DATAGRAM, 1e6, 10, 1, queue);
        Relay r = new Relay(REGISTRY, s, self.id(), pipeline, uplink);
        r.bind();
        r.start();
        return r;
    }

    static Path capture(String name) {
        return Path.of(System.getProperty("glouglou.pcaps", "../../shared/pcaps")).resolve(name);
    }

    /**
     * Replays a capture file as the probe would (the network module's source, the export pipeline that blocks for a
     * file, an uplink with its resend buffer), to {@code to}; returns once every payload is acknowledged durable (spec
     * 5.8), failing if they are not within 30 s. Returns the probe's last sequence number.
     */
    static long replay(Path pcap, Identity probe, InetSocketAddress to) throws Exception {
        GlouglouModule network = REGISTRY.modules().stream().filter(m -> m.probeSource() != null && m.name().equals(
                "network")).findFirst().orElseThrow();
        ProbeSource.Factory f = network.probeSource();
        Object opts = f.options();
        new CommandLine(opts).parseArgs("-r", pcap.toString());
        ExportPipeline pipeline = new ExportPipeline(REGISTRY, ProtocolConstants.DEFAULT_MAX_DATAGRAM, 1024, true);
        ProbeSource source = f.create(opts, new ProbeSource.Context() {
            @Override
            public List<InetSocketAddress> exportDestinations() {
                return List.of(to);
            }

            @Override
            public int tickMillis() {
                return 100;
            }
        });
        source.openPrivileged();
        ProbeSession session = new ProbeSession(REGISTRY, probe.id(), probe.secret(), "replay", "glouglou-probe test",
                false);
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
        try (Uplink uplink = new Uplink(List.of(to), session, REGISTRY, pipeline, Uplink.Config.defaults())) {
            uplink.start();
            waitFor(uplink::established, 10_000);
            timer.scheduleAtFixedRate(pipeline::flush, 100, 100, TimeUnit.MILLISECONDS);
            source.run(pipeline);
            pipeline.flush();
            if (!uplink.drain(30_000)) {
                throw new AssertionError(uplink.unacknowledged() + " payloads not acknowledged durable within 30 s");
            }
            return session.sequence();
        } finally {
            timer.shutdownNow();
            source.close();
        }
    }

    static boolean waitFor(BooleanSupplier c, long millis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + millis;
        while (System.currentTimeMillis() < deadline) {
            try {
                if (c.getAsBoolean()) {
                    return true;
                }
            } catch (RuntimeException e) {
                // not there yet
            }
            Thread.sleep(20);
        }
        return c.getAsBoolean();
    }

    /**
     * The graph state: every gg:node, gg:link and gg:name key with its fields, without what depends on when the
     * server received things (first_seen/last_seen are kept: they are the probe's capture times; the rate window and
     * the seen.* times are not compared, only which probe saw a node).
     */
    static Map<String, Map<String, String>> graph(RedisCommands<String, String> r) {
        Map<String, Map<String, String>> out = new TreeMap<>();
        for (String pattern : List.of("gg:node:*", "gg:link:*", "gg:name:*")) {
            ScanIterator<String> it = ScanIterator.scan(r, ScanArgs.Builder.matches(pattern).limit(1000));
            while (it.hasNext()) {
                String k = it.next();
                Map<String, String> fields = new TreeMap<>(r.hgetall(k));
                fields.remove("rate_ab");
                fields.remove("rate_ba");
                for (String f : new ArrayList<>(fields.keySet())) {
                    if (f.startsWith("seen.")) {
                        fields.put(f, "*");
                    }
                }
                out.put(k, fields);
            }
        }
        return out;
    }

    /** Waits until the graph stops changing (every hop drained, the server wrote its last tick); returns it. */
    static Map<String, Map<String, String>> settledGraph(RedisCommands<String, String> r) throws Exception {
        Map<String, Map<String, String>> last = graph(r);
        long deadline = System.currentTimeMillis() + 60_000;
        int stable = 0;
        while (System.currentTimeMillis() < deadline && stable < 3) {
            Thread.sleep(400);
            Map<String, Map<String, String>> now = graph(r);
            stable = now.equals(last) && !now.isEmpty() ? stable + 1 : 0;
            last = now;
        }
        return last;
    }
}
