package org.glouglou.relay;

import static org.glouglou.relay.RelayTestNet.identity;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lettuce.core.api.sync.RedisCommands;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import org.glouglou.protocol.DropReason;
import org.glouglou.protocol.ProtocolConstants;
import org.glouglou.protocol.RecordDecoder;
import org.glouglou.protocol.session.ProbeSecrets;
import org.glouglou.protocol.session.ProbeSession;
import org.glouglou.protocol.transport.ExportPipeline;
import org.glouglou.protocol.transport.Uplink;
import org.glouglou.relay.RelayTestNet.Identity;
import org.glouglou.server.GlouglouServer;
import org.glouglou.spi.Event;
import org.glouglou.spi.testkit.RedisServerProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A shared capture replayed through probe -> relay -> relay -> server leaves the same graph in Redis as sent straight
 * to the server, every event attributed to the probe that captured it, the path known, every payload acknowledged
 * durable back at the probe through both relays (spec 5.6, 5.8); an unknown probe is refused at the relay and the
 * refusal reaches the server in the relay's STATS. Real sockets on loopback, a real redis-server, the real server.
 */
class RelayChainIT {
    @RegisterExtension
    static final RedisServerProcess REDIS = new RedisServerProcess();

    static final Identity PROBE = identity(7, "captor");
    static final Identity R1 = identity(101, "site-relay");
    static final Identity R2 = identity(102, "dmz-relay");

    @ParameterizedTest
    @ValueSource(strings = {"web_browsing__ntopng-e2e_test_01.pcap", "linktype_sll__ndpi_KakaoTalk_talk.pcap"})
    void chainOfTwoRelaysGivesTheSameGraphAsADirectSend(String capture) throws Exception {
        RedisCommands<String, String> r = REDIS.sync();
        r.flushall();
        Map<String, Map<String, String>> direct;
        try (GlouglouServer server = RelayTestNet.server(REDIS.uri(), List.of(PROBE, R1, R2))) {
            RelayTestNet.replay(RelayTestNet.capture(capture), PROBE, server.udpAddress());
            direct = RelayTestNet.settledGraph(r);
        }
        assertFalse(direct.isEmpty());

        r.flushall();
        try (GlouglouServer server = RelayTestNet.server(REDIS.uri(), List.of(PROBE, R1, R2));
                Relay r2 = RelayTestNet.relay(R2, List.of(R1), 4096, server.udpAddress());
                Relay r1 = RelayTestNet.relay(R1, List.of(PROBE), 4096, r2.address())) {
            assertTrue(RelayTestNet.waitFor(() -> r1.uplink().established() && r2.uplink().established(), 10_000));
            long sent = RelayTestNet.replay(RelayTestNet.capture(capture), PROBE, r1.address());
            Map<String, Map<String, String>> chained = RelayTestNet.settledGraph(r);

            assertEquals(direct.keySet(), chained.keySet(), capture + ": the same nodes, links and names");
            assertEquals(direct, chained, capture + ": the same values");
            for (Map.Entry<String, Map<String, String>> e : chained.entrySet()) {
                for (String f : e.getValue().keySet()) {
                    assertFalse(f.equals("seen.101") || f.equals("seen.102"), e.getKey()
                            + " is attributed to a relay");
                }
            }
            assertTrue(chained.entrySet().stream().filter(e -> e.getKey().startsWith("gg:node:")).allMatch(e -> e
                    .getValue().containsKey("seen.7")), "every node seen by the probe that captured it");

            Map<String, String> status = r.hgetall("gg:probe:7");
            assertEquals("101,102", status.get("path"), "path, nearest the origin first");
            assertEquals("captor", status.get("name"));
            assertEquals("0", status.get("lost"), "nothing lost on loopback: " + status);
            assertEquals(String.valueOf(sent), status.get("datagrams"),
                    "every origin datagram (PING and BYE included) reached the server once");
            Map<String, Long> c1 = r1.counters();
            assertEquals(0L, c1.get("forward_dropped_events"), c1.toString());
            assertEquals(0L, c1.get("forward_dropped_datagrams"), c1.toString());
            assertTrue(RelayTestNet.waitFor(() -> r.hget("gg:probe:101", "stat.forwarded_events") != null, 5000),
                    "the first relay's STATS reach the server through the second, attributed to it");
            assertEquals("102", r.hget("gg:probe:101", "path"));
            assertTrue(Long.parseLong(r.hget("gg:probe:102", "stat.forwards")) > 0,
                    "the second relay reports in its own session");
            System.out.printf("%s: %d keys equal; probe sent %d datagrams; relay 1 %s%n", capture, chained.size(),
                    sent, c1);
        }
    }

    /**
     * The relay beside a probe (glouglou probe --relay-listen): it forwards through the probe's own uplink, and the
     * acknowledgements come back through it to the probe behind.
     */
    @Test
    void relayBesideAProbeForwardsThroughTheProbesUplink() throws Exception {
        RedisCommands<String, String> r = REDIS.sync();
        r.flushall();
        Identity host = identity(8, "gateway-probe");
        try (GlouglouServer server = RelayTestNet.server(REDIS.uri(), List.of(PROBE, host))) {
            ExportPipeline pipeline = new ExportPipeline(RelayTestNet.REGISTRY, ProtocolConstants.DEFAULT_MAX_DATAGRAM,
                    1024, false);
            ProbeSession session = new ProbeSession(RelayTestNet.REGISTRY, host.id(), host.secret(), "gw", "test",
                    false);
            try (Uplink uplink = new Uplink(List.of(server.udpAddress()), session, RelayTestNet.REGISTRY, pipeline,
                    Uplink.Config.defaults());
                    Relay beside = new Relay(RelayTestNet.REGISTRY, Relay.Settings.defaults(new InetSocketAddress(
                            "127.0.0.1", 0), ProbeSecrets.load(RelayTestNet.secretsFile(List.of(PROBE)))), host.id(),
                            pipeline, null)) {
                beside.bind();
                uplink.onEvent(beside.core()::onUpstreamEvent); // as ProbeMain does: route the FORWARD_ACKs back
                beside.start();
                uplink.start();
                RelayTestNet.replay(RelayTestNet.capture("linktype_sll__ndpi_KakaoTalk_talk.pcap"), PROBE, beside
                        .address());
                Map<String, Map<String, String>> g = RelayTestNet.settledGraph(r);
                assertTrue(g.keySet().stream().anyMatch(k -> k.startsWith("gg:node:")));
                assertTrue(g.entrySet().stream().filter(e -> e.getKey().startsWith("gg:node:")).allMatch(e -> e
                        .getValue().containsKey("seen.7") && !e.getValue().containsKey("seen.8")));
                assertEquals("8", r.hget("gg:probe:7", "path"));
                assertEquals("0", r.hget("gg:probe:7", "lost"));
            }
        }
    }

    @Test
    void unknownProbeIsRefusedAtTheRelayAndCounted() throws Exception {
        RedisCommands<String, String> r = REDIS.sync();
        try (GlouglouServer server = RelayTestNet.server(REDIS.uri(), List.of(PROBE, R1));
                Relay r1 = RelayTestNet.relay(R1, List.of(PROBE), 64, server.udpAddress());
                DatagramSocket s = new DatagramSocket()) {
            s.setSoTimeout(2000);
            Identity stranger = identity(55, "stranger");
            ProbeSession session = new ProbeSession(RelayTestNet.REGISTRY, stranger.id(), stranger.secret(), "x",
                    "test", false);
            byte[] hello = toBytes(session.hello(System.currentTimeMillis() * 1000));
            s.send(new DatagramPacket(hello, hello.length, r1.address()));
            DatagramPacket p = new DatagramPacket(new byte[1500], 1500);
            s.receive(p);
            session.receive(io.netty.buffer.Unpooled.wrappedBuffer(p.getData(), 0, p.getLength()), 0,
                    new RecordDecoder.Listener() {
                        @Override
                        public void onEvent(long t, Event e) {
                        }

                        @Override
                        public void onSkipped(DropReason reason, String detail) {
                        }
                    });
            assertEquals(ProbeSession.State.IDLE, session.state());
            assertTrue(session.lastFailure().contains("not known"), session.lastFailure());
            // the AUTH_FAIL leaves before the drop is counted on the relay's thread
            assertTrue(RelayTestNet.waitFor(() -> Long.valueOf(1).equals(r1.counters().get("drops_unknown_probe")),
                    2000), r1.counters().toString());
            assertTrue(RelayTestNet.waitFor(() -> "1".equals(r.hget("gg:probe:101", "stat.drops_unknown_probe")),
                    5000), "the refusal reaches the server in the relay's STATS");
            assertEquals(0L, r1.counters().get("probes"));
        }
    }

    static byte[] toBytes(io.netty.buffer.ByteBuf b) {
        byte[] a = new byte[b.readableBytes()];
        b.readBytes(a);
        return a;
    }
}
