package org.glouglou.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lettuce.core.api.sync.RedisCommands;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.glouglou.spi.testkit.RedisServerProcess;

/**
 * Issue 4, required test 3: Redis is killed (SIGKILL, no persistence: it comes back empty) in the middle of ingest.
 * The server survives, keeps ingesting, and once Redis is back the state converges to the whole truth, including what
 * arrived while Redis was down and what Redis lost.
 */
class RedisOutageIT {
    @RegisterExtension
    static final RedisServerProcess REDIS = new RedisServerProcess();

    @Test
    void stateConvergesAfterRedisRestartsEmpty() throws Exception {
        RedisCommands<String, String> r = REDIS.sync();
        r.flushall();
        GroundTruth truth = new GroundTruth("web_browsing__ntopng-e2e_test_01");
        int n = truth.flows.size();
        int half = n / 2;
        IngestFixture fx = new IngestFixture();
        try (GlouglouServer server = fx.server(REDIS.uri()); FakeProbe probe = fx.probe(server)) {
            IngestFixture.send(probe, truth.events(0, half));
            Map<String, GroundTruth.LinkTotals> firstHalf = truth.expectedLinks(half);
            assertTrue(IngestFixture.waitFor(() -> GroundTruth.links(r).equals(firstHalf), 15_000),
                    "first half written");

            REDIS.stop();
            IngestFixture.send(probe, truth.events(half, n));
            IngestFixture.send(probe, truth.nameEvents());
            Thread.sleep(1000); // ten ticks with Redis down
            assertTrue(server.metrics().redisTicks.labelValues("unavailable").get() > 0
                    || server.metrics().redisCommands.labelValues("failed").get() > 0, "the outage was noticed");
            REDIS.start();

            Set<String> hosts = truth.expectedHosts(n);
            Map<String, GroundTruth.LinkTotals> links = truth.expectedLinks(n);
            assertTrue(IngestFixture.waitFor(() -> GroundTruth.links(r).equals(links) && GroundTruth.hosts(r).equals(
                    hosts) && GroundTruth.names(r).equals(truth.expectedNames()), 30_000), "converged");
            assertEquals(hosts, GroundTruth.hosts(r));
            assertEquals(links, GroundTruth.links(r));
            assertEquals(truth.expectedNames(), GroundTruth.names(r));
            assertEquals(sorted("Khx"), sorted(r.configGet("notify-keyspace-events").get(
                    "notify-keyspace-events")), "notifications enabled again on the new Redis");
        }
    }

    static String sorted(String s) {
        return s.chars().mapToObj(c -> String.valueOf((char) c)).sorted().reduce("", String::concat);
    }
}
