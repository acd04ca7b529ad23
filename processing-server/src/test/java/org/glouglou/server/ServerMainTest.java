package org.glouglou.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Issue 4: a bad command line prints one line saying what is wrong and how to fix it, exit code 2, no trace. */
class ServerMainTest {
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {"--listen nonsense --allow-plain|--listen nonsense: expected ADDRESS:PORT",
            "--listen 127.0.0.1:99999 --allow-plain|the port must be a number", "--tick 0 --allow-plain|--tick 0",
            "--bogus|Unknown option", "--tick abc --allow-plain|--tick", "|--secrets FILE is required",
            "--secrets /nonexistent/secrets|cannot read secrets file /nonexistent/secrets",
            "--allow-plain --chroot /tmp|--chroot needs --user",
            "--allow-plain --redis redis://127.0.0.1:7000,redis://127.0.0.1:7001|add --redis-cluster",
            "--allow-plain --redis-cluster --redis redis://127.0.0.1:7000/3|a Redis Cluster has database 0 only",
            "--allow-plain --redis 127.0.0.1:6379|--redis 127.0.0.1:6379: expected redis://HOST:PORT",
            "--allow-plain --redis-cluster --redis redis://127.0.0.1:7000,,redis://127.0.0.1:7001|an empty URI"})
    void badCommandLineIsOneLineAndExitTwo(String args, String expected) {
        PrintStream old = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true));
        int code;
        try {
            code = ServerMain.run(args == null ? new String[0] : args.split(" "));
        } finally {
            System.setErr(old);
        }
        String out = err.toString().strip();
        assertEquals(2, code, out);
        assertEquals(1, out.lines().count(), out);
        assertTrue(out.contains(expected), out);
        assertFalse(out.contains("\tat "), out);
    }

    @org.junit.jupiter.api.Test
    void helpShowsTheClusterOption() {
        PrintStream old = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true));
        try {
            assertEquals(0, ServerMain.run(new String[]{"--help"}));
        } finally {
            System.setOut(old);
        }
        String help = out.toString();
        assertTrue(help.contains("--redis=URI[,URI...]"), help);
        assertTrue(help.contains("--redis-cluster"), help);
    }
}
