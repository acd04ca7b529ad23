package org.glouglou.probe.e2e;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.glouglou.probe.e2e.Topology.Identity;
import org.glouglou.probe.e2e.Topology.Relay;
import org.glouglou.probe.e2e.Topology.Server;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The fault matrix of the state model (docs/architecture.txt 6, spec 5.8), with real processes: a probe replays the
 * shared web-browsing capture (4,999 packets, 41 host pairs) at capture speed, sealed, to real servers writing one
 * Redis, while one thing fails. Each row asserts that after the flows end EVERY host pair's packet and byte totals,
 * per direction, equal tshark's truth exactly, in Redis and in a TLS viewer connected through the whole run, and that
 * the viewer never saw a counter go down.
 */
@Tag("e2e")
@ExtendWith(E2eExtension.class)
class FaultMatrixIT {
    /** A replay at capture speed lasts 5.5 s; a probe waits for its receivers to make everything durable. */
    static final long PROBE_EXIT_MILLIS = 90_000;
    static Map<String, HostPairTotals.Totals> truth;

    @BeforeAll
    static void truth() throws Exception {
        truth = HostPairTotals.truth(E2e.CAPTURE);
    }

    static Path capture() {
        return E2e.capture(E2e.CAPTURE);
    }

    @Test
    void oneProbeOneServerNothingFails(Topology t) throws Exception {
        Identity probe = t.identity(1, "probe-1");
        t.redis();
        Server s = t.server("server", List.of(probe), true);
        ViewerMonitor v = s.viewer();
        Daemon p = t.probe(probe, capture(), true, List.of(s.hostPort()));

        Outcome o = new Outcome("one probe, one server, nothing fails", t);
        o.exits(p, 0, PROBE_EXIT_MILLIS);
        o.redisEquals(truth);
        o.viewerEquals(v, truth);
        o.verify();
    }

    @Test
    void twoServersOnOneRedisEachFedByAProbeWithHalfTheCapture(Topology t) throws Exception {
        Path first = t.dir.resolve("first-half.pcap");
        Path second = t.dir.resolve("second-half.pcap");
        int n = PcapFiles.splitByTime(capture(), first, second);
        Identity a = t.identity(1, "probe-first-half");
        Identity b = t.identity(2, "probe-second-half");
        t.redis();
        Server s1 = t.server("server-1", List.of(a, b), true);
        Server s2 = t.server("server-2", List.of(a, b), false);
        ViewerMonitor v = s1.viewer();
        Daemon pa = t.probe(a, first, true, List.of(s1.hostPort()));
        Daemon pb = t.probe(b, second, true, List.of(s2.hostPort()));

        Outcome o = new Outcome("two servers on one Redis, each fed half the capture (" + n + " + " + (4999 - n)
                + " packets)", t);
        o.exits(pa, 0, PROBE_EXIT_MILLIS);
        o.exits(pb, 0, PROBE_EXIT_MILLIS);
        o.redisEquals(truth);
        o.viewerEquals(v, truth);
        o.verify();
    }

    @Test
    void serverKilledTwoSecondsIntoTheReplayTheProbeFailsOverToTheNext(Topology t) throws Exception {
        Identity probe = t.identity(1, "probe-1");
        t.redis();
        Server s1 = t.server("server-1", List.of(probe), false);
        Server s2 = t.server("server-2", List.of(probe), true);
        ViewerMonitor v = s2.viewer();
        Daemon p = t.probe(probe, capture(), true, List.of(s1.hostPort(), s2.hostPort()));
        long start = t.awaitSession(probe, p);
        Topology.runUntil(start, 2000, p, s1.daemon);
        s1.daemon.kill();

        Outcome o = new Outcome("probe --server S1 --server S2, S1 killed (SIGKILL) 2 s into the replay", t);
        o.exits(p, 0, PROBE_EXIT_MILLIS);
        o.redisEquals(truth);
        o.viewerEquals(v, truth);
        o.verify();
    }

    @Test
    void pathToTheServerCutTwoSecondsInTheProbeFailsOverWhileThatServerLivesOn(Topology t) throws Exception {
        Identity probe = t.identity(1, "probe-1");
        t.redis();
        Server s1 = t.server("server-1", List.of(probe), false);
        Server s2 = t.server("server-2", List.of(probe), true);
        ViewerMonitor v = s2.viewer();
        FaultProxy path = t.proxy("path-to-server-1", s1.udpPort, FaultProxy.Faults.NONE, 1);
        Daemon p = t.probe(probe, capture(), true, List.of("127.0.0.1:" + path.port(), s2.hostPort()));
        long start = t.awaitSession(probe, p);
        Topology.runUntil(start, 2000, p, s1.daemon);
        // a partition, not a crash: server-1 keeps its session, its flows and whatever it has not written yet
        path.blackhole(true);

        Outcome o = new Outcome("path to S1 cut 2 s into the replay (S1 alive), the probe fails over to S2", t);
        o.exits(p, 0, PROBE_EXIT_MILLIS);
        o.check(s1.daemon.alive(), "server-1 died during the partition: " + s1.daemon.tail(5));
        o.redisEquals(truth);
        o.viewerEquals(v, truth);
        o.verify();
    }

    @Test
    void lossDuplicationAndReorderingBetweenProbeAndServer(Topology t) throws Exception {
        Identity probe = t.identity(1, "probe-1");
        t.redis();
        Server s = t.server("server", List.of(probe), true);
        ViewerMonitor v = s.viewer();
        FaultProxy proxy = t.proxy("lossy", s.udpPort, new FaultProxy.Faults(0.05, 0.02, 0.05), 130);
        Daemon p = t.probe(probe, capture(), true, List.of("127.0.0.1:" + proxy.port()));

        Outcome o = new Outcome("5% dropped each way, 2% duplicated, 5% reordered between probe and server", t);
        o.exits(p, 0, PROBE_EXIT_MILLIS);
        o.redisEquals(truth);
        o.viewerEquals(v, truth);
        o.figure("proxy up: " + proxy.upCounters + "; down: " + proxy.downCounters);
        // seed 130 drops 4, duplicates 1 and reorders 4 of the first 66 datagrams up, drops 3 of the first 12 down
        o.check(proxy.upCounters.dropped.get() > 0 && proxy.upCounters.duplicated.get() > 0
                && proxy.upCounters.reordered.get() > 0 && proxy.downCounters.dropped.get() > 0,
                "the proxy did not drop, duplicate "
                        + "and reorder up and drop down: the row tested less than it says (" + proxy.describe()
                        + ")");
        o.verify();
    }

    @Test
    void relayChainLosesItsFirstUpstreamTwoSecondsIn(Topology t) throws Exception {
        Identity probe = t.identity(1, "probe-1");
        Identity relayA = t.identity(101, "relay-a");
        Identity relayB = t.identity(102, "relay-b");
        t.redis();
        Server s = t.server("server", List.of(probe, relayA, relayB), true);
        ViewerMonitor v = s.viewer();
        Relay b = t.relay(relayB, List.of(relayA), List.of(s.hostPort()));
        Relay a = t.relay(relayA, List.of(probe), List.of(b.hostPort(), s.hostPort()));
        Daemon p = t.probe(probe, capture(), true, List.of(a.hostPort()));
        long start = t.awaitSession(probe, p);
        Topology.runUntil(start, 2000, p, a.daemon(), b.daemon());
        b.daemon().kill();
        long killed = System.nanoTime();

        Outcome o = new Outcome("probe -> relay A -> {relay B, else the server}, relay B killed 2 s in", t);
        // within 3 s of the kill Redis says what happened: the dead relay is no longer open, the origin's path
        // is relay A alone, and relay A's own counters show its failover
        boolean told = E2e.within(() -> "silent".equals(t.state().probe(relayB.id()).get("state"))
                && String.valueOf(relayA.id()).equals(t.state().probe(probe.id()).get("path"))
                && RedisState.num(t.state().probe(relayA.id()), "stat.failovers") >= 1, 3000);
        o.figure(String.format("after %d ms: relay B %s, probe path %s, relay A failovers %s",
                (System.nanoTime() - killed) / 1_000_000, t.state().probe(relayB.id()).get("state"), t.state()
                        .probe(probe.id()).get("path"),
                t.state().probe(relayA.id()).get("stat.failovers")));
        o.check(told, "within 3 s of relay B's death Redis did not show it silent, the probe's path as relay A"
                + " alone, and relay A's failover: relay B " + t.state().probe(relayB.id()) + ", probe " + t.state()
                        .probe(probe.id())
                + ", relay A " + t.state().probe(relayA.id()));
        o.exits(p, 0, PROBE_EXIT_MILLIS);
        o.redisEquals(truth);
        o.viewerEquals(v, truth);
        o.verify();
    }

    @Test
    void serverKilledAndRestartedBetweenTwoReplaysRedisHoldsBoth(Topology t) throws Exception {
        Identity probe = t.identity(1, "probe-1");
        t.redis();
        Server s = t.server("server", List.of(probe), true);
        ViewerMonitor v = s.viewer();
        Outcome o = new Outcome("replay, kill -9 and restart the server, replay again: Redis holds twice the truth",
                t);

        Daemon first = t.probe(probe, capture(), false, List.of(s.hostPort()));
        o.exits(first, 0, PROBE_EXIT_MILLIS);
        // exit 0 means every payload was made durable (spec 5.8): Redis holds the first replay already
        HostPairTotals.Comparison atExit = HostPairTotals.compare(truth, t.state().links());
        o.figure("Redis when the first probe exited: " + atExit.figures());
        o.check(atExit.matches(), "the first probe exited 0 before Redis held its replay (exit 0 means durable): "
                + atExit.describe());
        // the kill must meet a complete first replay in Redis, whatever the server's pace
        E2e.within(() -> t.state().links().equals(truth), 10_000);
        o.figure("before the kill: " + HostPairTotals.compare(truth, t.state().links()).figures());
        s.daemon.kill();
        s.restart();
        Daemon second = t.probe(probe, capture(), false, List.of(s.hostPort()));
        o.exits(second, 0, PROBE_EXIT_MILLIS);
        Map<String, HostPairTotals.Totals> twice = HostPairTotals.times(truth, 2);
        o.redisEquals(twice);
        o.viewerEquals(v, twice);
        o.check(v.connections() >= 2, v.name + " did not reconnect after the restart (" + v.describe() + ")");
        o.verify();
    }

    @Test
    void serverPausedTwoSecondsDuringTheReplay(Topology t) throws Exception {
        Identity probe = t.identity(1, "probe-1");
        t.redis();
        Server s = t.server("server", List.of(probe), true);
        ViewerMonitor v = s.viewer();
        Daemon p = t.probe(probe, capture(), true, List.of(s.hostPort()));
        long start = t.awaitSession(probe, p);
        Topology.runUntil(start, 2000, p, s.daemon);
        s.daemon.pause();
        Topology.runUntil(start, 4000, p);
        s.daemon.resume();

        Outcome o = new Outcome("server paused 2 s (SIGSTOP, SIGCONT) 2 s into the replay", t);
        o.exits(p, 0, PROBE_EXIT_MILLIS);
        o.redisEquals(truth);
        o.viewerEquals(v, truth);
        o.verify();
    }
}
