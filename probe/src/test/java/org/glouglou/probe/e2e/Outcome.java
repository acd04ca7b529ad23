package org.glouglou.probe.e2e;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * What one scenario must end with, checked all together so that a failure says everything that went wrong at once:
 * the host pairs in Redis and in a viewer against the truth (waiting for them to settle first), no viewer counter
 * ever decreasing, exit codes, and any other condition. Prints the scenario's figures on standard output whatever the
 * result (the fault matrix's "host pairs exact" and "packets on the graph").
 */
final class Outcome {
    /** After the senders are done: how long the graph may take to reach the truth. */
    static final long SETTLE_MILLIS = 20_000;
    /** The graph is taken as final when it has not changed for this long (a wrong graph fails sooner). */
    static final long STABLE_MILLIS = 4_000;

    private final String scenario;
    private final Topology topology;
    private final List<String> failures = new ArrayList<>();
    private final List<String> figures = new ArrayList<>();
    private Map<String, HostPairTotals.Totals> lastRedis;

    Outcome(String scenario, Topology topology) {
        this.scenario = scenario;
        this.topology = topology;
    }

    /**
     * Waits until {@code read} equals {@code expected}, or stops changing for {@link #STABLE_MILLIS}, or
     * {@link #SETTLE_MILLIS} pass; then compares.
     */
    private static HostPairTotals.Comparison settle(Map<String, HostPairTotals.Totals> expected,
            Supplier<Map<String, HostPairTotals.Totals>> read) {
        long deadline = System.nanoTime() + SETTLE_MILLIS * 1_000_000;
        Map<String, HostPairTotals.Totals> last = null;
        long lastChange = System.nanoTime();
        while (true) {
            Map<String, HostPairTotals.Totals> now;
            try {
                now = read.get();
            } catch (RuntimeException e) {
                now = null; // Redis or the viewer busy: read again
            }
            if (now != null && now.equals(expected)) {
                return HostPairTotals.compare(expected, now);
            }
            if (!Objects.equals(now, last)) {
                last = now;
                lastChange = System.nanoTime();
            }
            long t = System.nanoTime();
            if (t > deadline || last != null && t - lastChange > STABLE_MILLIS * 1_000_000) {
                return HostPairTotals.compare(expected, last == null ? Map.of() : last);
            }
            E2e.sleep(100);
        }
    }

    /** Every host pair in Redis equals {@code expected}, packets and bytes per direction. */
    HostPairTotals.Comparison redisEquals(Map<String, HostPairTotals.Totals> expected) {
        AtomicReference<Map<String, HostPairTotals.Totals>> seen = new AtomicReference<>();
        HostPairTotals.Comparison c = settle(expected, () -> {
            seen.set(topology.state().links());
            return seen.get();
        });
        lastRedis = seen.get();
        figures.add("redis: " + c.figures());
        if (!c.matches()) {
            failures.add("Redis host pairs differ from the truth: " + c.describe());
        }
        return c;
    }

    /** The viewer's graph equals {@code expected}, and none of its counters ever went down. */
    HostPairTotals.Comparison viewerEquals(ViewerMonitor v, Map<String, HostPairTotals.Totals> expected) {
        AtomicReference<Map<String, HostPairTotals.Totals>> seen = new AtomicReference<>();
        HostPairTotals.Comparison c = settle(expected, () -> {
            seen.set(v.graph());
            return seen.get();
        });
        figures.add("viewer: " + c.figures() + ", " + v.decreaseCount() + " decreases");
        if (!c.matches()) {
            failures.add(v.name + ": graph differs from the truth: "
                    + (seen.get() != null && seen.get().equals(lastRedis)
                            ? c.figures() + ", the same host pairs as Redis"
                            : c.describe()));
        }
        neverDecreased(v);
        return c;
    }

    /** None of the viewer's counters ever went down. */
    void neverDecreased(ViewerMonitor v) {
        if (v.decreaseCount() > 0) {
            List<String> d = v.decreases();
            failures.add(v.name + " saw " + v.decreaseCount() + " counter decreases, first: " + d.subList(0, Math.min(
                    6, d.size())));
        }
    }

    /** {@code probe} exits with {@code code} within {@code millis}. */
    Integer exits(Daemon probe, int code, long millis) throws InterruptedException {
        Integer got = probe.awaitExit(millis);
        figures.add(probe.name + " exit " + got);
        if (got == null) {
            failures.add(probe.name + " still running " + millis + " ms later");
        } else if (got != code) {
            failures.add(probe.name + " exited with " + got + ", expected " + code + "; its log ends with:\n" + probe
                    .tail(5));
        }
        return got;
    }

    void check(boolean ok, String failure) {
        if (!ok) {
            failures.add(failure);
        }
    }

    void figure(String f) {
        figures.add(f);
    }

    /** Prints the figures, then fails with every failure found (and what the proxies and viewers saw). */
    void verify() {
        System.out.println("[e2e] " + scenario + ": " + String.join("; ", figures) + (failures.isEmpty()
                ? "; OK"
                : "; " + failures.size() + " failure(s)"));
        if (!failures.isEmpty()) {
            throw new AssertionError(scenario + ": " + failures.size() + " failure(s):\n- " + String.join("\n- ",
                    failures) + "\n" + topology.describeHelpers() + "\n(process logs in " + topology.dir + ")");
        }
    }
}
