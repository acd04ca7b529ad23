package org.glouglou.probe.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * Gives each end-to-end test its {@link Topology} (a test method parameter), in a directory that is kept:
 * {@code probe/target/e2e/CLASS/TEST}. After the test every process left is killed; when the test failed, the tail of
 * every process's log is printed, with what the proxies did and what the viewers saw.
 */
final class E2eExtension implements ParameterResolver, AfterEachCallback, TestWatcher {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(E2eExtension.class);
    private static final int TAIL_LINES = 40;

    @Override
    public boolean supportsParameter(ParameterContext p, ExtensionContext c) {
        return p.getParameter().getType() == Topology.class;
    }

    @Override
    public Object resolveParameter(ParameterContext p, ExtensionContext c) {
        return c.getStore(NS).getOrComputeIfAbsent("topology", k -> {
            try {
                String method = c.getRequiredTestMethod().getName();
                String test = (c.getDisplayName().startsWith(method + "(")
                        ? method
                        : method + "-" + c.getDisplayName()).replaceAll("[^A-Za-z0-9_.-]+", "_");
                Path dir = E2e.root().resolve("probe/target/e2e").resolve(c.getRequiredTestClass().getSimpleName())
                        .resolve(test.length() > 100 ? test.substring(0, 100) : test);
                deleteTree(dir);
                return new Topology(dir);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }, Topology.class);
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    @Override
    public void afterEach(ExtensionContext c) {
        Topology t = c.getStore(NS).get("topology", Topology.class);
        if (t != null) {
            t.close();
        }
    }

    @Override
    public void testFailed(ExtensionContext c, Throwable cause) {
        Topology t = c.getStore(NS).get("topology", Topology.class);
        if (t == null) {
            return;
        }
        StringBuilder s = new StringBuilder("\n===== " + c.getDisplayName() + " failed; logs kept in " + t.dir
                + "\n");
        s.append(t.describeHelpers()).append('\n');
        for (Daemon d : t.daemons()) {
            s.append("----- ").append(d.name).append(" (").append(d.log()).append("), last ").append(TAIL_LINES)
                    .append(" lines:\n").append(d.tail(TAIL_LINES)).append('\n');
        }
        System.err.println(s);
    }
}
