package org.glouglou.relay;

import static org.glouglou.protocol.transport.TestReceiver.await;
import static org.glouglou.relay.RelayTestNet.identity;
import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.glouglou.protocol.ProtocolConstants;
import org.glouglou.protocol.internal.InternalEvents;
import org.glouglou.protocol.session.ProbeSecrets;
import org.glouglou.protocol.session.ProbeSession;
import org.glouglou.protocol.transport.ExportPipeline;
import org.glouglou.protocol.transport.TestReceiver;
import org.glouglou.protocol.transport.Uplink;
import org.glouglou.relay.RelayTestNet.Identity;
import org.junit.jupiter.api.Test;

/**
 * Delivery through relays over real UDP on loopback (spec 5.6, 5.8), against an upstream receiver made of the real
 * ReceiverSessions and AckWindow that acknowledges each origin's datagrams in FORWARD_ACKs: the acknowledgements find
 * their way back to the probe through one relay and through two; when a relay's upstream dies, the relay sends every
 * origin payload not yet durable to the next one itself (the probe resends nothing) and its STATS are right there
 * within 3 s; a stopping relay says BYE.
 */
class RelayDeliveryIT {
    static final Identity PROBE = identity(7, "captor");
    static final Identity R1 = identity(101, "site-relay");
    static final Identity R2 = identity(102, "dmz-relay");

    static TestReceiver receiver(long durableAfter, Identity... known) throws Exception {
        return new TestReceiver(RelayTestNet.REGISTRY, ProbeSecrets.load(RelayTestNet.secretsFile(List.of(known))), 0,
                durableAfter);
    }

    /** The probe: an uplink with its resend buffer, as ProbeMain makes it, over a live (dropping) pipeline. */
    record Probe(ExportPipeline pipeline, Uplink uplink) implements AutoCloseable {
        static Probe to(InetSocketAddress receiver) throws Exception {
            ExportPipeline p = new ExportPipeline(RelayTestNet.REGISTRY, ProtocolConstants.DEFAULT_MAX_DATAGRAM, 1024,
                    false);
            ProbeSession s = new ProbeSession(RelayTestNet.REGISTRY, PROBE.id(), PROBE.secret(), "captor", "test",
                    false);
            Uplink u = new Uplink(List.of(receiver), s, RelayTestNet.REGISTRY, p, Uplink.Config.defaults());
            u.start();
            return new Probe(p, u);
        }

        /** {@code n} payloads of one NOTICE each, {@code spacing} ms apart: traffic, paced as a probe's. */
        void send(String prefix, int n, long spacing) throws InterruptedException {
            for (int i = 0; i < n; i++) {
                pipeline.emit(System.currentTimeMillis() * 1000, new InternalEvents.Notice(6, prefix + i));
                pipeline.flush();
                Thread.sleep(spacing);
            }
        }

        @Override
        public void close() {
            uplink.close();
        }
    }

    static Set<String> texts(String prefix, int n) {
        return IntStream.range(0, n).mapToObj(i -> prefix + i).collect(Collectors.toSet());
    }

    /** The notices the probe (origin 7) sent that reached the receiver, through whichever relays. */
    static Set<String> fromProbe(TestReceiver r) {
        Set<String> out = new HashSet<>();
        for (TestReceiver.Delivered d : r.delivered) {
            if (d.probeId() == PROBE.id() && d.event() instanceof InternalEvents.Notice n) {
                out.add(n.text());
            }
        }
        return out;
    }

    static String missing(TestReceiver r, Set<String> want) {
        Set<String> m = new TreeSet<>(want);
        m.removeAll(fromProbe(r));
        return m.size() + " missing, e.g. " + m.stream().limit(5).toList();
    }

    @Test
    void acknowledgementsFindTheirWayBackThroughOneRelayAndThroughTwo() throws Exception {
        try (TestReceiver server = receiver(100, PROBE, R1, R2);
                Relay r2 = RelayTestNet.relay(R2, List.of(R1), 4096, server.address());
                Relay r1 = RelayTestNet.relay(R1, List.of(PROBE), 4096, r2.address());
                Relay direct = RelayTestNet.relay(R1, List.of(PROBE), 4096, server.address())) {
            for (Relay first : List.of(direct, r1)) {
                String prefix = first == direct ? "one-" : "two-";
                try (Probe probe = Probe.to(first.address())) {
                    // lone datagrams first teach the probe how late acknowledgements come through relays: one with
                    // fewer than 16 behind it waits for a PONG at each hop, so its delay depends on where it falls
                    // between the hops' PINGs (every 500 ms): 170 ms apart, ten of them fall all over that interval
                    // (resending some of these on a timeout is allowed: the probe cannot know yet)
                    probe.send(prefix + "warm-", 10, 170);
                    await(() -> probe.uplink().unacknowledged() == 0, 10_000, () -> prefix + ": " + probe.uplink()
                            .unacknowledged() + " payloads of the first burst not acknowledged at the probe");
                    long resentBefore = probe.uplink().resendBuffer().resent();
                    Set<String> want = texts(prefix, 200);
                    probe.send(prefix, 200, 2);
                    await(() -> fromProbe(server).containsAll(want), 10_000, () -> missing(server, want));
                    await(() -> probe.uplink().unacknowledged() == 0, 10_000, () -> prefix + ": " + probe.uplink()
                            .unacknowledged() + " payloads not acknowledged at the probe");
                    await(() -> first.counters().get("forward_kept") == 0, 5_000, () -> "relay still keeps "
                            + first.counters());
                    System.out.printf("%s: probe resent %d while learning, %d after; timeout %d ms; relay %s%n",
                            prefix, resentBefore, probe.uplink().resendBuffer().resent() - resentBefore, probe.uplink()
                                    .resendBuffer().timeoutMillis(),
                            first.counters());
                    assertEquals(resentBefore, probe.uplink().resendBuffer().resent(), prefix
                            + ": nothing lost on loopback, and slow is not taken for lost");
                }
            }
            assertTrue(r2.counters().get("forward_acks_routed") > 0, "the second relay passed FORWARD_ACKs down");
        }
    }

    @Test
    void whenItsUpstreamDiesARelaySendsWhatWasNotDurableToTheNextOneItself() throws Exception {
        try (TestReceiver a = receiver(TestReceiver.NEVER, PROBE, R1);
                TestReceiver b = receiver(TestReceiver.AT_ONCE, PROBE, R1);
                Relay r1 = RelayTestNet.relay(R1, List.of(PROBE), 4096, a.address(), b.address());
                Probe probe = Probe.to(r1.address())) {
            Set<String> want = texts("f", 30);
            probe.send("f", 30, 2);
            await(() -> fromProbe(a).containsAll(want), 5_000, () -> missing(a, want));
            // a makes nothing durable: the probe hears RECEIVED (through the relay) and does not resend on a timeout
            await(() -> r1.counters().get("forward_acks_routed") > 0, 3_000, () -> "no FORWARD_ACK routed");
            long kept = r1.counters().get("forward_kept");
            assertTrue(kept >= 30, "the relay keeps what a did not make durable: " + kept);
            long down = System.currentTimeMillis();
            a.silence(true);
            await(() -> fromProbe(b).containsAll(want), 3_000, () -> missing(b, want));
            long resentAt = System.currentTimeMillis() - down;
            await(() -> probe.uplink().unacknowledged() == 0, 5_000, () -> probe.uplink().unacknowledged()
                    + " not acknowledged at the probe");
            // the relay's STATS reach b at the start of the new session, and then every second
            await(() -> b.delivered.stream().anyMatch(d -> d.probeId() == R1.id()
                    && d.event() instanceof InternalEvents.Stats s && Long.valueOf(1).equals(s.counters().get(
                            "failovers"))),
                    3_000, () -> "no STATS with the failover at b");
            long statsAt = System.currentTimeMillis() - down;
            System.out.printf("relay upstream failover: all resent to b after %d ms, STATS there after %d ms;"
                    + " relay %s%n", resentAt, statsAt, r1.counters());
            assertTrue(resentAt < 2_000, "resent after " + resentAt + " ms");
            assertTrue(statsAt < 3_000, "STATS after " + statsAt + " ms");
            assertEquals(0, probe.uplink().resendBuffer().resent(), "the relay resent, not the probe");
            assertTrue(r1.counters().get("forward_resent") >= 30);
            assertEquals(0L, r1.counters().get("forward_dropped_events"));
        }
    }

    @Test
    void aStoppingRelaySaysBye() throws Exception {
        try (TestReceiver server = receiver(TestReceiver.AT_ONCE, PROBE, R1)) {
            RelayMain main = new RelayMain();
            Path secrets = RelayTestNet.secretsFile(List.of(PROBE));
            Path self = R1.file();
            int[] code = {-1};
            Thread t = new Thread(() -> code[0] = RelayMain.run(main, new String[]{"--listen", "127.0.0.1:0",
                    "--secrets", secrets.toString(), "--secret-file", self.toString(), "--upstream", "127.0.0.1:"
                            + server.address().getPort(),
                    "--keep-privileges"}, new PrintStream(new ByteArrayOutputStream()), new PrintStream(
                            new ByteArrayOutputStream())));
            t.start();
            await(() -> server.established.size() == 1, 5_000, () -> "the relay never connected");
            long stop = System.currentTimeMillis();
            main.stop(); // what SIGTERM does through the shutdown hook
            t.join(5_000);
            long took = System.currentTimeMillis() - stop;
            assertEquals(0, code[0]);
            await(() -> server.closed.contains("probe said BYE"), 1_000, () -> "no BYE: " + server.closed);
            assertTrue(took < 2_000, "stopped in " + took + " ms");
        }
    }
}
