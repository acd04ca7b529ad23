package org.glouglou.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.glouglou.server.viz.ViewerServer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Redis Cluster failover, end to end, against a real 3+3 cluster: a master is killed (SIGKILL) while a viewer watches;
 * its replica is promoted. The viewer must be told (redis_unavailable), then resynced from a fresh snapshot once the
 * hub sees the new topology and subscribes on the new master; the flows sent after the kill (some to the dead
 * master's slots, failing until the topology is reread) must land exactly; the promoted replica must already have had
 * keyspace notifications enabled by the server (it was set on replicas too).
 */
class RedisClusterFailoverIT {
    @RegisterExtension
    static final RedisClusterProcess CLUSTER = new RedisClusterProcess(3, 1);
    static Path users;
    static final long WAIT = 40_000;

    @BeforeAll
    static void users() throws Exception {
        users = TestViewer.aliceUsers();
    }

    @Test
    void aFailoverResyncsTheViewerAndEveryKeyLands() throws Exception {
        String capture = ClusterServers.webCapture();
        GroundTruth truth = new GroundTruth(capture);
        int n = truth.flows.size();
        int half = n / 2;
        try (ClusterServers cs = new ClusterServers(CLUSTER, users)) {
            GlouglouServer server = cs.server;
            ViewerServer viewers = cs.viewers;
            try (FakeProbe probe = cs.fx.probe(server);
                    TestViewer v = cs.viewer()) {
                IngestFixture.send(probe, truth.nameEvents());
                IngestFixture.send(probe, truth.events(0, half));
                Set<String> hosts1 = truth.expectedHosts(half);
                Map<String, GroundTruth.LinkTotals> links1 = truth.expectedLinks(half);
                CLUSTER.awaitHolds(hosts1, links1, capture + " before the failover", WAIT);
                v.converge(TestViewer.expected(hosts1, links1), capture + " before the failover", viewers,
                        RedisClusterIT.WAIT, CLUSTER.sync());
                // every node, replicas included, publishes keyspace notifications: the server set them all
                Map<Integer, String> before = CLUSTER.notifyFlags();
                assertEquals(6, before.size(), "six nodes: " + before);
                before.forEach((p, f) -> assertEquals("", RedisClusterProcess.missingNotifyFlags(f), "node " + p
                        + " notify-keyspace-events '" + f + "'"));

                // kill the master holding the most keys; wait for its replica's promotion
                Map<Integer, Long> perMaster = CLUSTER.keysPerNode("gg:");
                int victim = perMaster.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
                assertTrue(perMaster.get(victim) > 0, "keys on the victim " + perMaster);
                Set<Integer> replicasBefore = new HashSet<>(CLUSTER.alive());
                replicasBefore.removeAll(CLUSTER.masterPorts());
                long killedAt = System.currentTimeMillis();
                CLUSTER.kill(victim);
                IngestFixture.waitFor(() -> CLUSTER.masterPorts().size() == 3 && CLUSTER.alive().stream().allMatch(
                        p -> {
                            try {
                                return RedisClusterProcess.info(p).contains("cluster_state:ok");
                            } catch (Exception e) {
                                return false;
                            }
                        }), 30_000);
                List<Integer> promoted = CLUSTER.masterPorts().stream().filter(replicasBefore::contains).toList();
                assertEquals(1, promoted.size(), "one replica promoted: masters now " + CLUSTER.masterPorts());
                long promotedAt = System.currentTimeMillis();

                // the rest of the flows, some for the dead master's slots
                IngestFixture.send(probe, truth.events(half, n));
                Set<String> hosts = truth.expectedHosts(n);
                Map<String, GroundTruth.LinkTotals> links = truth.expectedLinks(n);
                CLUSTER.awaitHolds(hosts, links, capture + " after the failover", WAIT);
                long landedAt = System.currentTimeMillis();
                v.converge(TestViewer.expected(hosts, links), capture + " after the failover", viewers,
                        RedisClusterIT.WAIT, CLUSTER.sync());
                assertTrue(v.notices.contains("redis_unavailable"), "the viewer was told: " + v.notices);
                assertTrue(v.notices.contains("resync"), "the viewer was resynced: " + v.notices);
                String f = CLUSTER.notifyFlags().get(promoted.get(0));
                assertEquals("", RedisClusterProcess.missingNotifyFlags(f), "the promoted replica publishes"
                        + " notifications: '" + f + "'");
                System.out.printf("failover: promoted %d ms after the kill; every key in Redis %d ms and in the"
                        + " viewer %d ms after the promotion%n", promotedAt - killedAt, landedAt - promotedAt,
                        System
                                .currentTimeMillis() - promotedAt);
            }
        }
    }
}
