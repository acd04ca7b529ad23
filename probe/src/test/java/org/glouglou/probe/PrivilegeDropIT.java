package org.glouglou.probe;

import static org.junit.jupiter.api.Assertions.*;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The probe started as root opens its capture on lo, drops to nobody (and into an empty chroot), and goes on
 * capturing. Checked from outside the process, thread by thread, through /proc: every thread's real, effective, saved
 * and file-system uid and gid are 65534 and its effective capabilities are zero. Stopped by SIGTERM, the live capture
 * ends its open flow with DELCONN reason shutdown (spec 5.7) and the probe is gone within 2 s.
 */
class PrivilegeDropIT {
    static final long NOBODY = 65534;

    @Test
    void everyThreadIsUnprivilegedWhileCaptureGoesOn(@TempDir Path empty) throws Exception {
        Assumptions.assumeTrue("0".equals(new String(new ProcessBuilder("id", "-u").start().getInputStream()
                .readAllBytes()).trim()), "needs root to open a live capture and drop from it");
        Assumptions.assumeTrue(Files.exists(Path.of("/usr/lib/x86_64-linux-gnu/libpcap.so.0.8")) || Files.exists(Path
                .of("/usr/lib/x86_64-linux-gnu/libpcap.so.1")), "needs libpcap");
        Files.setPosixFilePermissions(empty, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        int port;
        try (DatagramSocket probeTarget = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            port = probeTarget.getLocalPort();
        }
        // jars, not class directories: inside the chroot classes still load from jars opened before it
        String cp = classPathOfJars();
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:+UseSerialGC", "-cp", cp, "org.glouglou.probe.ProbeMain", "-i", "lo", "-f", "udp port " + port,
                "--print", "--tick", "50", "--user", "nobody", "--chroot", empty.toString());
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        List<String> printed = new java.util.concurrent.CopyOnWriteArrayList<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String l; (l = r.readLine()) != null;) {
                    lines.add(l);
                    printed.add(l);
                }
            } catch (IOException e) {
                // the process ended
            }
        });
        reader.setDaemon(true);
        reader.start();
        try (DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            // the drop happens right after the capture opens: wait until the process is nobody, bounded
            long deadline = System.currentTimeMillis() + 20_000;
            while (System.currentTimeMillis() < deadline && !allThreads(p.pid(), "Uid:").stream().allMatch(
                    l -> l.matches("Uid:\\s+65534\\s+65534\\s+65534\\s+65534"))) {
                assertTrue(p.isAlive(), "the probe exited early with " + (p.isAlive() ? 0 : p.exitValue()));
                Thread.sleep(50);
            }
            for (String field : new String[]{"Uid:", "Gid:"}) {
                List<String> all = allThreads(p.pid(), field);
                assertTrue(all.size() > 5, "a JVM has many threads: " + all.size());
                for (String l : all) {
                    String[] f = l.trim().split("\\s+");
                    for (int i = 1; i <= 4; i++) {
                        assertEquals(NOBODY, Long.parseLong(f[i]), field + " of a thread: " + l);
                    }
                }
            }
            for (String l : allThreads(p.pid(), "CapEff:")) {
                assertEquals(0, Long.parseLong(l.trim().split("\\s+")[1], 16), "effective capabilities: " + l);
            }
            for (String l : allThreads(p.pid(), "Groups:")) {
                assertTrue(l.trim().equals("Groups:") || l.trim().equals("Groups:\t65534") || l.trim().matches(
                        "Groups:\\s+65534"), "supplementary groups: " + l);
            }
            assertEquals(empty.toRealPath(), Files.readSymbolicLink(Path.of("/proc/" + p.pid() + "/root")),
                    "chrooted into the empty directory");

            // capture goes on after the drop: traffic sent now shows up as a flow
            String seen = null;
            for (int i = 0; i < 100 && seen == null; i++) {
                byte[] b = ("after the drop " + i).getBytes(StandardCharsets.US_ASCII);
                s.send(new DatagramPacket(b, b.length, InetAddress.getLoopbackAddress(), port));
                String l = lines.poll(100, TimeUnit.MILLISECONDS);
                if (l != null && l.contains("\"NEWCONN\"") && l.contains("\"dport\":" + port)) {
                    seen = l;
                }
            }
            assertNotNull(seen, "no NEWCONN for udp port " + port + " after the privilege drop");

            long stop = System.currentTimeMillis();
            // SIGTERM: the open flow ends as the probe stops (through the handle: Process.destroy would also close the
            // pipe that carries what it prints then)
            p.toHandle().destroy();
            assertTrue(p.waitFor(5, TimeUnit.SECONDS), "still running 5 s after SIGTERM");
            long took = System.currentTimeMillis() - stop;
            reader.join(2000); // to the end of its output
            String end = printed.stream().filter(l -> l.contains("\"DELCONN\"") && l.contains("\"dport\":" + port))
                    .findFirst().orElse(null);
            assertNotNull(end, "no DELCONN for udp port " + port + " after SIGTERM, exit " + p.exitValue() + ": "
                    + printed);
            assertTrue(end.contains("\"reason\":\"shutdown\""), end);
            assertTrue(took < 2000, "gone " + took + " ms after SIGTERM");
        } finally {
            p.destroy();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
    }

    /** The given status line of every thread of a process. */
    static List<String> allThreads(long pid, String field) throws IOException {
        List<String> out = new ArrayList<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path t : tasks.toList()) {
                try {
                    for (String l : Files.readAllLines(t.resolve("status"))) {
                        if (l.startsWith(field)) {
                            out.add(l);
                        }
                    }
                } catch (IOException threadEnded) {
                    // a thread may end while we look
                }
            }
        }
        return out;
    }

    /** The probe's packaged jar and its dependencies (target/lib), as the launcher runs it. */
    static String classPathOfJars() throws IOException {
        Path target = Path.of("target");
        List<String> cp = new ArrayList<>();
        try (Stream<Path> s = Files.list(target)) {
            s.filter(f -> f.toString().endsWith(".jar") && !f.toString().endsWith("-tests.jar")).forEach(f -> cp.add(f
                    .toAbsolutePath().toString()));
        }
        assertFalse(cp.isEmpty(), "the probe jar is built in the package phase, before integration tests");
        cp.add(target.resolve("lib").toAbsolutePath() + "/*");
        return String.join(":", cp);
    }
}
