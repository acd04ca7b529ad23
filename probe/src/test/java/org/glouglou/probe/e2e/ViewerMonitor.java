package org.glouglou.probe.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import org.glouglou.viewer.ViewerConnection;
import org.glouglou.viewer.ViewerTrust;

/**
 * A viewer connected through a whole run: real TLS to the server's viewer port with the certificate pinned from the
 * server's log, the JSON (Gephi graph-streaming) format, every host pair's counters kept. Every update of an edge's
 * pkts_ab, bytes_ab, pkts_ba or bytes_ba is checked against the largest value this viewer ever saw for it, across
 * snapshots, resyncs and reconnections: a counter that goes down is recorded. When the server goes away (killed,
 * restarted) the monitor reconnects every 250 ms and goes on checking.
 */
final class ViewerMonitor implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] COUNTERS = {"pkts_ab", "bytes_ab", "pkts_ba", "bytes_ba"};
    private static final int KEPT_DECREASES = 20;

    final String name;
    private final String host;
    private final int port;
    private final String fingerprint;
    private final String token;
    private final Map<String, long[]> edges = new HashMap<>();
    private final Map<String, long[]> highest = new HashMap<>();
    private final List<String> decreases = Collections.synchronizedList(new ArrayList<>());
    private final AtomicLong decreaseCount = new AtomicLong();
    private final AtomicLong connections = new AtomicLong();
    private final AtomicLong steps = new AtomicLong();
    private final List<String> notices = Collections.synchronizedList(new ArrayList<>());
    private final Thread reader;
    private volatile ViewerConnection conn;
    private volatile boolean running = true;
    private volatile boolean connected;
    private volatile String lastError;

    ViewerMonitor(String name, int port, String fingerprint, String token) {
        this.name = name;
        this.host = "127.0.0.1";
        this.port = port;
        this.fingerprint = fingerprint;
        this.token = token;
        reader = new Thread(this::run, "viewer-monitor-" + name);
        reader.setDaemon(true);
        reader.start();
    }

    private void run() {
        while (running) {
            try {
                ViewerConnection c = ViewerConnection.open(host, port, ViewerTrust.pin(fingerprint), null, token,
                        true, 5000);
                conn = c;
                c.sendConfig(JSON.createObjectNode().put("format", "json"));
                connections.incrementAndGet();
                connected = true;
                while (running) {
                    Object item = c.next();
                    if (item instanceof String line) {
                        line(line);
                    }
                }
            } catch (Exception e) {
                lastError = e.toString();
            } finally {
                connected = false;
                ViewerConnection c = conn;
                if (c != null) {
                    try {
                        c.close();
                    } catch (Exception ignored) {
                        // closing a dead connection
                    }
                }
            }
            if (running) {
                try {
                    Thread.sleep(250);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    private void line(String l) throws Exception {
        JsonNode m = JSON.readTree(l);
        Iterator<Map.Entry<String, JsonNode>> it = m.fields();
        if (!it.hasNext()) {
            return;
        }
        Map.Entry<String, JsonNode> e = it.next();
        JsonNode v = e.getValue();
        switch (e.getKey()) {
            case "ae", "ce" -> v.fields().forEachRemaining(x -> edge(x.getKey(), x.getValue()));
            case "de" -> {
                synchronized (this) {
                    v.fieldNames().forEachRemaining(edges::remove);
                }
            }
            case "cg" -> {
                synchronized (this) {
                    edges.clear();
                }
            }
            case "notice" -> notices.add(v.path("kind").asText());
            case "st" -> steps.incrementAndGet();
            default -> {
            }
        }
    }

    private synchronized void edge(String id, JsonNode attrs) {
        long[] cur = edges.computeIfAbsent(id, k -> new long[4]);
        long[] max = highest.computeIfAbsent(id, k -> new long[4]);
        for (int i = 0; i < 4; i++) {
            JsonNode n = attrs.get(COUNTERS[i]);
            if (n == null || !n.isNumber()) {
                continue;
            }
            long value = n.asLong();
            if (value < max[i]) {
                decreaseCount.incrementAndGet();
                if (decreases.size() < KEPT_DECREASES) {
                    decreases.add(id + " " + COUNTERS[i] + " " + max[i] + " -> " + value + " (connection #"
                            + connections.get() + ")");
                }
            }
            max[i] = Math.max(max[i], value);
            cur[i] = value;
        }
    }

    /** The graph as this viewer holds it now: host pair to totals. */
    synchronized Map<String, HostPairTotals.Totals> graph() {
        Map<String, HostPairTotals.Totals> m = new TreeMap<>();
        edges.forEach((id, c) -> m.put(id, new HostPairTotals.Totals(c[0], c[1], c[2], c[3])));
        return m;
    }

    boolean connected() {
        return connected;
    }

    long connections() {
        return connections.get();
    }

    long decreaseCount() {
        return decreaseCount.get();
    }

    List<String> decreases() {
        synchronized (decreases) {
            return new ArrayList<>(decreases);
        }
    }

    String describe() {
        return name + ": " + connections + " connection(s), " + steps + " steps, " + decreaseCount
                + " counter decreases" + (decreaseCount.get() > 0 ? " " + decreases() : "") + ", notices " + notices
                + (lastError == null ? "" : ", last error " + lastError);
    }

    /** Waits until the viewer is connected and has received its first configuration's answer. */
    void awaitConnected(long millis) {
        E2e.await(() -> connected && steps.get() > 0, millis, () -> name + " never connected to viewer port " + port
                + " (last error " + lastError + ")");
    }

    @Override
    public void close() {
        running = false;
        ViewerConnection c = conn;
        if (c != null) {
            try {
                c.close();
            } catch (Exception ignored) {
                // closing
            }
        }
        try {
            reader.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
