package org.glouglou.probe.e2e;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * Where things are for the end-to-end suite (the checkout, the built daemons, the shared captures) and the one way it
 * waits: for a condition, with a deadline and a message that says what was missing.
 */
final class E2e {
    /** The shared capture of the fault matrix: 4,999 packets, 41 host pairs, 5.46 s. */
    static final String CAPTURE = "web_browsing__ntopng-e2e_test_01";

    private E2e() {
    }

    /** The checkout's root: {@code glouglou.root}, else the first parent of the working directory with the daemons. */
    static Path root() {
        String p = System.getProperty("glouglou.root");
        if (p != null && Files.isDirectory(Path.of(p, "processing-server"))) {
            return Path.of(p).toAbsolutePath().normalize();
        }
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isDirectory(d.resolve("processing-server")) && Files.isDirectory(d.resolve("relay"))) {
                return d;
            }
        }
        throw new IllegalStateException("cannot find the checkout's root from " + Path.of("").toAbsolutePath());
    }

    static Path pcaps() {
        return Path.of(System.getProperty("glouglou.pcaps", root().resolve("../shared/pcaps").toString()))
                .toAbsolutePath().normalize();
    }

    static Path capture(String name) {
        return pcaps().resolve(name + ".pcap");
    }

    /** The JVM running the tests runs the daemons too. */
    static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /**
     * A daemon's class path as the launcher builds it: the module's packaged jar and its {@code target/lib}
     * folder. The probe module's integration-test phase runs after the server and relay modules are packaged.
     */
    static String classPath(String module) {
        Path target = root().resolve(module).resolve("target");
        List<String> cp = new ArrayList<>();
        try (Stream<Path> s = Files.list(target)) {
            s.filter(f -> f.getFileName().toString().endsWith(".jar") && !f.getFileName().toString().endsWith(
                    "-tests.jar")).sorted().forEach(f -> cp.add(f.toString()));
        } catch (IOException e) {
            throw new IllegalStateException(module + " is not built (" + target + "): run mvn package first", e);
        }
        if (cp.isEmpty() || !Files.isDirectory(target.resolve("lib"))) {
            throw new IllegalStateException(module + " is not packaged: no jar or no lib/ in " + target);
        }
        cp.add(target.resolve("lib") + "/*");
        return String.join(":", cp);
    }

    /** A free loopback TCP port (viewers, Redis). */
    static int freeTcpPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** A free loopback UDP port (servers, relays, proxies). */
    static int freeUdpPort() throws IOException {
        try (DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    interface Check {
        boolean ok() throws Exception;
    }

    /**
     * Polls {@code check} every {@code pollMillis} until it holds; after {@code millis} fails with
     * {@code what.get()} (computed then, so it can say what is still missing).
     */
    static void await(Check check, long millis, Supplier<String> what) {
        long deadline = System.nanoTime() + millis * 1_000_000;
        Exception last = null;
        while (true) {
            try {
                if (check.ok()) {
                    return;
                }
                last = null;
            } catch (Exception e) {
                last = e;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("after " + millis + " ms: " + what.get() + (last == null
                        ? ""
                        : " (last check threw " + last + ")"), last);
            }
            sleep(50);
        }
    }

    /** Like {@link #await} but says whether it held instead of failing. */
    static boolean within(Check check, long millis) {
        long deadline = System.nanoTime() + millis * 1_000_000;
        while (true) {
            try {
                if (check.ok()) {
                    return true;
                }
            } catch (Exception ignored) {
                // not yet: the thing checked may be starting
            }
            if (System.nanoTime() > deadline) {
                return false;
            }
            sleep(50);
        }
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
