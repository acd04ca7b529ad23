package org.glouglou.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.glouglou.protocol.session.ProbeSecrets;
import org.junit.jupiter.api.Test;

/** The relay beside the probe (--relay-listen); its options fail in one line with exit code 2. */
class ProbeRelayOptionsTest {
    static String[] run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = ProbeMain.run(args, new PrintStream(out), new PrintStream(err));
        return new String[]{String.valueOf(code), err.toString(StandardCharsets.UTF_8)};
    }

    @Test
    void relayListenWithoutSecretsIsOneLineAndExit2() throws Exception {
        Path secret = Files.createTempFile("gg", ".secret");
        Files.writeString(secret, ProbeSecrets.newLine(7, "p") + "\n");
        String[] r = run("-r", "/nonexistent.pcap", "--server", "127.0.0.1:4430", "--secret-file", secret.toString(),
                "--relay-listen", "127.0.0.1:0");
        assertEquals("2", r[0]);
        assertTrue(r[1].startsWith("glouglou probe: --relay-listen and --relay-secrets go together"), r[1]);
        assertEquals(1, r[1].strip().lines().count(), r[1]);
    }

    @Test
    void relayWithPrintIsRefused() throws Exception {
        Path secrets = Files.createTempFile("gg", ".secrets");
        Files.writeString(secrets, ProbeSecrets.newLine(8, "q") + "\n");
        String[] r = run("-r", "/nonexistent.pcap", "--print", "--relay-listen", "127.0.0.1:0", "--relay-secrets",
                secrets.toString());
        assertEquals("2", r[0]);
        assertTrue(r[1].contains("cannot be used with --print"), r[1]);
    }
}
