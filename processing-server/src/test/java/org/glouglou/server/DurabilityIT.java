package org.glouglou.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lettuce.core.api.sync.RedisCommands;
import java.net.InetAddress;
import java.util.List;
import org.glouglou.module.network.FlowKey;
import org.glouglou.module.network.NetworkEvents;
import org.glouglou.spi.testkit.RedisServerProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Acknowledgements (spec 5.8) against a real redis-server: a datagram is acknowledged durable only once Redis has
 * confirmed every write its events caused; while Redis is paused (SIGSTOP) it is acknowledged received after 500 ms,
 * never durable, and durable soon after Redis goes on (SIGCONT); a datagram one of whose events asked to be sent
 * again is acknowledged neither way; a graceful stop writes everything accepted, whatever the write budget, and
 * acknowledges it before the server exits.
 */
class DurabilityIT {
    @RegisterExtension
    static final RedisServerProcess REDIS = new RedisServerProcess();

    static final String LINK = "gg:link:10.0.0.1|10.0.0.2";

    static GroundTruth.Timed data(long conn, long pkts) {
        return new GroundTruth.Timed(FakeProbe.now(), new NetworkEvents.Data(conn, pkts, pkts * 100, 0, 0, null));
    }

    static long redisPid(RedisCommands<String, String> r) {
        for (String line : r.info("server").split("\r?\n")) {
            if (line.startsWith("process_id:")) {
                return Long.parseLong(line.substring("process_id:".length()).trim());
            }
        }
        throw new IllegalStateException("no process_id in INFO server");
    }

    static void signal(String sig, long pid) throws Exception {
        Process p = new ProcessBuilder("kill", "-" + sig, Long.toString(pid)).inheritIO().start();
        assertEquals(0, p.waitFor(), "kill -" + sig + " " + pid);
    }

    @Test
    void durableOnlyOnceRedisConfirmedReceivedWhileRedisIsPaused() throws Exception {
        RedisCommands<String, String> r = REDIS.sync();
        r.flushall();
        IngestFixture fx = new IngestFixture();
        long pid = redisPid(r);
        try (GlouglouServer server = fx.server(REDIS.uri()); FakeProbe probe = fx.probe(server)) {
            FlowKey flow = new FlowKey(6, InetAddress.getByName("10.0.0.1"), 1234, InetAddress.getByName(
                    "10.0.0.2"), 80);
            IngestFixture.send(probe, List.of(new GroundTruth.Timed(FakeProbe.now(), new NetworkEvents.NewConn(1,
                    flow)), data(1, 3)));
            long first = probe.session.sequence();
            assertTrue(probe.awaitDurable(10_000), "the first datagram is acknowledged durable: " + probe.acks);
            assertEquals("3", r.hget(LINK, "pkts_ab"), "durable means Redis holds it already");
            assertTrue(probe.durable.contains(first));

            signal("STOP", pid);
            long second;
            try {
                IngestFixture.send(probe, List.of(data(1, 5)));
                second = probe.session.sequence();
                long sent = System.currentTimeMillis();
                // PING for 1.5 s: the answers say received (after 500 ms), never durable, while Redis is paused
                while (System.currentTimeMillis() - sent < 1500) {
                    probe.ping();
                    probe.pollAcks(100);
                }
                assertFalse(probe.durable.contains(second), "not durable while Redis cannot confirm it");
                assertTrue(probe.received.contains(second), "acknowledged received after 500 ms: " + probe.acks);
            } finally {
                signal("CONT", pid);
            }
            long resumed = System.currentTimeMillis();
            assertTrue(probe.awaitDurable(15_000), "durable once Redis goes on: " + probe.unacked());
            System.out.printf("durable %d ms after SIGCONT%n", System.currentTimeMillis() - resumed);
            assertEquals("5", r.hget(LINK, "pkts_ab"));
        }
    }

    @Test
    void aDatagramWhoseEventAsksToBeSentAgainIsNeverAcknowledged() throws Exception {
        RedisCommands<String, String> r = REDIS.sync();
        r.flushall();
        IngestFixture fx = new IngestFixture();
        try (GlouglouServer server = fx.server(REDIS.uri()); FakeProbe probe = fx.probe(server)) {
            // DATA of a connection no server ever saw: resolved from Redis (absent), so asked for again
            IngestFixture.send(probe, List.of(data(77, 3)));
            long seq = probe.session.sequence();
            long sent = System.currentTimeMillis();
            while (System.currentTimeMillis() - sent < 1500) {
                probe.ping();
                probe.pollAcks(100);
            }
            assertFalse(probe.durable.contains(seq), "never durable");
            assertFalse(probe.received.contains(seq), "not even received: the probe must send it again");
            assertTrue(IngestFixture.waitFor(() -> server.moduleCounters().get("network").get("absent_conn") >= 1,
                    5000), "the conn key was read and not found: " + server.moduleCounters());
            assertEquals(0, r.exists(LINK));
        }
    }

    @Test
    void aGracefulStopWritesEverythingAcceptedAndAcknowledgesItBeforeExiting() throws Exception {
        RedisCommands<String, String> r = REDIS.sync();
        r.flushall();
        GroundTruth truth = new GroundTruth("web_browsing__ntopng-e2e_test_01");
        int n = truth.flows.size();
        IngestFixture fx = new IngestFixture();
        GlouglouServer server = fx.server(REDIS.uri()).redisKeysPerSecond(1); // a budget that would take minutes
        try (FakeProbe probe = fx.probe(server)) {
            IngestFixture.send(probe, truth.events(0, n));
            // every datagram reached the server before it is told to stop (a PING's PONG comes after them)
            probe.ping();
            probe.pollAcks(2000);
            assertTrue(server.stop(10_000), "everything accepted confirmed within the stop timeout");
            GroundTruth.assertSame(truth.expectedLinks(n), GroundTruth.links(r), "every flow written at the stop");
            probe.pollAcks(1000);
            assertTrue(probe.unacked().isEmpty(), "the last acknowledgements left before the exit: " + probe
                    .unacked());
        } finally {
            server.close();
        }
    }
}
