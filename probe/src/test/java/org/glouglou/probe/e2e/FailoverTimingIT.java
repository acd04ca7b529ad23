package org.glouglou.probe.e2e;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.glouglou.probe.e2e.Topology.Identity;
import org.glouglou.probe.e2e.Topology.Server;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Failover time over repeated kills (spec 5.7: under 2 s): three servers in a ring, each behind a fault proxy without
 * faults that timestamps every datagram; a probe lists the three proxies and replays the capture ten times end to
 * end at capture speed. Twenty times, the server the probe is using is killed (SIGKILL) and restarted on its port
 * once the probe has left it (and warmed with one handshake made by hand from spec 5.2: a fresh JVM's first
 * handshake costs 200-500 ms here, which is start-up, not failover). Failover time is measured on the wire: from the last datagram the dead server's proxy
 * passed on before the kill to the first sealed datagram the next server's proxy passes on. Prints p50 and max;
 * asserts the max is under 2 s, and that after all of it every host pair holds ten times the truth.
 */
@Tag("e2e")
@ExtendWith(E2eExtension.class)
class FailoverTimingIT {
    static final int KILLS = 20;
    static final int COPIES = 10;
    static final long FAILOVER_LIMIT_MILLIS = 2000;

    @Test
    void failoverAfterTwentyKillsTakesUnderTwoSeconds(Topology t) throws Exception {
        Path capture = t.dir.resolve("capture-x" + COPIES + ".pcap");
        PcapFiles.repeat(E2e.capture(E2e.CAPTURE), COPIES, 500_000, capture);
        Identity probe = t.identity(1, "probe-1");
        Identity warm = t.identity(900, "warm-up");
        t.redis();
        List<Server> servers = new ArrayList<>();
        List<FaultProxy> proxies = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            Server s = t.server("server-" + i, List.of(probe, warm), i == 1);
            s.warmUp(warm);
            servers.add(s);
            proxies.add(t.proxy("timing-" + i, s.udpPort, FaultProxy.Faults.NONE, i));
        }
        ViewerMonitor v = servers.get(0).viewer();
        Daemon p = t.probe(probe, capture, true, proxies.stream().map(x -> "127.0.0.1:" + x.port()).toList());
        long start = t.awaitSession(probe, p);
        Topology.runUntil(start, 1000, p);

        List<CompletableFuture<Void>> restarts = new ArrayList<>(Collections.nCopies(3, CompletableFuture
                .completedFuture(null)));
        List<Long> millis = new ArrayList<>();
        List<String> kills = new ArrayList<>();
        for (int k = 0; k < KILLS && p.alive(); k++) {
            int cur = current(proxies);
            int next = (cur + 1) % 3;
            // the next server was restarted two kills ago: it must be up before the probe needs it
            restarts.get(next).get(Topology.START_MILLIS, TimeUnit.MILLISECONDS);
            long killedAt = System.nanoTime();
            servers.get(cur).daemon.kill();
            E2e.await(() -> firstSealedAfter(proxies.get(next), killedAt) != null || !p.alive(), 10_000,
                    () -> "no sealed datagram reached " + proxies.get(next).name + " within 10 s of killing "
                            + servers.get(cur).daemon.name);
            Long first = firstSealedAfter(proxies.get(next), killedAt);
            Long last = lastPassedBefore(proxies.get(cur), killedAt);
            if (first == null || last == null) {
                break; // the replay ended
            }
            long ms = (first - last) / 1_000_000;
            millis.add(ms);
            Long hello = firstHelloAfter(proxies.get(next), killedAt);
            // where the time went: silence until the probe gave up on the dead server, then the handshake
            kills.add(servers.get(cur).daemon.name + "->" + servers.get(next).daemon.name + " " + ms + " ms (HELLO at +"
                    + (hello == null ? "?" : (hello - last) / 1_000_000) + ")");
            Server dead = servers.get(cur);
            restarts.set(cur, CompletableFuture.runAsync(() -> {
                try {
                    dead.restart();
                    dead.warmUp(warm);
                } catch (Exception e) {
                    throw new IllegalStateException(dead.daemon.name + " did not restart", e);
                }
            }));
            // some traffic on the new session before the next kill
            Topology.runUntil(System.nanoTime(), 300);
        }
        for (CompletableFuture<Void> r : restarts) {
            r.get(Topology.START_MILLIS, TimeUnit.MILLISECONDS);
        }

        List<Long> sorted = new ArrayList<>(millis);
        Collections.sort(sorted);
        Outcome o = new Outcome(KILLS + " kills of the server in use, failover measured on the wire", t);
        o.figure("failovers " + millis.size() + ": p50 " + (sorted.isEmpty() ? "-" : sorted.get(sorted.size() / 2))
                + " ms, max " + (sorted.isEmpty() ? "-" : sorted.get(sorted.size() - 1)) + " ms");
        System.out.println("[e2e] failover times: " + kills);
        o.check(millis.size() == KILLS, "only " + millis.size() + " failovers measured before the replay ended: "
                + kills);
        o.check(!sorted.isEmpty() && sorted.get(sorted.size() - 1) < FAILOVER_LIMIT_MILLIS, "a failover took "
                + (sorted.isEmpty() ? "?" : sorted.get(sorted.size() - 1)) + " ms, over " + FAILOVER_LIMIT_MILLIS
                + " ms: " + kills);
        o.exits(p, 0, FaultMatrixIT.PROBE_EXIT_MILLIS + COPIES * 6000L);
        Map<String, HostPairTotals.Totals> expected = HostPairTotals.times(HostPairTotals.truth(E2e.CAPTURE),
                COPIES);
        o.redisEquals(expected);
        o.viewerEquals(v, expected);
        o.verify();
    }

    /** The proxy that passed on the probe's latest sealed datagram. */
    static int current(List<FaultProxy> proxies) {
        int best = -1;
        long at = 0;
        for (int i = 0; i < proxies.size(); i++) {
            for (FaultProxy.Seen s : proxies.get(i).seen()) {
                if (s.up() && s.forwarded() && s.header().sealed() && (best < 0 || s.nanos() - at > 0)) {
                    at = s.nanos();
                    best = i;
                }
            }
        }
        if (best < 0) {
            throw new AssertionError("no sealed datagram from the probe through any proxy");
        }
        return best;
    }

    /** When the first sealed datagram after {@code nanos} went through {@code proxy}; null if none yet. */
    static Long firstSealedAfter(FaultProxy proxy, long nanos) {
        for (FaultProxy.Seen s : proxy.seen()) {
            if (s.up() && s.forwarded() && s.header().sealed() && s.nanos() - nanos > 0) {
                return s.nanos();
            }
        }
        return null;
    }

    /** When the first HELLO after {@code nanos} went through {@code proxy}; null if none. */
    static Long firstHelloAfter(FaultProxy proxy, long nanos) {
        for (FaultProxy.Seen s : proxy.seen()) {
            if (s.up() && s.header().is(Datagrams.HELLO) && s.nanos() - nanos > 0) {
                return s.nanos();
            }
        }
        return null;
    }

    /** When the last datagram up to {@code nanos} went through {@code proxy}; null if none. */
    static Long lastPassedBefore(FaultProxy proxy, long nanos) {
        Long last = null;
        for (FaultProxy.Seen s : proxy.seen()) {
            if (s.up() && s.forwarded() && s.nanos() - nanos <= 0) {
                last = s.nanos();
            }
        }
        return last;
    }
}
