package org.glouglou.viz.text;

import java.io.PrintStream;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import org.glouglou.viz.client.ClientGraph;

/**
 * The human mode's screen (issue 6): log lines scroll, and on a terminal a top-talkers table with a status line stays
 * under them, redrawn in place with ANSI (cursor up, erase to end of screen) at most once a second. Without a table it
 * only prints the log. Thread-safe: the reader thread and the shutdown hook both write.
 */
final class LiveScreen {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss");
    /** One redraw a second: readable, and cheap however fast updates come. */
    static final long REDRAW_MILLIS = 1000;

    private final PrintStream out;
    private final int rows;
    private int drawnLines;
    private long lastDraw;
    private String state = "connecting";
    private long updates;
    private long updatesAtLastDraw;
    private double updatesPerSecond;
    private List<String> table = List.of();
    private boolean closed;

    LiveScreen(PrintStream out, int rows) {
        this.out = out;
        this.rows = rows;
    }

    synchronized void log(String line) {
        if (closed) {
            return;
        }
        erase();
        out.println(LocalTime.now().format(TIME) + " " + line);
        draw();
        out.flush();
    }

    synchronized void state(String s) {
        state = s;
    }

    synchronized void updated() {
        updates++;
    }

    /** After a step: recompute the table, redraw when a second has passed. */
    void refresh(ClientGraph graph) {
        if (rows == 0) {
            return;
        }
        long now = System.currentTimeMillis();
        synchronized (this) {
            if (now - lastDraw < REDRAW_MILLIS) {
                return;
            }
        }
        List<String> t;
        int nodes;
        int edges;
        synchronized (graph) {
            nodes = graph.nodes().size();
            edges = graph.edges().size();
            t = graph.edges().values().stream()
                    .sorted(Comparator.comparingLong(HumanLog::rate).reversed().thenComparing(
                            ClientGraph.Element::id))
                    .limit(rows).map(e -> String.format(Locale.ROOT, "  %-36.36s %-36.36s %11s %10s%s",
                            new HumanLog(graph).name(e.source()), new HumanLog(graph).name(e.target()), Units.rate(
                                    HumanLog.rate(e)),
                            Units.bytes(e.number("bytes")), HumanLog.service(e)))
                    .toList();
        }
        synchronized (this) {
            double secs = Math.max(0.001, (now - lastDraw) / 1000.0);
            updatesPerSecond = lastDraw == 0 ? 0 : (updates - updatesAtLastDraw) / secs;
            updatesAtLastDraw = updates;
            lastDraw = now;
            String status = String.format(Locale.ROOT, "-- %s | %d nodes, %d edges | %.0f updates/s --", state, nodes,
                    edges, updatesPerSecond);
            table = new java.util.ArrayList<>();
            table.add(String.format(Locale.ROOT, "  %-36s %-36s %11s %10s", "top talkers", "", "rate", "total"));
            table.addAll(t);
            table.add(status);
            erase();
            draw();
            out.flush();
        }
    }

    private void erase() {
        if (drawnLines > 0) {
            out.print("\033[" + drawnLines + "A\r\033[J");
            drawnLines = 0;
        }
    }

    private void draw() {
        if (rows == 0) {
            return;
        }
        for (String l : table) {
            out.println(l);
        }
        drawnLines = table.size();
    }

    synchronized void close() {
        closed = true;
        out.flush();
    }
}
