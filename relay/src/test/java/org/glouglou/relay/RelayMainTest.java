package org.glouglou.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.glouglou.protocol.session.ProbeSecrets;
import org.junit.jupiter.api.Test;

/** The relay's command line fails in one line that says what to fix, with exit code 2. */
class RelayMainTest {
    static String[] run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = RelayMain.run(args, new PrintStream(out), new PrintStream(err));
        return new String[]{String.valueOf(code), err.toString(StandardCharsets.UTF_8)};
    }

    static void oneLine(String[] r, String expected) {
        assertEquals("2", r[0], r[1]);
        assertEquals(1, r[1].strip().lines().count(), r[1]);
        assertTrue(r[1].startsWith("glouglou relay: ") && r[1].contains(expected), r[1]);
    }

    @Test
    void missingOptionsAreOneLineEach() throws Exception {
        Path probes = Files.createTempFile("gg", ".secrets");
        Files.writeString(probes, ProbeSecrets.newLine(7, "p") + "\n");
        Path self = Files.createTempFile("gg", ".secret");
        Files.writeString(self, ProbeSecrets.newLine(101, "r") + "\n");
        oneLine(run(), "--secrets FILE is required");
        oneLine(run("--secrets", probes.toString()), "--secret-file FILE is required");
        oneLine(run("--secrets", probes.toString(), "--secret-file", self.toString()), "give --upstream");
        oneLine(run("--secrets", probes.toString(), "--secret-file", self.toString(), "--upstream", "127.0.0.1:99999"),
                "the port must be a number");
        oneLine(run("--secrets", probes.toString(), "--secret-file", probes.toString() + ".missing", "--upstream",
                "127.0.0.1:4430"), "cannot read secrets file");
        oneLine(run("--secrets", self.toString(), "--secret-file", self.toString(), "--upstream", "127.0.0.1:4430"),
                "lists the relay's own id 101");
        oneLine(run("--bogus"), "Unknown option");
        oneLine(run("--config", "/nonexistent.properties"), "cannot read config file");
    }
}
