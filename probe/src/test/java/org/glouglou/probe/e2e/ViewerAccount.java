package org.glouglou.probe.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The suite's one viewer account, made once per test JVM the way an operator makes one: {@code glouglou server
 * --viewer-users FILE --add-viewer NAME} prints the token once and stores only its Argon2id hash in the users file,
 * which every server of the suite is given.
 */
final class ViewerAccount {
    private static Path users;
    private static String token;

    private ViewerAccount() {
    }

    static synchronized Path users() throws IOException, InterruptedException {
        make();
        return users;
    }

    static synchronized String token() throws IOException, InterruptedException {
        make();
        return token;
    }

    private static void make() throws IOException, InterruptedException {
        if (token != null) {
            return;
        }
        Path dir = Files.createDirectories(E2e.root().resolve("probe/target/e2e"));
        Path file = dir.resolve("viewers-" + ProcessHandle.current().pid());
        Files.deleteIfExists(file);
        List<String> cmd = new ArrayList<>();
        cmd.add(E2e.java());
        cmd.addAll(Topology.JVM);
        cmd.addAll(List.of("-cp", E2e.classPath("processing-server"), "org.glouglou.server.ServerMain",
                "--viewer-users", file.toString(), "--add-viewer", "e2e"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("--add-viewer failed: " + out);
        }
        Matcher m = Pattern.compile("\\(shown once\\): (\\S+)").matcher(out);
        if (!m.find()) {
            throw new IllegalStateException("--add-viewer printed no token: " + out);
        }
        users = file;
        token = m.group(1);
    }
}
