package org.glouglou.probe.e2e;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.glouglou.probe.e2e.Topology.Identity;
import org.glouglou.probe.e2e.Topology.Server;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Unsealed datagrams cannot end or change an established session (spec 5.2, 5.7): during a replay, one forged
 * AUTH_FAIL (expired, naming the current session), BYE, or CHALLENGE reaches the probe's UDP port, both from a stray
 * loopback socket and from the very address the probe sends to (an attacker on the path; a fault proxy without faults
 * stands between probe and server for that). Nothing changes: no new HELLO, the same session to the end, in the
 * server's view as on the wire, and every host pair exact.
 */
@Tag("e2e")
@ExtendWith(E2eExtension.class)
class ForgedRepliesIT {
    enum Forgery {
        AUTH_FAIL, BYE, CHALLENGE
    }

    static Map<String, HostPairTotals.Totals> truth;

    @BeforeAll
    static void truth() throws Exception {
        truth = HostPairTotals.truth(E2e.CAPTURE);
    }

    @ParameterizedTest
    @EnumSource(Forgery.class)
    void oneForgedDatagramDuringASessionChangesNothing(Forgery forgery, Topology t) throws Exception {
        Identity probe = t.identity(1, "probe-1");
        t.redis();
        Server s = t.server("server", List.of(probe), true);
        ViewerMonitor v = s.viewer();
        FaultProxy path = t.proxy("on-path", s.udpPort, FaultProxy.Faults.NONE, 1);
        Daemon p = t.probe(probe, E2e.capture(E2e.CAPTURE), true, List.of("127.0.0.1:" + path.port()));
        long start = t.awaitSession(probe, p);
        Topology.runUntil(start, 2000, p, s.daemon);

        long session = path.currentSession();
        String serverSession = t.state().probe(probe.id()).get("session");
        Set<Integer> ports = UdpPorts.of(p.pid());
        List<byte[]> forged = forged(forgery, probe.id(), session, path.lastHelloTag());
        long forgedAt = System.nanoTime();
        try (DatagramSocket stray = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            for (byte[] d : forged) {
                for (int port : ports) {
                    stray.send(new DatagramPacket(d, d.length, InetAddress.getLoopbackAddress(), port));
                }
                path.injectDown(d);
            }
        }
        p.note(forged.size() + " forged " + forgery + " datagram(s) sent to udp " + ports
                + " from a stray socket and from the probe's receiver address, session " + Long.toHexString(
                        session));

        Outcome o = new Outcome("one forged " + forgery + " during a session", t);
        o.check(session != 0, "no sealed datagram from the probe went through before the forgery");
        o.check(!ports.isEmpty(), "no UDP port found for the probe's pid " + p.pid());
        o.exits(p, 0, FaultMatrixIT.PROBE_EXIT_MILLIS);
        List<String> after = new ArrayList<>();
        Set<Long> sessionsAfter = new TreeSet<>();
        for (FaultProxy.Seen x : path.seen()) {
            if (x.up() && x.nanos() > forgedAt) {
                if (x.header().is(Datagrams.HELLO)) {
                    after.add("HELLO at +" + (x.nanos() - forgedAt) / 1_000_000 + " ms");
                }
                if (x.header().sealed()) {
                    sessionsAfter.add(x.header().sessionId());
                }
            }
        }
        o.figure("sessions after the forgery " + sessionsAfter.stream().map(Long::toHexString).toList()
                + ", handshakes after it " + after.size());
        o.check(after.isEmpty(), "the probe handshook again after the forged " + forgery + ": " + after);
        o.check(sessionsAfter.equals(Set.of(session)), "the probe's sealed datagrams after the forgery were in "
                + "sessions " + sessionsAfter.stream().map(Long::toHexString).toList() + ", not only in "
                + Long.toHexString(session));
        String serverSessionAfter = t.state().probe(probe.id()).get("session");
        o.check(serverSession == null || serverSession.equals(serverSessionAfter), "the server's view of the "
                + "probe's session changed: gg:probe:" + probe.id() + " session " + serverSession + " -> "
                + serverSessionAfter);
        o.redisEquals(truth);
        o.viewerEquals(v, truth);
        o.verify();
    }

    /**
     * What a forger can send: an AUTH_FAIL expired naming the current session (the one hint a receiver that lost the
     * session gives); a BYE, unsealed, and flagged sealed with random bytes (it has no key); a CHALLENGE for the
     * probe's last HELLO, which it read on the wire.
     */
    static List<byte[]> forged(Forgery f, long probeId, long session, long helloTag) {
        return switch (f) {
            case AUTH_FAIL -> List.of(Datagrams.authFail(probeId, session, Datagrams.EXPIRED, "forged"));
            case BYE -> List.of(Datagrams.unsealedBye(probeId, session), Datagrams.fakeSealed(probeId, session,
                    1_000_000));
            case CHALLENGE -> List.of(Datagrams.challenge(probeId, session == 0 ? 1 : session, helloTag == -1
                    ? 0
                    : helloTag));
        };
    }
}
