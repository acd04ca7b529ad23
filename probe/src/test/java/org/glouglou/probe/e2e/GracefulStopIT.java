package org.glouglou.probe.e2e;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.glouglou.probe.e2e.Topology.Identity;
import org.glouglou.probe.e2e.Topology.Relay;
import org.glouglou.probe.e2e.Topology.Server;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Stopping a daemon with SIGTERM in the middle of a replay (spec 5.7, 5.8; docs/architecture.txt 6.4): a probe ends
 * every open flow (DELCONN shutdown), waits for it to be durable, says BYE and exits within 2 s, leaving no open flow
 * and its status closed; a relay says BYE (its status closed at the server) and its probe goes on through the
 * server; a server writes everything it accepted before it exits, so nothing it acknowledged is lost.
 */
@Tag("e2e")
@ExtendWith(E2eExtension.class)
class GracefulStopIT {
    static Map<String, HostPairTotals.Totals> truth;

    @BeforeAll
    static void truth() throws Exception {
        truth = HostPairTotals.truth(E2e.CAPTURE);
    }

    @Test
    void sigtermToAProbeClosesItsFlowsAndItsStatusWithinTwoSeconds(Topology t) throws Exception {
        Identity probe = t.identity(1, "probe-1");
        t.redis();
        Server s = t.server("server", List.of(probe), true);
        ViewerMonitor v = s.viewer();
        Daemon p = t.probe(probe, E2e.capture(E2e.CAPTURE), true, List.of(s.hostPort()));
        long start = t.awaitSession(probe, p);
        Topology.runUntil(start, 2000, p, s.daemon);
        long term = System.nanoTime();
        p.terminate();

        Outcome o = new Outcome("SIGTERM to a probe 2 s into the replay", t);
        Integer code = p.awaitExit(2000);
        long took = (System.nanoTime() - term) / 1_000_000;
        o.figure("exit " + code + " after " + (code == null ? ">2000" : took) + " ms");
        o.check(code != null, "the probe still ran 2 s after SIGTERM");
        // a clean stop is a success for systemd: 0, not the JVM's 143 (128 + SIGTERM)
        o.check(code == null || code == 0, "the probe exited " + code + " after SIGTERM, not 0");
        if (code == null) {
            p.awaitExit(30_000);
        }
        // what the probe made durable before it exited is in Redis; its BYE is written at the server's next tick
        E2e.within(() -> noOpenFlow(t, probe) && "closed".equals(t.state().probe(probe.id()).get("state")), 2000);
        Map<String, Map<String, String>> conns = conns(t, probe);
        List<String> open = new ArrayList<>();
        int shutdown = 0;
        for (Map.Entry<String, Map<String, String>> c : conns.entrySet()) {
            if (!"closed".equals(c.getValue().get("state"))) {
                open.add(c.getKey() + " " + c.getValue().get("state") + " (" + c.getValue().get("src") + " -> " + c
                        .getValue().get("dst") + ")");
            } else if ("shutdown".equals(c.getValue().get("reason"))) {
                shutdown++;
            }
        }
        o.figure(conns.size() + " flows of the probe in Redis, " + open.size() + " open, " + shutdown
                + " closed with reason shutdown");
        o.check(!conns.isEmpty(), "no gg:conn of probe " + probe.id() + " in Redis");
        o.check(open.isEmpty(), open.size() + " flows of the stopped probe are still open in Redis, first: " + open
                .subList(0, Math.min(5, open.size())));
        o.check(shutdown > 0, "no flow closed with reason shutdown, though the replay was stopped half-way");
        Map<String, String> status = t.state().probe(probe.id());
        o.check("closed".equals(status.get("state")), "gg:probe:" + probe.id() + " state is " + status.get("state")
                + ", not closed");

        // the host pairs hold exactly what the probe's flows carried, never more than the truth
        Map<String, HostPairTotals.Totals> fromFlows = byHostPair(conns);
        HostPairTotals.Comparison c = HostPairTotals.compare(fromFlows, t.state().links());
        o.figure("host pairs against the sums of the probe's flows: " + c.figures());
        o.check(c.matches(), "host pairs differ from the sums of the probe's flows: " + c.describe());
        List<String> over = new ArrayList<>();
        t.state().links().forEach((k, l) -> {
            HostPairTotals.Totals e = truth.getOrDefault(k, HostPairTotals.Totals.ZERO);
            if (l.pab() > e.pab() || l.pba() > e.pba() || l.bab() > e.bab() || l.bba() > e.bba()) {
                over.add(k + " " + l + " > truth " + e);
            }
        });
        o.check(over.isEmpty(), "host pairs above the whole capture's truth: " + over);
        o.neverDecreased(v);
        o.verify();
    }

    @Test
    void sigtermToARelaySaysByeAndItsProbeGoesOnThroughTheServer(Topology t) throws Exception {
        Identity probe = t.identity(1, "probe-1");
        Identity relayId = t.identity(101, "relay");
        t.redis();
        Server s = t.server("server", List.of(probe, relayId), true);
        ViewerMonitor v = s.viewer();
        Relay r = t.relay(relayId, List.of(probe), List.of(s.hostPort()));
        Daemon p = t.probe(probe, E2e.capture(E2e.CAPTURE), true, List.of(r.hostPort(), s.hostPort()));
        long start = t.awaitSession(probe, p);
        E2e.await(() -> !t.state().probe(relayId.id()).isEmpty(), Topology.START_MILLIS, () -> "no gg:probe:"
                + relayId.id() + ": the relay has no session at the server");
        Topology.runUntil(start, 2000, p, r.daemon(), s.daemon);
        long term = System.nanoTime();
        r.daemon().terminate();

        Outcome o = new Outcome("SIGTERM to a relay 2 s into the replay", t);
        Integer code = r.daemon().awaitExit(3000);
        o.figure("relay exit " + code + " after " + (code == null
                ? ">3000"
                : (System.nanoTime() - term) / 1_000_000) + " ms");
        o.check(code != null, "the relay still ran 3 s after SIGTERM");
        o.check(code == null || code == 0, "the relay exited " + code + " after SIGTERM, not 0");
        boolean closed = E2e.within(() -> "closed".equals(t.state().probe(relayId.id()).get("state")), 3000);
        o.check(closed, "the relay did not say BYE: gg:probe:" + relayId.id() + " state is " + t.state().probe(relayId
                .id()).get("state") + " 3 s after SIGTERM");
        o.exits(p, 0, FaultMatrixIT.PROBE_EXIT_MILLIS);
        o.redisEquals(truth);
        o.viewerEquals(v, truth);
        o.verify();
    }

    @Test
    void sigtermToAServerWritesWhatItAcceptedBeforeItExits(Topology t) throws Exception {
        Identity probe = t.identity(1, "probe-1");
        t.redis();
        Server s1 = t.server("server-1", List.of(probe), false);
        Server s2 = t.server("server-2", List.of(probe), true);
        ViewerMonitor v = s2.viewer();
        Daemon p = t.probe(probe, E2e.capture(E2e.CAPTURE), true, List.of(s1.hostPort(), s2.hostPort()));
        long start = t.awaitSession(probe, p);
        Topology.runUntil(start, 2000, p, s1.daemon);
        long term = System.nanoTime();
        s1.daemon.terminate();

        Outcome o = new Outcome("SIGTERM to the server 2 s into the replay (the probe fails over)", t);
        Integer code = s1.daemon.awaitExit(10_000);
        o.figure("server-1 exit " + code + " after " + (code == null
                ? ">10000"
                : (System.nanoTime() - term) / 1_000_000) + " ms");
        o.check(code != null, "server-1 still ran 10 s after SIGTERM");
        o.check(code == null || code == 0, "server-1 exited " + code + " after SIGTERM, not 0");
        o.exits(p, 0, FaultMatrixIT.PROBE_EXIT_MILLIS);
        // exact totals: whatever server-1 acknowledged before it stopped was in Redis, the rest came again
        o.redisEquals(truth);
        o.viewerEquals(v, truth);
        o.verify();
    }

    static Map<String, Map<String, String>> conns(Topology t, Identity probe) {
        Map<String, Map<String, String>> m = new TreeMap<>();
        t.state().hashes(RedisState.CONN + probe.id() + ":*").forEach((k, h) -> {
            if (String.valueOf(probe.id()).equals(h.getOrDefault("probe", String.valueOf(probe.id())))) {
                m.put(k, h);
            }
        });
        return m;
    }

    static boolean noOpenFlow(Topology t, Identity probe) {
        Map<String, Map<String, String>> c = conns(t, probe);
        return !c.isEmpty() && c.values().stream().allMatch(h -> "closed".equals(h.get("state")));
    }

    /** The flows' cumulative counters summed per host pair, in the pair's orientation. */
    static Map<String, HostPairTotals.Totals> byHostPair(Map<String, Map<String, String>> conns) throws Exception {
        Map<String, HostPairTotals.Totals> m = new TreeMap<>();
        for (Map<String, String> h : conns.values()) {
            InetAddress src = InetAddress.getByName(h.get("src"));
            InetAddress dst = InetAddress.getByName(h.get("dst"));
            HostPairTotals.Totals fwd = new HostPairTotals.Totals(RedisState.num(h, "src_pkts"), RedisState.num(h,
                    "src_bytes"), RedisState.num(h, "dst_pkts"), RedisState.num(h, "dst_bytes"));
            boolean srcFirst = HostPairTotals.ordered(src, dst);
            String key = HostPairTotals.pair(src, dst);
            m.merge(key, srcFirst ? fwd : new HostPairTotals.Totals(fwd.pba(), fwd.bba(), fwd.pab(), fwd.bab()),
                    HostPairTotals.Totals::plus);
        }
        return m;
    }
}
