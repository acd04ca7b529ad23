package org.glouglou.probe;

import static org.glouglou.protocol.transport.TestReceiver.await;
import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.glouglou.module.network.NetworkEvents.DelConn;
import org.glouglou.module.network.NetworkEvents.NewConn;
import org.glouglou.module.network.NetworkEvents.Reason;
import org.glouglou.protocol.internal.InternalEvents;
import org.glouglou.protocol.session.ProbeSecrets;
import org.glouglou.protocol.transport.TestReceiver;
import org.glouglou.spi.ModuleRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The probe's delivery as a whole (spec 5.7, 5.8), against a receiver made of the real ReceiverSessions and AckWindow:
 * a capture file exits 0 only once every payload is acknowledged durable, and 1 with one line when they are not; a
 * probe stopped by SIGTERM (a separate JVM) ends every open flow with DELCONN reason shutdown, says BYE and is gone
 * within 2 s.
 */
class ProbeDeliveryIT {
    static final ModuleRegistry REGISTRY = ModuleRegistry.load();
    static final Path CAPTURE = ProbePrintIT.PCAPS.resolve("web_browsing__ntopng-e2e_test_01.pcap");
    static final int FLOWS = 177;

    record Run(int code, String out, String err) {
    }

    static Run probe(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = ProbeMain.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true,
                StandardCharsets.UTF_8));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** The probe's secret file and the receiver's secrets, with the same line. */
    static Path secretFile(Path dir) throws Exception {
        Path f = dir.resolve("probe.secret");
        Files.writeString(f, ProbeSecrets.newLine(7, "captor") + "\n");
        return f;
    }

    static Map<Long, DelConn> delconns(TestReceiver r) {
        Map<Long, DelConn> out = new HashMap<>();
        for (TestReceiver.Delivered d : r.delivered) {
            if (d.event() instanceof DelConn c) {
                out.put(c.conn(), c);
            }
        }
        return out;
    }

    static Set<Long> newconns(TestReceiver r) {
        Set<Long> out = new HashSet<>();
        for (TestReceiver.Delivered d : r.delivered) {
            if (d.event() instanceof NewConn c) {
                out.add(c.conn());
            }
        }
        return out;
    }

    @Test
    void aCaptureFileExitsZeroOnceEveryPayloadIsDurable(@TempDir Path dir) throws Exception {
        Path secret = secretFile(dir);
        try (TestReceiver r = new TestReceiver(REGISTRY, ProbeSecrets.load(secret), 0, 200)) {
            Run run = probe("--read", CAPTURE.toString(), "--server", "127.0.0.1:" + r.address().getPort(),
                    "--secret-file", secret.toString(), "--keep-privileges");
            assertEquals(0, run.code(), run.err());
            assertEquals(FLOWS, newconns(r).size());
            assertEquals(newconns(r), delconns(r).keySet(), "every flow ended");
            assertTrue(delconns(r).values().stream().noneMatch(d -> d.reason() == Reason.SHUTDOWN));
            assertEquals(List.of("probe said BYE"), r.closed, "BYE once everything was durable");
            InternalEvents.Stats last = null;
            for (TestReceiver.Delivered d : r.delivered) {
                if (d.event() instanceof InternalEvents.Stats s) {
                    last = s;
                }
            }
            assertNotNull(last, "the final STATS");
            for (String c : List.of("resent_datagrams", "unacked", "resend_expired_events", "resend_dropped_events")) {
                assertTrue(last.counters().containsKey(c), c + " in STATS: " + last.counters());
            }
            assertEquals(0L, last.counters().get("resend_dropped_events"));
        }
    }

    @Test
    void aReceiverThatNeverMakesThemDurableMeansExitOneAndOneLine(@TempDir Path dir) throws Exception {
        Path secret = secretFile(dir);
        try (TestReceiver r = new TestReceiver(REGISTRY, ProbeSecrets.load(secret), 0, TestReceiver.NEVER)) {
            long start = System.currentTimeMillis();
            Run run = probe("--read", CAPTURE.toString(), "--server", "127.0.0.1:" + r.address().getPort(),
                    "--secret-file", secret.toString(), "--keep-privileges", "--connect-timeout", "2");
            long took = System.currentTimeMillis() - start;
            assertEquals(1, run.code(), run.err());
            String[] lines = run.err().strip().split("\n");
            assertEquals(1, lines.length, run.err());
            assertTrue(lines[0].matches("glouglou probe: \\d+ payloads were not acknowledged by .* within .* s"),
                    lines[0]);
            assertTrue(took < 10_000, "bounded by --connect-timeout: " + took + " ms");
            assertEquals(FLOWS, delconns(r).size(), "sent (and received) all the same");
        }
    }

    /** With a receiver that acknowledges at once, and one that never does (the wait for them is bounded). */
    @ParameterizedTest
    @ValueSource(longs = {TestReceiver.AT_ONCE, TestReceiver.NEVER})
    void sigtermEndsEveryOpenFlowWithShutdownSaysByeAndIsGoneWithinTwoSeconds(long durableAfter, @TempDir Path dir)
            throws Exception {
        Path secret = secretFile(dir);
        try (TestReceiver r = new TestReceiver(REGISTRY, ProbeSecrets.load(secret), 0, durableAfter)) {
            List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-XX:+UseSerialGC", "-cp", PrivilegeDropIT.classPathOfJars(), "org.glouglou.probe.ProbeMain",
                    "--read", CAPTURE.toAbsolutePath().toString(), "--realtime", "--server", "127.0.0.1:" + r
                            .address().getPort(),
                    "--secret-file", secret.toString(), "--keep-privileges");
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("probe.log")
                    .toFile()).start();
            try {
                // the capture lasts 5.5 s at its own speed: stop it half-way, with flows open
                await(() -> newconns(r).size() >= 6, 15_000, () -> newconns(r).size() + " flows so far");
                long stop = System.currentTimeMillis();
                p.toHandle().destroy(); // SIGTERM
                assertTrue(p.waitFor(5, TimeUnit.SECONDS), "still running 5 s after SIGTERM");
                long took = System.currentTimeMillis() - stop;
                await(() -> !r.closed.isEmpty(), 1_000, () -> "no BYE");
                Map<Long, DelConn> ended = delconns(r);
                long shutdown = ended.values().stream().filter(d -> d.reason() == Reason.SHUTDOWN).count();
                System.out.printf("SIGTERM (durable after %d ms): gone after %d ms, %d flows, %d ended by the stop%n",
                        durableAfter, took, newconns(r).size(), shutdown);
                assertEquals(newconns(r), ended.keySet(), "every flow the receiver saw start has ended");
                assertTrue(shutdown > 0, "the open flows end with reason shutdown");
                assertTrue(newconns(r).size() < FLOWS, "stopped half-way");
                assertEquals(List.of("probe said BYE"), r.closed);
                assertTrue(took < 2_000, "gone " + took + " ms after SIGTERM");
            } finally {
                p.destroyForcibly();
            }
        }
    }
}
