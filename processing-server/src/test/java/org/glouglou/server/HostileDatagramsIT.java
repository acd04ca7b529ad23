package org.glouglou.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lettuce.core.api.sync.RedisCommands;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.glouglou.module.network.FlowKey;
import org.glouglou.module.network.NetworkEvents;
import org.glouglou.protocol.PayloadBuilder;
import org.glouglou.protocol.ProtocolConstants;
import org.glouglou.protocol.session.ProbeSession;
import org.glouglou.server.metrics.ServerMetrics;
import org.glouglou.spi.ModuleRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.glouglou.spi.testkit.RedisServerProcess;

/**
 * Forged (bad tag), replayed, malformed, unknown-probe, unknown-module and unsealed datagrams change nothing in the
 * graph's state in Redis and are counted by reason; the server keeps serving the real probe afterwards.
 */
class HostileDatagramsIT {
    @RegisterExtension
    static final RedisServerProcess REDIS = new RedisServerProcess();

    static PayloadBuilder builderWith(ModuleRegistry reg, GroundTruth.Timed t) {
        PayloadBuilder b = new PayloadBuilder(reg, ProtocolConstants.DEFAULT_MAX_DATAGRAM, 1000);
        b.add(t.timeMicros(), t.event());
        return b;
    }

    static double drops(ServerMetrics m, String reason) {
        return m.drops.labelValues(reason).get();
    }

    static GroundTruth.Timed data(long conn, long pkts) {
        return new GroundTruth.Timed(FakeProbe.now(), new NetworkEvents.Data(conn, pkts, pkts * 100, 0, 0, null));
    }

    @Test
    void hostileDatagramsChangeNothingAndAreCountedByReason() throws Exception {
        RedisCommands<String, String> r = REDIS.sync();
        r.flushall();
        IngestFixture fx = new IngestFixture();
        try (GlouglouServer server = fx.server(REDIS.uri(), true); FakeProbe probe = fx.probe(server)) {
            ServerMetrics m = server.metrics();
            FlowKey flow = new FlowKey(6, InetAddress.getByName("10.0.0.1"), 1234, InetAddress.getByName(
                    "10.0.0.2"), 80);
            IngestFixture.send(probe, List.of(new GroundTruth.Timed(FakeProbe.now(), new NetworkEvents.NewConn(1,
                    flow)), data(1, 3)));
            String link = "gg:link:10.0.0.1|10.0.0.2";
            assertTrue(IngestFixture.waitFor(() -> "3".equals(r.hget(link, "pkts_ab")), 10_000));
            Map<String, Map<String, String>> before = GroundTruth.dump(r);
            byte[] good = probe.sent.get(probe.sent.size() - 1);

            // replayed: the same sealed datagram again
            probe.sendBytes(good);
            // forged: a fresh sealed datagram with one ciphertext bit flipped
            ByteBuf sealed = probe.session.seal(builderWith(fx.registry, data(1, 1000)));
            byte[] forged = ByteBufUtil.getBytes(sealed);
            sealed.release();
            forged[ProtocolConstants.HEADER_LENGTH + 2] ^= 0x10;
            // malformed: too short for a header, and a wrong version
            byte[] shortOne = new byte[10];
            byte[] badVersion = Arrays.copyOf(good, good.length);
            badVersion[0] = 9;
            // unknown probe: a HELLO from a probe the secrets file does not list
            ModuleRegistry reg = fx.registry;
            ProbeSession stranger = new ProbeSession(reg, 99, new byte[32], "stranger", "test", false);
            ByteBuf hello = stranger.hello(FakeProbe.now());
            // unsealed: events sent in the clear to a server that requires sealing
            PayloadBuilder b = new PayloadBuilder(reg, ProtocolConstants.DEFAULT_MAX_DATAGRAM, 1000);
            b.add(FakeProbe.now(), data(1, 5000).event());
            ByteBuf plain = b.finish(IngestFixture.PROBE, probe.session.sessionId(), 999_999, null);
            // random garbage of datagram sizes
            Random rnd = new Random(4);
            byte[][] garbage = new byte[50][];
            for (int i = 0; i < garbage.length; i++) {
                garbage[i] = new byte[rnd.nextInt(1400)];
                rnd.nextBytes(garbage[i]);
            }
            probe.keep = false;
            probe.sendBytes(forged);
            probe.sendBytes(shortOne);
            probe.sendBytes(badVersion);
            probe.sendRaw(hello);
            probe.sendRaw(plain);
            for (byte[] g : garbage) {
                probe.sendBytes(g);
            }
            // unknown module: a sealed, authentic datagram whose record belongs to module 200
            byte[] unknownModule = sealedWithForeignRecord(probe);
            probe.sendBytes(unknownModule);
            Thread.sleep(500); // five ticks

            assertEquals(before, GroundTruth.dump(r), "no hostile datagram changed the graph state");
            assertTrue(drops(m, "replayed") >= 1, "replayed counted");
            assertTrue(drops(m, "bad_tag") >= 1, "forged counted");
            assertTrue(drops(m, "truncated_header") >= 1, "short counted");
            assertTrue(drops(m, "bad_version") >= 1, "bad version counted");
            assertTrue(drops(m, "unknown_probe") >= 1, "unknown probe counted");
            assertTrue(drops(m, "unsealed_refused") >= 1, "unsealed counted");
            assertEquals(1, drops(m, "unknown_module"), "unknown module record counted");
            double dropped = m.datagrams.labelValues("dropped").get();
            assertTrue(dropped >= 56, "whole datagrams dropped: " + dropped);

            // the real probe is still served (DATA is cumulative: 7 packets since the NEWCONN)
            IngestFixture.send(probe, List.of(data(1, 7)));
            assertTrue(IngestFixture.waitFor(() -> "7".equals(r.hget(link, "pkts_ab")), 10_000));

            // and the drops are visible on the metrics endpoint
            String text = scrape(server);
            assertTrue(text.contains("glouglou_server_drops_total{reason=\"bad_tag\"}"), text);
            assertFalse(text.isEmpty());
        }
    }

    /** A module only the probe has: the server's registry does not know id 200. */
    record Foreign(long x) implements org.glouglou.spi.Event {
        static final org.glouglou.spi.EventType TYPE = new org.glouglou.spi.EventType(200, 1, "FOREIGN");

        @Override
        public org.glouglou.spi.EventType type() {
            return TYPE;
        }
    }

    static final class ForeignModule implements org.glouglou.spi.GlouglouModule {
        @Override
        public int id() {
            return 200;
        }

        @Override
        public String name() {
            return "foreign";
        }

        @Override
        public String version() {
            return "0";
        }

        @Override
        public List<org.glouglou.spi.EventCodec<?>> codecs() {
            return List.of(new org.glouglou.spi.BaseEventCodec<Foreign>(Foreign.TYPE, Foreign.class, 10) {
                @Override
                public void encode(Foreign e, ByteBuf out) {
                    org.glouglou.protocol.Varint.write(out, e.x());
                }

                @Override
                public Foreign decode(ByteBuf in) throws org.glouglou.protocol.ProtocolException {
                    return new Foreign(org.glouglou.protocol.Varint.read(in));
                }

                @Override
                public void writeJson(Foreign e, com.fasterxml.jackson.databind.node.ObjectNode node) {
                    node.put("x", e.x());
                }

                @Override
                public Foreign readJson(com.fasterxml.jackson.databind.node.ObjectNode node) {
                    return new Foreign(node.path("x").asLong());
                }
            });
        }
    }

    /** A datagram sealed under the real session holding one record of module 200. */
    static byte[] sealedWithForeignRecord(FakeProbe probe) {
        ModuleRegistry withForeign = new ModuleRegistry(List.of(new ForeignModule()));
        PayloadBuilder b = new PayloadBuilder(withForeign, ProtocolConstants.DEFAULT_MAX_DATAGRAM, 1000);
        b.add(FakeProbe.now(), new Foreign(42));
        ByteBuf d = probe.session.seal(b);
        byte[] bytes = ByteBufUtil.getBytes(d);
        d.release();
        return bytes;
    }

    static String scrape(GlouglouServer s) throws Exception {
        HttpResponse<String> resp = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                "http://127.0.0.1:" + s.metricsPort() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        return resp.body();
    }
}
