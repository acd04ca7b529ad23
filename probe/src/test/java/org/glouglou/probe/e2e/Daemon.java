package org.glouglou.probe.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalTime;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One real operating-system process of the suite (a server, relay, probe or redis-server): started with its output
 * appended to a log file that is kept (and printed when a test fails), restarted with the same command (so on the
 * same ports), and signalled as an operator or a crash would: SIGKILL, SIGTERM, SIGSTOP and SIGCONT.
 */
final class Daemon implements AutoCloseable {
    /** Every process the suite started and has not seen end: killed if the test JVM itself is stopped. */
    private static final java.util.Set<Process> LIVE = java.util.concurrent.ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(Process::destroyForcibly),
                "e2e-daemons"));
    }

    final String name;
    private final List<String> command;
    private final Path log;
    private volatile Process process;
    private int starts;
    private volatile boolean stopped;

    Daemon(String name, List<String> command, Path log) {
        this.name = name;
        this.command = List.copyOf(command);
        this.log = log;
        try {
            Files.writeString(log, "", StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    synchronized Daemon start() throws IOException {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException(name + " is running already");
        }
        starts++;
        Files.writeString(log, "=== " + LocalTime.now() + " start #" + starts + ": " + String.join(" ", command)
                + "\n", StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.APPEND);
        process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect
                .appendTo(log.toFile())).start();
        LIVE.add(process);
        Process started = process;
        started.onExit().thenRun(() -> LIVE.remove(started));
        stopped = false;
        return this;
    }

    Path log() {
        return log;
    }

    long pid() {
        return process.pid();
    }

    boolean alive() {
        Process p = process;
        return p != null && p.isAlive();
    }

    /** The exit code, or null while running. */
    Integer exitCode() {
        Process p = process;
        return p == null || p.isAlive() ? null : p.exitValue();
    }

    /** Waits for the process to end; its exit code, or null if it still runs after {@code millis}. */
    Integer awaitExit(long millis) throws InterruptedException {
        Process p = process;
        return p.waitFor(millis, TimeUnit.MILLISECONDS) ? p.exitValue() : null;
    }

    /** SIGKILL, like a crash: nothing is flushed. Waits until the process is gone. */
    void kill() throws InterruptedException {
        Process p = process;
        if (p != null) {
            p.destroyForcibly();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException(name + " (pid " + p.pid() + ") survived SIGKILL for 10 s");
            }
            note("killed (SIGKILL)");
        }
    }

    /** SIGTERM, as an operator stops a daemon; does not wait. */
    void terminate() {
        note("SIGTERM");
        process.destroy();
    }

    /** SIGSTOP: the process is frozen (its sockets stay open, nothing is read). */
    void pause() throws IOException, InterruptedException {
        signal("STOP");
        stopped = true;
    }

    /** SIGCONT after {@link #pause}. */
    void resume() throws IOException, InterruptedException {
        signal("CONT");
        stopped = false;
    }

    private void signal(String sig) throws IOException, InterruptedException {
        Process k = new ProcessBuilder("kill", "-" + sig, String.valueOf(pid())).redirectErrorStream(true).start();
        String out = new String(k.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!k.waitFor(5, TimeUnit.SECONDS) || k.exitValue() != 0) {
            throw new IllegalStateException("kill -" + sig + " " + pid() + " failed: " + out);
        }
        note("SIG" + sig);
    }

    /** A line in the log, so that a reader sees when the test did what. */
    void note(String what) {
        try {
            Files.writeString(log, "=== " + LocalTime.now() + " test: " + what + "\n", StandardCharsets.UTF_8,
                    java.nio.file.StandardOpenOption.APPEND);
        } catch (IOException ignored) {
            // a note is a courtesy
        }
    }

    String logText() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    /** The first match of {@code regex} in the output of the current run (since the last start), or null. */
    Matcher find(String regex) {
        String text = logText();
        int run = text.lastIndexOf(" start #" + starts + ": ");
        Matcher m = Pattern.compile(regex).matcher(text);
        return m.find(Math.max(0, run)) ? m : null;
    }

    /** Waits until the current run's output matches {@code regex}; fails with the log's tail. */
    Matcher awaitLog(String regex, long millis) {
        Matcher[] found = new Matcher[1];
        E2e.await(() -> {
            if (!alive() && !stopped) {
                throw new IllegalStateException(name + " exited with " + exitCode());
            }
            found[0] = find(regex);
            return found[0] != null;
        }, millis, () -> name + " never logged /" + regex + "/; its log ends with:\n" + tail(20));
        return found[0];
    }

    /** The last {@code lines} lines of the log. */
    String tail(int lines) {
        List<String> all = logText().lines().toList();
        return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    }

    @Override
    public void close() {
        Process p = process;
        if (p != null && p.isAlive()) {
            if (stopped) {
                try {
                    resume();
                } catch (Exception ignored) {
                    // SIGKILL works on a stopped process anyway
                }
            }
            p.destroyForcibly();
            try {
                p.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
