package org.glouglou.probe.e2e;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.glouglou.probe.e2e.Topology.Identity;
import org.glouglou.probe.e2e.Topology.Server;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Several servers writing one 3-master Redis Cluster (docs/architecture.txt 6: additive, idempotent writes from
 * every server), two probes each replaying half of the capture's host pairs and listing several servers; the first
 * probe's server is killed (SIGKILL) mid-replay and that probe fails over. Every host pair ends exact, in the cluster
 * (read on each master) and in a viewer of a surviving server, whose counters never go down.
 */
@Tag("e2e")
@ExtendWith(E2eExtension.class)
class ClusterFailoverIT {
    static Map<String, HostPairTotals.Totals> truth;

    @BeforeAll
    static void truth() throws Exception {
        truth = HostPairTotals.truth(E2e.CAPTURE);
    }

    @ParameterizedTest(name = "{0} servers")
    @ValueSource(ints = {2, 3})
    void serversOnOneRedisClusterOneKilledMidReplay(int servers, Topology t) throws Exception {
        // by host pair, so that both replays last the whole 5.5 s and a kill 2 s in is well inside them
        Path first = t.dir.resolve("pairs-a.pcap");
        Path second = t.dir.resolve("pairs-b.pcap");
        int n = PcapFiles.splitByHostPair(E2e.capture(E2e.CAPTURE), first, second);
        Identity a = t.identity(1, "probe-a");
        Identity b = t.identity(2, "probe-b");
        t.redisCluster(3);
        List<Server> s = new ArrayList<>();
        for (int i = 1; i <= servers; i++) {
            s.add(t.server("server-" + i, List.of(a, b), i == 2));
        }
        ViewerMonitor v = s.get(1).viewer();
        // probe a starts on server 1, then the last server, then the others; probe b on server 2 first
        List<String> aList = new ArrayList<>(List.of(s.get(0).hostPort(), s.get(servers - 1).hostPort()));
        if (servers == 3) {
            aList.add(s.get(1).hostPort());
        }
        List<String> bList = new ArrayList<>();
        for (int i = 1; i <= servers; i++) {
            bList.add(s.get(i % servers).hostPort());
        }
        Daemon pa = t.probe(a, first, true, aList);
        Daemon pb = t.probe(b, second, true, bList);
        long start = t.awaitSession(a, pa);
        Topology.runUntil(start, 2000, pa, s.get(0).daemon);
        s.get(0).daemon.kill();

        Outcome o = new Outcome(servers + " servers on a 3-master Redis Cluster, two probes with half the host "
                + "pairs each (" + n + " + " + (4999 - n) + " packets), server-1 killed 2 s into the replay", t);
        o.exits(pa, 0, FaultMatrixIT.PROBE_EXIT_MILLIS);
        o.exits(pb, 0, FaultMatrixIT.PROBE_EXIT_MILLIS);
        o.redisEquals(truth);
        o.viewerEquals(v, truth);
        o.verify();
    }
}
