package org.glouglou.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.lettuce.core.api.sync.RedisCommands;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.glouglou.spi.testkit.RedisServerProcess;
import org.glouglou.module.network.server.NetworkKeys;
import org.glouglou.server.viz.ViewerServer;
import org.glouglou.server.viz.ViewerServerConfig;
import org.glouglou.server.viz.ViewerUsers;
import org.glouglou.spi.testkit.RedisServerProcess;
import org.glouglou.viewer.ViewerConnection;
import org.glouglou.viewer.ViewerRefusedException;
import org.glouglou.viewer.ViewerTrust;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Issue 5: the live graph stream, end to end. Each shared capture's ground truth is replayed into the server as a
 * sealed probe session; viewers connected over real TLS (pinned fingerprint) must then hold, at a step marker, exactly
 * the hosts and host pairs (with exact per-direction totals) that Redis and the ground truth hold: one decoded by
 * gs-core's NetStreamDecoder into a GraphStream graph, one from the Gephi JSON lines, one that connected after the
 * replay (snapshot only). Then filters and configuration changes, a slow viewer, a Redis restart and refusals.
 */
class ViewerStreamIT {
    @RegisterExtension
    static final RedisServerProcess REDIS = new RedisServerProcess();
    static Path users;
    static final long WAIT = 30_000;

    @BeforeAll
    static void users() throws Exception {
        users = TestViewer.aliceUsers();
    }

    /** The ingest server and a viewer listener on loopback against the test Redis. */
    static final class Servers implements AutoCloseable {
        final IngestFixture fx = new IngestFixture();
        final GlouglouServer server;
        final ViewerServer viewers;
        final int port;

        static volatile Servers current;

        Servers() throws Exception {
            current = this;
            server = fx.server(REDIS.uri());
            viewers = new ViewerServer(ViewerServerConfig.forTest(users, Files.createTempDirectory("gg-state"),
                    false), ViewerUsers.load(users), REDIS.uri(), fx.registry, IngestFixture.SETTINGS.tickMillis());
            viewers.metrics(server.metrics());
            port = viewers.bind().getPort();
            viewers.start();
        }

        TestViewer viewer(String format, JsonNode config) throws IOException {
            return new TestViewer(port, viewers.fingerprint(), format, config);
        }

        @Override
        public void close() {
            viewers.close();
            server.close();
        }
    }

    /** Every shared capture, the 37k-host SYN flood included. */
    static List<String> captures() throws Exception {
        return GroundTruth.names();
    }

    static JsonNode json(String s) throws IOException {
        return TestViewer.JSON.readTree(s);
    }

    static void converge(TestViewer v, TestViewer.Summary want, String what) throws InterruptedException {
        v.converge(want, what, Servers.current.viewers, WAIT, REDIS.sync());
    }

    @ParameterizedTest
    @MethodSource("captures")
    void viewersHoldTheGraphOfRedisAndTheGroundTruth(String capture) throws Exception {
        RedisCommands<String, String> r = REDIS.sync();
        r.flushall();
        GroundTruth truth = new GroundTruth(capture);
        try (Servers s = new Servers();
                TestViewer ns = s.viewer("netstream", null);
                TestViewer js = s.viewer("json", null);
                FakeProbe probe = s.fx.probe(s.server)) {
            IngestFixture.send(probe, truth.nameEvents());
            IngestFixture.send(probe, truth.events(0, truth.flows.size()));
            int n = truth.flows.size();
            TestViewer.Summary want = TestViewer.expected(truth.expectedHosts(n), truth.expectedLinks(n));
            converge(ns, want, capture + " netstream");
            converge(js, want, capture + " json");
            // the same as Redis holds
            assertEquals(want, TestViewer.expected(GroundTruth.hosts(r), GroundTruth.links(r)), capture
                    + ": Redis");
            try (TestViewer late = s.viewer("json", null)) {
                converge(late, want, capture + " snapshot only");
            }
        }
    }

    /** Expected subgraph for an edge predicate over the truth's host pairs (hosts: the pairs' ends). */
    static TestViewer.Summary subgraph(GroundTruth t, java.util.function.Predicate<GroundTruth.Flow> keep) {
        Set<String> hosts = new TreeSet<>();
        Map<String, GroundTruth.LinkTotals> links = new TreeMap<>();
        Map<String, GroundTruth.LinkTotals> all = t.expectedLinks(t.flows.size());
        for (GroundTruth.Flow f : t.flows) {
            if (keep.test(f)) {
                String k = NetworkKeys.link(f.a(), f.b());
                links.put(k, all.get(k));
                hosts.add(NetworkKeys.text(f.a()));
                hosts.add(NetworkKeys.text(f.b()));
            }
        }
        return TestViewer.expected(hosts, links);
    }

    @Test
    void filtersAndConfigurationChangesGiveExactlyTheSubgraph() throws Exception {
        REDIS.sync().flushall();
        GroundTruth truth = new GroundTruth("web_browsing__ntopng-e2e_test_01");
        int n = truth.flows.size();
        TestViewer.Summary all = TestViewer.expected(truth.expectedHosts(n), truth.expectedLinks(n));
        try (Servers s = new Servers(); FakeProbe probe = s.fx.probe(s.server)) {
            IngestFixture.send(probe, truth.nameEvents());
            IngestFixture.send(probe, truth.events(0, n));
            String host = NetworkKeys.text(truth.flows.get(0).a());
            try (TestViewer v = s.viewer("json", json("{\"filter\":{\"addresses\":[\"" + host + "/32\"]}}"));
                    TestViewer g = s.viewer("netstream", json("{\"filter\":{\"protocols\":[\"udp\"]}}"))) {
                converge(v, subgraph(truth, f -> NetworkKeys.text(f.a()).equals(host) || NetworkKeys.text(f.b())
                        .equals(host)), "address filter");
                converge(g, subgraph(truth, f -> f.proto() == 17), "protocol filter (netstream)");
                v.configure(json("{\"filter\":{\"protocols\":[\"tcp\"],\"ports\":[443]}}"));
                converge(v, subgraph(truth, f -> f.proto() == 6 && linkHasPort(truth, f, 443)),
                        "tcp port 443 after a configuration change");
                v.configure(json("{}"));
                converge(v, all, "no filter after a configuration change");
                long minBytes = 100_000;
                v.configure(json("{\"filter\":{\"min_bytes\":" + minBytes + "}}"));
                Map<String, GroundTruth.LinkTotals> links = truth.expectedLinks(n);
                converge(v, subgraph(truth, f -> {
                    GroundTruth.LinkTotals t = links.get(NetworkKeys.link(f.a(), f.b()));
                    return t.bab() + t.bba() >= minBytes;
                }), "min_bytes");
                // grouping by /16: group nodes, edges between groups, sums conserved
                v.configure(json("{\"detail\":{\"level\":\"subnet\",\"prefix\":16,\"prefix6\":32}}"));
                IngestFixture.waitFor(() -> v.summary.nodes().stream().allMatch(x -> x.startsWith("net:")), WAIT);
                long sum = 0;
                for (List<Long> e : v.summary.edges().values()) {
                    sum += e.get(1) + e.get(3);
                }
                long interGroup = 0;
                for (GroundTruth.Flow f : truth.flows) {
                    if (!prefix16(f.a()).equals(prefix16(f.b()))) {
                        interGroup += f.bab() + f.bba();
                    }
                }
                assertEquals(interGroup, sum, "bytes between /16 groups");
                assertTrue(v.notices.contains("config"), "configuration changes are acknowledged");
            }
        }
    }

    static String prefix16(java.net.InetAddress a) {
        byte[] b = a.getAddress();
        return b.length == 4
                ? (b[0] & 0xff) + "." + (b[1] & 0xff)
                : NetworkKeys.text(a).split(":")[0] + ":"
                        + NetworkKeys.text(a).split(":")[1];
    }

    /** True when the flow's link has a connection to port p (its responder port as NEWCONN carried it). */
    static boolean linkHasPort(GroundTruth t, GroundTruth.Flow f, int p) {
        String k = NetworkKeys.link(f.a(), f.b());
        return t.flows.stream().anyMatch(x -> NetworkKeys.link(x.a(), x.b()).equals(k) && x.proto() == 6 && x
                .bport() == p);
    }

    @Test
    void slowViewerIsResyncedAndDelaysNoOne() throws Exception {
        REDIS.sync().flushall();
        GroundTruth truth = new GroundTruth("midsize_synflood__stopddos_pkt.TCP.synflood.spoofed");
        int n = 12_000; // ~6 MB of JSON: more than the loopback socket buffers and Netty's 1 MiB high water mark
        TestViewer.Summary want = TestViewer.expected(truth.expectedHosts(n), truth.expectedLinks(n));
        try (Servers s = new Servers();
                FakeProbe probe = s.fx.probe(s.server);
                TestViewer fast = s.viewer("json", null);
                TestViewer slow = s.viewer("json", null)) {
            IngestFixture.waitFor(() -> slow.steps > 0, WAIT);
            slow.paused = true; // stops reading: its socket fills
            IngestFixture.send(probe, truth.events(0, n));
            converge(fast, want, "fast viewer while another one does not read");
            IngestFixture.waitFor(() -> slow.summary.nodes().size() < want.nodes().size(), 3000);
            assertTrue(slow.summary.nodes().size() < want.nodes().size(), "the slow viewer is still behind");
            Thread.sleep(3000); // > 20 ticks unwritable: backlog dropped
            slow.paused = false;
            converge(slow, want, "slow viewer after it reads again");
            assertTrue(slow.notices.contains("slow_viewer"), "told it was resynced: " + slow.notices);
            // and the operator sees it
            assertTrue(s.server.metrics().viewerEvents.labelValues("slow_viewer").get() >= 1, "counted");
            assertTrue(s.server.metrics().viewerBytes.get() > 1_000_000, "stream bytes counted");
        }
    }

    @Test
    void redisRestartResyncsEveryViewer() throws Exception {
        REDIS.sync().flushall();
        GroundTruth truth = new GroundTruth("web_browsing__ntopng-e2e_test_01");
        int n = truth.flows.size();
        TestViewer.Summary want = TestViewer.expected(truth.expectedHosts(n), truth.expectedLinks(n));
        try (Servers s = new Servers();
                FakeProbe probe = s.fx.probe(s.server);
                TestViewer ns = s.viewer("netstream", null);
                TestViewer js = s.viewer("json", null)) {
            IngestFixture.send(probe, truth.events(0, n));
            converge(js, want, "before the restart");
            REDIS.stop();
            assertTrue(IngestFixture.waitFor(() -> js.notices.contains("redis_unavailable") && ns.notices.contains(
                    "redis_unavailable"), 10_000), "viewers told Redis is gone: " + js.notices + ns.notices);
            REDIS.start(); // empty: the ingest server rewrites its copy, the viewers get a fresh snapshot
            assertTrue(IngestFixture.waitFor(() -> js.notices.contains("resync") && ns.notices.contains("resync"),
                    WAIT), "viewers resynced: " + js.notices + ns.notices);
            converge(js, want, "json after the restart");
            converge(ns, want, "netstream after the restart");
        }
    }

    @Test
    void refusalsCloseOnlyTheirConnectionWithAReason() throws Exception {
        REDIS.sync().flushall();
        try (Servers s = new Servers(); TestViewer good = s.viewer("json", null)) {
            IngestFixture.waitFor(() -> good.steps > 0, WAIT);
            String wrongPin = "00" + s.viewers.fingerprint().substring(2);
            ViewerRefusedException e = assertThrows(ViewerRefusedException.class, () -> ViewerConnection.open(
                    "127.0.0.1", s.port, ViewerTrust.pin(wrongPin), "alice", "correct horse", false, 5000));
            assertTrue(e.getMessage().contains("does not match the pinned"), e.getMessage());
            e = assertThrows(ViewerRefusedException.class, () -> ViewerConnection.open("127.0.0.1", s.port,
                    ViewerTrust.pin(s.viewers.fingerprint()), "alice", "wrong", false, 5000));
            assertTrue(e.getMessage().contains("authentication failed"), e.getMessage());
            e = assertThrows(ViewerRefusedException.class, () -> ViewerConnection.open("127.0.0.1", s.port,
                    ViewerTrust.pin(s.viewers.fingerprint()), null, "mallory:abc", true, 5000));
            assertTrue(e.getMessage().contains("authentication failed"), e.getMessage());
            assertThrows(IOException.class, () -> ViewerConnection.open("127.0.0.1", s.port, ViewerTrust.plain(),
                    "alice", "correct horse", false, 2000));
            for (String bad : new String[]{"not json\n", "{\"config\":{\"format\":\"xml\"}}\n",
                    "{\"config\":{\"filter\":{\"addresses\":[\"example.com\"]}}}\n", "{\"bogus\":1}\n",
                    "x".repeat(70_000) + "\n"}) {
                try (ViewerConnection c = ViewerConnection.open("127.0.0.1", s.port, ViewerTrust.pin(s.viewers
                        .fingerprint()), "alice", "correct horse", false, 5000)) {
                    c.sendRaw(bad.getBytes(StandardCharsets.UTF_8));
                    ViewerRefusedException x = assertThrows(ViewerRefusedException.class, () -> {
                        while (true) {
                            c.next();
                        }
                    });
                    assertTrue(x.getMessage().matches(".*(malformed|expected 'netstream'|not an IP address|unknown"
                            + " message|longer than).*"), bad.substring(0, Math.min(40, bad.length())) + " -> "
                                    + x
                                            .getMessage());
                }
            }
            long before = good.seq;
            IngestFixture.waitFor(() -> good.seq > before + 1, 5000);
            assertTrue(good.seq > before + 1, "the good viewer keeps receiving steps");
            assertEquals(null, good.closedWith);
        }
    }
}
