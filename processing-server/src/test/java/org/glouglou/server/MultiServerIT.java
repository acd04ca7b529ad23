package org.glouglou.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lettuce.core.api.sync.RedisCommands;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.glouglou.module.network.NetworkEvents;
import org.glouglou.protocol.Payload;
import org.glouglou.spi.testkit.RedisServerProcess;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Several servers on one Redis, and a server that dies (docs/architecture.txt 6): two servers each taking half of a
 * capture from their own probe add up to exactly the capture's truth; a server closed without flushing in the middle
 * of a probe boot, whose probe then sends what was not acknowledged durable and the rest to a new server, leaves
 * exactly the truth too, nothing counted twice, the connections the new server never saw start read from Redis.
 */
class MultiServerIT {
    @RegisterExtension
    static final RedisServerProcess REDIS = new RedisServerProcess();
    static final long WAIT = 60_000;

    static List<String> captures() throws Exception {
        return GroundTruth.names().stream().filter(n -> !n.startsWith("midsize_synflood")).toList();
    }

    static void awaitTruth(RedisCommands<String, String> r, GroundTruth truth, String what) throws Exception {
        int n = truth.flows.size();
        Set<String> hosts = truth.expectedHosts(n);
        Map<String, GroundTruth.LinkTotals> links = truth.expectedLinks(n);
        IngestFixture.waitFor(() -> GroundTruth.links(r).equals(links) && GroundTruth.hosts(r).equals(hosts)
                && GroundTruth.names(r).equals(truth.expectedNames()), WAIT);
        GroundTruth.assertSame(hosts, GroundTruth.hosts(r), what + ": hosts");
        GroundTruth.assertSame(links, GroundTruth.links(r), what + ": links with per-direction totals");
        GroundTruth.assertSame(truth.expectedNames(), GroundTruth.names(r), what + ": names");
    }

    @ParameterizedTest
    @MethodSource("captures")
    void twoServersEachTakingHalfOfACaptureAddUpExactly(String capture) throws Exception {
        RedisCommands<String, String> r = REDIS.sync();
        r.flushall();
        GroundTruth truth = new GroundTruth(capture);
        int n = truth.flows.size();
        IngestFixture fx = new IngestFixture();
        try (GlouglouServer one = fx.server(REDIS.uri()).redisKeysPerSecond(1_000_000);
                GlouglouServer two = fx.server(REDIS.uri()).redisKeysPerSecond(1_000_000);
                FakeProbe p7 = fx.probe(one, IngestFixture.PROBE, org.glouglou.protocol.session.ProbeSession
                        .newBoot());
                FakeProbe p8 = fx.probe(two, IngestFixture.PROBE2, org.glouglou.protocol.session.ProbeSession
                        .newBoot())) {
            IngestFixture.send(p7, truth.nameEvents());
            IngestFixture.send(p7, truth.events(0, n / 2));
            IngestFixture.send(p8, truth.events(n / 2, n));
            awaitTruth(r, truth, capture + " through two servers");
            for (String k : GroundTruth.scan(r, "gg:link:*")) {
                Map<String, String> h = r.hgetall(k);
                for (String f : new String[]{"pkts_ab", "bytes_ab", "pkts_ba", "bytes_ba"}) {
                    assertEquals(GroundTruth.num(h, f), GroundTruth.num(h, f + ".7") + GroundTruth.num(h, f + ".8"),
                            k + " " + f + " is the sum of the two probes' shares");
                }
            }
            assertTrue(p7.awaitDurable(WAIT) && p8.awaitDurable(WAIT), "every datagram acknowledged durable");
        }
    }

    @ParameterizedTest
    @MethodSource("captures")
    void aServerDiesMidBootAndItsProbeSendsAgainToANewServerCountingOnce(String capture) throws Exception {
        RedisCommands<String, String> r = REDIS.sync();
        r.flushall();
        GroundTruth truth = new GroundTruth(capture);
        int n = truth.flows.size();
        // the flows' starts and first halves, then their ends: the ends go to a server that never saw the starts
        List<GroundTruth.Timed> starts = new ArrayList<>();
        List<GroundTruth.Timed> ends = new ArrayList<>();
        for (GroundTruth.Timed t : truth.events(0, n)) {
            (t.event() instanceof NetworkEvents.DelConn ? ends : starts).add(t);
        }
        IngestFixture fx = new IngestFixture();
        long boot = org.glouglou.protocol.session.ProbeSession.newBoot();
        List<Payload> notDurable = new ArrayList<>();
        int durableBefore;
        GlouglouServer one = fx.server(REDIS.uri()).redisKeysPerSecond(1_000_000);
        try (FakeProbe p = fx.probe(one, IngestFixture.PROBE, boot)) {
            IngestFixture.send(p, truth.nameEvents());
            int cut = starts.size() * 7 / 10;
            IngestFixture.send(p, starts.subList(0, cut));
            assertTrue(p.awaitDurable(WAIT), "the first part is durable at the first server");
            durableBefore = p.durable.size();
            IngestFixture.send(p, starts.subList(cut, starts.size()));
            one.close(); // dies: whatever it wrote stays in Redis, nothing more is acknowledged
            p.pollAcks(100);
            for (long seq : p.unacked()) {
                notDurable.add(p.payloads.get(seq));
            }
        } finally {
            one.close();
        }
        try (GlouglouServer two = fx.server(REDIS.uri()).redisKeysPerSecond(1_000_000);
                FakeProbe p = fx.probe(two, IngestFixture.PROBE, boot)) {
            for (Payload x : notDurable) {
                p.send(x); // the probe's resend buffer first, on the new session
            }
            IngestFixture.send(p, ends);
            assertTrue(p.deliver(WAIT), "every payload durable at the second server: " + p.unacked().size()
                    + " left");
            awaitTruth(r, truth, capture + " across a server's death");
            Map<String, Long> c = two.moduleCounters().get("network");
            assertTrue(c.get("resolved_conn") > 0, "connections the second server never saw were read from Redis: "
                    + c);
            System.out.printf("%s: %d payloads durable at the first server, %d sent again to the second; %s%n",
                    capture, durableBefore, notDurable.size(), c);
        }
    }
}
