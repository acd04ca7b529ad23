package org.glouglou.viz.gs;

import java.awt.Graphics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import javax.swing.JFrame;
import javax.swing.SwingUtilities;
import org.graphstream.graph.Graph;
import org.graphstream.graph.implementations.MultiGraph;
import org.graphstream.ui.swing_viewer.DefaultView;
import org.graphstream.ui.swing_viewer.SwingViewer;
import org.graphstream.ui.view.Viewer;

/**
 * The desktop viewer's figure (issue 6): builds a graph of N nodes and M edges locally (seeded), styled as the viewer
 * styles the server's graph, runs the viewer's layout, counts the frames the view really paints for S seconds, and
 * prints frames per second, heap and resident memory. Usage: {@code ViewerBench [nodes] [edges] [seconds]}; needs a
 * display (Xvfb).
 */
public final class ViewerBench {
    private ViewerBench() {
    }

    public static void main(String[] args) throws Exception {
        int nodes = args.length > 0 ? Integer.parseInt(args[0]) : 5000;
        int edges = args.length > 1 ? Integer.parseInt(args[1]) : 20000;
        int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 30;
        System.setProperty("org.graphstream.ui", "swing");
        java.util.logging.Logger.getLogger("").setLevel(java.util.logging.Level.SEVERE);
        Graph g = new MultiGraph("bench", false, true);
        Random r = new Random(42);
        GraphStyler styler = new GraphStyler(g);
        for (int i = 0; i < nodes; i++) {
            var n = g.addNode("10." + (i >> 16) + "." + ((i >> 8) & 255) + "." + (i & 255));
            n.setAttribute("label", "host-" + i + ".example.org");
            n.setAttribute("addr", i % 5 == 0 ? "192.168.0." + (i % 250) : "203.0.113." + (i % 250));
        }
        for (int i = 0; i < edges; i++) {
            // preferential: a few busy servers, as real traffic has
            int a = (int) Math.floor(Math.pow(r.nextDouble(), 3) * nodes);
            int b = r.nextInt(nodes);
            var e = g.addEdge("e" + i, a, b);
            e.setAttribute("bytes", (long) r.nextInt(10_000_000));
            e.setAttribute("rate_ab", (long) r.nextInt(100_000));
            e.setAttribute("proto.tcp", (long) r.nextInt(1000));
            e.setAttribute("proto.udp", (long) r.nextInt(300));
        }
        g.edges().forEach(GraphStyler::style);
        g.nodes().forEach(GraphStyler::style);
        styler.restyle(); // the size class of the graph decides the level of detail, as in the viewer
        AtomicLong frames = new AtomicLong();
        SwingViewer viewer = new SwingViewer(g, Viewer.ThreadingModel.GRAPH_IN_ANOTHER_THREAD);
        DefaultView view = new DefaultView(viewer, "bench", viewer.newDefaultGraphRenderer()) {
            @Override
            public void paintComponent(Graphics gr) {
                super.paintComponent(gr);
                frames.incrementAndGet();
            }
        };
        viewer.addView(view);
        viewer.enableAutoLayout(ViewerMain.calmLayout());
        SwingUtilities.invokeAndWait(() -> {
            JFrame f = new JFrame("glouglou viewer bench");
            f.setContentPane(view);
            f.setSize(1280, 800);
            f.setVisible(true);
        });
        Thread.sleep(2000); // start-up and first frames are not the steady state
        long f0 = frames.get();
        long t0 = System.nanoTime();
        Thread.sleep(seconds * 1000L);
        double secs = (System.nanoTime() - t0) / 1e9;
        double fps = (frames.get() - f0) / secs;
        Runtime rt = Runtime.getRuntime();
        System.gc();
        long heap = (rt.totalMemory() - rt.freeMemory()) >> 20;
        String rss = Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("VmRSS"))
                .findFirst().orElse("VmRSS: ?").replaceAll("\\s+", " ");
        System.out.printf(java.util.Locale.ROOT, "%d nodes, %d edges: %.1f frames/s over %.0f s during layout;"
                + " heap after GC %d MiB; %s; java %s, %d cores%n", nodes, edges, fps, secs, heap, rss,
                System
                        .getProperty("java.version"),
                rt.availableProcessors());
        System.exit(0);
    }
}
