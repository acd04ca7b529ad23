package org.glouglou.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lettuce.core.api.sync.RedisCommands;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.glouglou.protocol.session.ReceiverSessions;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.glouglou.spi.testkit.RedisServerProcess;

/**
 * Issue 4, required test 1: every shared capture's ground truth, sent as a probe would (NEWCONN, DATA, DELCONN, NAME,
 * sealed, over UDP), must leave Redis holding exactly the hosts, host pairs with per-direction totals, and names the
 * truth implies.
 */
class ReplayCaptureIT {
    @RegisterExtension
    static final RedisServerProcess REDIS = new RedisServerProcess();

    static List<String> captures() throws Exception {
        return GroundTruth.names();
    }

    @ParameterizedTest
    @MethodSource("captures")
    void redisHoldsWhatTheCaptureImplies(String capture) throws Exception {
        RedisCommands<String, String> r = REDIS.sync();
        r.flushall();
        GroundTruth truth = new GroundTruth(capture);
        IngestFixture fx = new IngestFixture();
        // exactness, not pacing, is checked here (the budget's order and deferral: KeyCoalescerTest, RedisOutageIT
        // runs with the default): at 50k keys/s the 37k-flow capture needs several full Redis scans to see converge,
        // each slow on a loaded box, and the probe session idles out after 60 s
        try (GlouglouServer server = fx.server(REDIS.uri()).redisKeysPerSecond(1_000_000);
                FakeProbe probe = fx.probe(server)) {
            IngestFixture.send(probe, truth.nameEvents());
            IngestFixture.send(probe, truth.events(0, truth.flows.size()));
            int n = truth.flows.size();
            Set<String> hosts = truth.expectedHosts(n);
            Map<String, GroundTruth.LinkTotals> links = truth.expectedLinks(n);
            IngestFixture.waitFor(() -> GroundTruth.links(r).equals(links) && GroundTruth.hosts(r).equals(hosts),
                    30_000);
            ReceiverSessions.Session s = server.core().sessions().current(IngestFixture.PROBE);
            GroundTruth.assertSame(hosts, GroundTruth.hosts(r), capture + ": hosts (lost " + s.lost() + ", "
                    + server.metrics().drops.labelValues("rate_limited").get() + " rate limited)");
            GroundTruth.assertSame(links, GroundTruth.links(r), capture + ": links with per-direction totals");
            GroundTruth.assertSame(truth.expectedNames(), GroundTruth.names(r), capture + ": names");
            assertEquals(0, s.lost(), "no datagram lost on loopback (else the totals above could not hold)");
            assertEquals(String.valueOf(probe.session.sequence()), r.hget("gg:probe:7", "datagrams"),
                    "probe status counts every datagram");
            assertEquals("0", r.hget("gg:probe:7", "lost"));
        }
    }
}
