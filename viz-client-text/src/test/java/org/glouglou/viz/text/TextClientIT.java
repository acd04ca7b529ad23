package org.glouglou.viz.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import org.glouglou.viz.client.ExitCodes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 6, text client against the real pipeline: the snapshot printed equals what Redis holds after the probe
 * replayed a capture; JSON mode streams the deltas of a second replay; a wrong password exits 4 and a wrong pin 5,
 * each with one line.
 */
class TextClientIT {
    static Pipeline pipeline;
    static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void start() throws Exception {
        pipeline = new Pipeline();
        assertEquals(0, pipeline.replay(Pipeline.capture("web_browsing__ntopng-e2e_test_01.pcap")));
    }

    @AfterAll
    static void stop() {
        pipeline.close();
    }

    record Run(int code, String out, String err) {
    }

    static Run run(String... args) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        int code = TextClientMain.run(args, new PrintStream(o, true, StandardCharsets.UTF_8), new PrintStream(e, true,
                StandardCharsets.UTF_8));
        return new Run(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    }

    @Test
    void snapshotEqualsWhatRedisHolds() throws Exception {
        TreeSet<String> nodes = pipeline.redisNodes();
        Map<String, String> links = pipeline.redisLinks();
        assertTrue(nodes.size() > 30, "the capture made hosts: " + nodes.size());
        Run r = run(pipeline.login("--snapshot"));
        assertEquals(0, r.code(), r.err());
        TreeSet<String> gotNodes = new TreeSet<>();
        Map<String, String> gotLinks = new TreeMap<>();
        for (String l : r.out().split("\n")) {
            String[] f = l.split("\t");
            if (f[0].equals("node")) {
                gotNodes.add(f[1]);
            } else if (f[0].equals("edge")) {
                gotLinks.put(f[1] + "|" + f[2], f[3] + " " + f[4]);
            }
        }
        assertEquals(nodes, gotNodes, "nodes");
        assertEquals(links, gotLinks, "edges with bytes each way");
        assertTrue(r.out().startsWith("# glouglou graph from 127.0.0.1:" + pipeline.viewerPort + ": " + nodes.size()
                + " nodes, " + links.size() + " edges"), r.out().lines().findFirst().orElse(""));
        assertTrue(r.out().contains("\twww.repubblica.it\thost"), "nodes carry their DNS names");
    }

    @Test
    void jsonModeStreamsTheDeltasOfANewReplay() throws Exception {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        CompletableFuture<Integer> live = CompletableFuture.supplyAsync(() -> TextClientMain.run(pipeline.login(
                "--format", "json", "--duration", "8"), new PrintStream(o, true, StandardCharsets.UTF_8), System.err));
        Thread.sleep(2500); // the snapshot is in
        int before = o.toString(StandardCharsets.UTF_8).split("\n").length;
        assertEquals(0, pipeline.replay(Pipeline.capture("linktype_sll__ndpi_KakaoTalk_talk.pcap")));
        assertEquals(0, live.get());
        List<String> lines = o.toString(StandardCharsets.UTF_8).lines().toList();
        assertTrue(lines.size() > before, "deltas after the snapshot");
        int firstStep = -1;
        int addsAfter = 0;
        for (int i = 0; i < lines.size(); i++) {
            JsonNode n = JSON.readTree(lines.get(i)); // every line is one JSON object
            assertEquals(1, n.size(), lines.get(i));
            if (firstStep < 0 && n.has("st")) {
                firstStep = i;
            } else if (firstStep >= 0 && (n.has("an") || n.has("ae"))) {
                addsAfter++;
            }
        }
        assertTrue(firstStep > 40, "the snapshot (one line per element) ends with a step: " + firstStep);
        assertTrue(addsAfter > 5, "the second capture's hosts and pairs arrive as deltas: " + addsAfter);
        assertFalse(lines.get(0).startsWith("{\"ok\""), "the control line is not part of the event stream");
    }

    @Test
    void wrongPasswordExits4WithOneLine() throws Exception {
        java.nio.file.Path bad = pipeline.dir.resolve("bad-password");
        java.nio.file.Files.writeString(bad, "not it\n");
        Run r = run("--server", "127.0.0.1:" + pipeline.viewerPort, "--pin", pipeline.fingerprint, "--user", "alice",
                "--password-file", bad.toString(), "--snapshot");
        assertEquals(ExitCodes.AUTH_REFUSED, r.code(), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().contains("authentication failed"), r.err());
        assertEquals("", r.out());
    }

    @Test
    void wrongPinExits5NamingBothFingerprints() {
        String wrong = "AB".repeat(32);
        Run r = run("--server", "127.0.0.1:" + pipeline.viewerPort, "--pin", wrong, "--user", "alice",
                "--password-file", pipeline.passwordFile.toString(), "--snapshot");
        assertEquals(ExitCodes.CERTIFICATE_MISMATCH, r.code(), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().contains(pipeline.fingerprint) && r.err().contains(wrong), r.err());
    }

    @Test
    void trustOnFirstUseRemembersThenRefusesAnotherKey() throws Exception {
        java.nio.file.Path known = pipeline.dir.resolve("config/known_servers");
        String[] tofu = {"--server", "127.0.0.1:" + pipeline.viewerPort, "--user", "alice", "--password-file",
                pipeline.passwordFile.toString(), "--known-servers", known.toString(), "--snapshot"};
        assertEquals(ExitCodes.USAGE, run(tofu).code(), "an unknown server needs an explicit choice");
        String[] first = java.util.Arrays.copyOf(tofu, tofu.length + 1);
        first[tofu.length] = "--trust-on-first-use";
        assertEquals(0, run(first).code());
        assertTrue(java.nio.file.Files.readString(known).contains(pipeline.fingerprint));
        assertEquals(0, run(tofu).code(), "known now");
        java.nio.file.Files.writeString(known, "127.0.0.1:" + pipeline.viewerPort + " " + "CD".repeat(32) + "\n");
        assertEquals(ExitCodes.CERTIFICATE_MISMATCH, run(tofu).code(), "a changed key is refused");
    }

    @Test
    void unreachableServerExits3() {
        Run r = run("--server", "127.0.0.1:1", "--plain", "--user", "alice", "--password-file", pipeline.passwordFile
                .toString(), "--snapshot", "--connect-timeout", "1");
        assertEquals(ExitCodes.CANNOT_CONNECT, r.code(), r.err());
    }
}
