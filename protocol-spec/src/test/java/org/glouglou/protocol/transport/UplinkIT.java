package org.glouglou.protocol.transport;

import static org.glouglou.protocol.transport.TestReceiver.await;
import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.glouglou.protocol.PayloadBuilder;
import org.glouglou.protocol.ProtocolConstants;
import org.glouglou.protocol.internal.InternalEvents;
import org.glouglou.protocol.session.ProbeSecrets;
import org.glouglou.protocol.session.ProbeSession;
import org.glouglou.spi.ModuleRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The uplink over real UDP on loopback against receivers made of the real {@link org.glouglou.protocol.session
 * .ReceiverSessions} and {@link org.glouglou.protocol.session.AckWindow} (spec 5.7, 5.8): every payload delivered and
 * acknowledged over a path that drops, duplicates and reorders; slow durability not mistaken for loss; failover to the
 * second receiver within 2 s with what was not durable sent again; a restarted receiver; forged datagrams from the
 * path; the resend buffer's bound for a live capture and a capture file.
 */
class UplinkIT {
    static final byte[] SECRET = new byte[32];
    static final long PROBE = 9;
    final ModuleRegistry registry = ModuleRegistry.internalOnly();
    final ProbeSecrets secrets = new ProbeSecrets(Map.of(PROBE, new ProbeSecrets.Entry(PROBE, SECRET, "p9")));

    TestReceiver receiver(long durableAfter) throws IOException {
        return new TestReceiver(registry, secrets, 0, durableAfter);
    }

    Uplink uplink(List<InetSocketAddress> to, ExportPipeline pipeline, Uplink.Config config) throws IOException {
        ProbeSession s = new ProbeSession(registry, PROBE, SECRET, "p9", "test", false);
        return new Uplink(to, s, registry, pipeline, config);
    }

    /** One NOTICE a payload, so that every payload can be told apart at the receiver. */
    static void send(ExportPipeline pipeline, String text) {
        pipeline.emit(System.currentTimeMillis() * 1000, new InternalEvents.Notice(6, text));
        pipeline.flush();
    }

    static Set<String> texts(String prefix, int n) {
        return IntStream.range(0, n).mapToObj(i -> prefix + i).collect(Collectors.toSet());
    }

    static String missing(TestReceiver r, Set<String> want) {
        Set<String> m = new TreeSet<>(want);
        m.removeAll(r.notices());
        return m.size() + " missing, e.g. " + m.stream().limit(5).toList();
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3})
    void overALossyPathEveryPayloadIsDeliveredAndAcknowledged(long seed) throws Exception {
        try (TestReceiver r = receiver(TestReceiver.AT_ONCE);
                LossyProxy path = new LossyProxy(r.address(), seed, 0.05, 0.02, 0.05)) {
            ExportPipeline pipeline = new ExportPipeline(registry, 1200, 1024, false);
            try (Uplink u = uplink(List.of(path.address()), pipeline, Uplink.Config.defaults())) {
                u.start();
                Set<String> want = texts("n", 300);
                for (int i = 0; i < 300; i++) {
                    send(pipeline, "n" + i);
                    Thread.sleep(3);
                }
                await(() -> r.notices().containsAll(want), 20_000, () -> missing(r, want));
                await(() -> u.unacknowledged() == 0, 20_000, () -> u.unacknowledged() + " payloads unacknowledged");
                ResendBuffer b = u.resendBuffer();
                System.out.printf("seed %d: path dropped %d, duplicated %d, reordered %d; uplink resent %d,"
                        + " sessions %d, timeout %d ms%n", seed, path.dropped.get(), path.duplicated.get(),
                        path.reordered.get(), b.resent(), u.sessions(), b.timeoutMillis());
                assertTrue(path.dropped.get() > 0 && path.duplicated.get() > 0 && path.reordered.get() > 0);
                assertTrue(b.resent() > 0, "what the path lost was sent again");
                assertEquals(300, b.acked(), "each payload forgotten once, when durable");
                assertEquals(0, b.expiredEvents() + b.droppedEvents(), "nothing given up");
            }
        }
    }

    @Test
    void aSlowStoreIsNotTakenForLoss() throws Exception {
        // durable after 2.5 s, received acknowledged after 500 ms: the received ones are not resent on a timeout
        try (TestReceiver r = receiver(2_500)) {
            ExportPipeline pipeline = new ExportPipeline(registry, 1200, 1024, false);
            try (Uplink u = uplink(List.of(r.address()), pipeline, Uplink.Config.defaults())) {
                u.start();
                await(u::established, 3_000, () -> "no session");
                for (int i = 0; i < 50; i++) {
                    send(pipeline, "s" + i);
                    Thread.sleep(20);
                }
                await(() -> u.unacknowledged() == 0, 10_000, () -> u.unacknowledged() + " payloads unacknowledged");
                assertEquals(0, u.resendBuffer().resent(), "slow is not lost");
                assertEquals(50, r.count(InternalEvents.Notice.class), "each payload arrived once");
            }
        }
    }

    @Test
    void whatIsNeverDurableIsKeptAndTheDrainSaysSo() throws Exception {
        try (TestReceiver r = receiver(TestReceiver.NEVER)) {
            ExportPipeline pipeline = new ExportPipeline(registry, 1200, 1024, false);
            try (Uplink u = uplink(List.of(r.address()), pipeline, Uplink.Config.defaults())) {
                u.start();
                await(u::established, 3_000, () -> "no session");
                for (int i = 0; i < 10; i++) {
                    send(pipeline, "k" + i);
                }
                await(() -> r.notices().size() == 10, 3_000, () -> r.notices().toString());
                assertFalse(u.drain(1_500), "nothing durable: the drain must say so");
                assertEquals(10, u.unacknowledged());
                assertEquals(0, u.resendBuffer().resent(), "received, so no timeout resend");
            }
        }
    }

    @Test
    void failsOverToTheSecondReceiverWithinTwoSecondsAndSendsWhatWasNotDurableAgain() throws Exception {
        try (TestReceiver first = receiver(TestReceiver.NEVER); TestReceiver second = receiver(TestReceiver.AT_ONCE)) {
            ExportPipeline pipeline = new ExportPipeline(registry, 1200, 1024, false);
            try (Uplink u = uplink(List.of(first.address(), second.address()), pipeline, Uplink.Config.defaults())) {
                u.start();
                await(u::established, 3_000, () -> "no session");
                Set<String> want = texts("f", 20);
                for (int i = 0; i < 20; i++) {
                    send(pipeline, "f" + i);
                }
                await(() -> first.notices().containsAll(want), 3_000, () -> missing(first, want));
                long down = System.currentTimeMillis();
                first.silence(true); // it dies with 20 payloads it never made durable
                await(() -> !second.established.isEmpty(), 3_000, () -> "no session with the second receiver");
                long took = System.currentTimeMillis() - down;
                await(() -> second.notices().containsAll(want), 2_000, () -> missing(second, want));
                long resentBy = System.currentTimeMillis() - down;
                send(pipeline, "after");
                await(() -> u.unacknowledged() == 0, 3_000, () -> u.unacknowledged() + " unacknowledged");
                System.out.printf("failover: session with the second receiver %d ms after the first fell silent,"
                        + " everything resent there after %d ms%n", took, resentBy);
                assertTrue(took < 2_000, "failover took " + took + " ms");
                assertEquals(second.address(), u.currentServer());
                assertEquals(1, u.failovers());
                assertTrue(second.notices().indexOf("after") > second.notices().indexOf("f19"),
                        "the resends go before new payloads");
            }
        }
    }

    @Test
    void aRestartedReceiverGetsANewSessionContinuingTheSequenceAndTheUnacknowledgedPayloads() throws Exception {
        try (TestReceiver r = receiver(TestReceiver.NEVER)) {
            ExportPipeline pipeline = new ExportPipeline(registry, 1200, 1024, false);
            try (Uplink u = uplink(List.of(r.address()), pipeline, Uplink.Config.defaults())) {
                u.start();
                await(u::established, 3_000, () -> "no session");
                Set<String> want = texts("r", 10);
                for (int i = 0; i < 10; i++) {
                    send(pipeline, "r" + i);
                }
                await(() -> r.notices().size() == 10, 3_000, () -> r.notices().toString());
                long before = r.delivered.stream().mapToLong(TestReceiver.Delivered::sequence).max().orElseThrow();
                r.durableAfter(TestReceiver.AT_ONCE);
                r.restart(); // its sessions are gone: it answers the next PING with AUTH_FAIL expired
                await(() -> u.unacknowledged() == 0, 5_000, () -> u.unacknowledged() + " unacknowledged");
                assertEquals(2, u.sessions(), "handshake again with the same receiver");
                assertTrue(u.hints() >= 1, "the AUTH_FAIL hint was heard (and answered with a PING)");
                assertEquals(20, r.notices().size(), "each payload twice: before and after the restart");
                assertTrue(r.notices().subList(10, 20).containsAll(want));
                long firstAfter = r.delivered.stream().filter(d -> d.sessionId() == r.established.get(1).sessionId())
                        .mapToLong(TestReceiver.Delivered::sequence).min().orElseThrow();
                assertTrue(firstAfter > before, "sequence numbers run on across sessions: " + firstAfter + " after "
                        + before);
                assertEquals(r.established.get(0).boot(), r.established.get(1).boot(), "one boot");
            }
        }
    }

    @Test
    void forgedAuthFailChallengeAndByeFromThePathChangeNothing() throws Exception {
        try (TestReceiver r = receiver(TestReceiver.AT_ONCE)) {
            ExportPipeline pipeline = new ExportPipeline(registry, 1200, 1024, false);
            try (Uplink u = uplink(List.of(r.address()), pipeline, Uplink.Config.defaults())) {
                u.start();
                await(() -> r.established.size() == 1 && u.established(), 3_000, () -> "no session");
                long sid = r.established.get(0).sessionId();
                PayloadBuilder forger = new PayloadBuilder(registry, ProtocolConstants.DEFAULT_MAX_DATAGRAM, 1000);
                forger.add(0, new InternalEvents.AuthFail(InternalEvents.AuthFail.EXPIRED, "forged"));
                r.sendRaw(forger.finish(PROBE, sid, 0, null));
                forger.add(0, new InternalEvents.Challenge(new byte[32], 1234, 0));
                r.sendRaw(forger.finish(PROBE, 1234, 0, null));
                forger.add(0, new InternalEvents.Bye(InternalEvents.Bye.SHUTDOWN));
                r.sendRaw(forger.finish(PROBE, sid, 99, null));
                await(() -> u.hints() == 1, 2_000, () -> "the AUTH_FAIL hint was not heard");
                send(pipeline, "after the forgeries");
                await(() -> r.notices().contains("after the forgeries") && u.unacknowledged() == 0, 3_000,
                        () -> "not delivered in the same session");
                // twice the time a silent session takes to end: six more PINGs answered in the same session
                long seen = r.datagrams.get();
                await(() -> r.datagrams.get() >= seen + 6, 5_000, () -> "the PINGs stopped");
                assertEquals(1, u.sessions(), "the session carried on");
                assertEquals(1, r.established.size());
                assertEquals(1, u.handshakes());
            }
        }
    }

    @Test
    void aFullBufferGivesTheOldestUpOnALiveCaptureAndCountsThem() throws Exception {
        try (TestReceiver r = receiver(TestReceiver.NEVER)) {
            ExportPipeline pipeline = new ExportPipeline(registry, 1200, 1024, false);
            Uplink.Config c = Uplink.Config.defaults().withResend(ResendBuffer.Config.defaults().withCapacity(16));
            try (Uplink u = uplink(List.of(r.address()), pipeline, c)) {
                u.start();
                await(u::established, 3_000, () -> "no session");
                for (int i = 0; i < 40; i++) {
                    send(pipeline, "l" + i);
                }
                await(() -> r.notices().size() == 40, 3_000, () -> r.notices().size() + " of 40");
                await(() -> u.unacknowledged() == 16, 1_000, () -> u.unacknowledged() + " unacknowledged");
                assertEquals(24, u.resendBuffer().droppedEvents(), "the 24 oldest given up, counted");
            }
        }
    }

    @Test
    void aCaptureFileWaitsForRoomInsteadOfGivingUp() throws Exception {
        try (TestReceiver r = receiver(1_500)) {
            ExportPipeline pipeline = new ExportPipeline(registry, 1200, 1024, true);
            Uplink.Config c = Uplink.Config.defaults().withResend(ResendBuffer.Config.defaults().withCapacity(16));
            try (Uplink u = uplink(List.of(r.address()), pipeline, c)) {
                u.start();
                await(u::established, 3_000, () -> "no session");
                for (int i = 0; i < 40; i++) {
                    send(pipeline, "w" + i);
                }
                await(() -> u.stalledForMillis(System.currentTimeMillis()) > 200, 2_000, () -> "never waited");
                assertEquals(16, new HashSet<>(r.notices()).size(), "16 sent, the rest wait for acknowledgements");
                await(() -> u.unacknowledged() == 0, 10_000, () -> u.unacknowledged() + " unacknowledged");
                assertEquals(texts("w", 40), new HashSet<>(r.notices()));
                assertEquals(0, u.resendBuffer().droppedEvents() + pipeline.eventsDropped(), "nothing given up");
            }
        }
    }
}
