package org.glouglou.viz.gs;

import com.fasterxml.jackson.databind.JsonNode;
import java.awt.Component;
import java.awt.Container;
import java.awt.GraphicsEnvironment;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import javax.imageio.ImageIO;
import javax.swing.JFrame;
import javax.swing.SwingUtilities;
import javax.swing.Timer;
import javax.swing.WindowConstants;
import org.glouglou.viewer.ViewerClient;
import org.glouglou.viewer.ViewerRefusedException;
import org.glouglou.viz.client.ConnectOptions;
import org.glouglou.viz.client.Connector;
import org.glouglou.viz.client.ExitCodes;
import org.glouglou.viz.client.FilterOptions;
import org.glouglou.viz.client.Refusal;
import org.glouglou.viz.client.UsageException;
import org.glouglou.viz.client.ViewFilter;
import org.graphstream.graph.Graph;
import org.graphstream.graph.implementations.MultiGraph;
import org.graphstream.ui.layout.springbox.implementations.SpringBox;
import org.graphstream.ui.swing_viewer.DefaultView;
import org.graphstream.ui.swing_viewer.SwingViewer;
import org.graphstream.ui.view.Viewer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The glouglou desktop viewer (issue 6): a Swing window drawn by GraphStream, fed by the server's NetStream over TLS
 * ({@link GraphFeed}), styled by {@link GraphStyler}, laid out by SpringBox. NetStream rather than the JSON form: it is
 * GraphStream's own event encoding, decoded by gs-core itself into graph events with typed values, so no translation
 * of ours sits between the server's writer and the graph. Reconnects by itself; {@code --screenshot} renders once and
 * exits, for documentation and tests.
 */
@Command(name = "glouglou view", mixinStandardHelpOptions = true, sortOptions = false, description = {
        "Shows a glouglou server's live graph in a window.",
        "Exit codes: 0 ok, 1 failure, 2 usage, 3 cannot connect, 4 authentication refused, 5 certificate mismatch."})
public final class ViewerMain implements Callable<Integer> {
    @Mixin
    ConnectOptions connect = new ConnectOptions();

    @Mixin
    FilterOptions filters = new FilterOptions();

    @Option(names = "--screenshot", paramLabel = "FILE", description = "render the window into FILE (PNG) after"
            + " --after seconds, then exit")
    Path screenshot;

    /** 8 s: the snapshot arrives within a second or two, the rest lets the layout settle. */
    @Option(names = "--after", paramLabel = "SECONDS", description = "when to take --screenshot (default:"
            + " ${DEFAULT-VALUE})")
    double after = 8;

    @Option(names = "--size", paramLabel = "WxH", description = "window size (default: ${DEFAULT-VALUE})")
    String size = "1280x800";

    @Option(names = "--dump", paramLabel = "FILE", description = "with --screenshot: also write the graph held (one"
            + " 'node ID' or 'edge ID SOURCE TARGET' line each), for scripts and tests")
    Path dump;

    private PrintStream err = System.err;
    /**
     * GraphStream reports through java.util.logging, with stack traces on stderr for things a user cannot act on
     * (layout stopped, a style it does not know), on loggers named after bare class names: so the root logger of
     * java.util.logging (which nothing of ours uses) is quieted. Held here so the setting is not garbage-collected.
     */
    private static final java.util.logging.Logger GS_LOG = java.util.logging.Logger.getLogger("");

    public static void main(String[] args) {
        int code = run(args, System.out, System.err);
        if (code != Integer.MIN_VALUE) {
            System.exit(code);
        }
    }

    /** Runs the viewer; returns its exit code, or MIN_VALUE when a window stays open (the user closes it). */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        ViewerMain main = new ViewerMain();
        main.err = err;
        CommandLine cmd = new CommandLine(main);
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        cmd.setParameterExceptionHandler((ex, a) -> {
            err.println("glouglou view: " + ex.getMessage() + " (see --help)");
            return ExitCodes.USAGE;
        });
        cmd.setExecutionExceptionHandler((ex, c, parsed) -> {
            if (ex instanceof UsageException) {
                err.println("glouglou view: " + ex.getMessage());
                return ExitCodes.USAGE;
            }
            err.println("glouglou view: " + ex);
            return ExitCodes.FAILURE;
        });
        return cmd.execute(args);
    }

    @Override
    public Integer call() throws Exception {
        int[] wh = size();
        if (after <= 0) {
            throw new UsageException("--after must be more than 0 seconds");
        }
        if (screenshot == null && GraphicsEnvironment.isHeadless()) {
            throw new UsageException("no display: set DISPLAY (or run under xvfb-run), or use --screenshot FILE, or"
                    + " the text client");
        }
        ViewFilter view = filters.filter();
        Connector connector = new Connector(connect);
        System.setProperty("org.graphstream.ui", "swing");
        GS_LOG.setLevel(java.util.logging.Level.SEVERE);

        Graph graph = new MultiGraph("glouglou");
        AtomicReference<String> state = new AtomicReference<>("connecting to " + connector.address());
        AtomicReference<String> notice = new AtomicReference<>("");
        AtomicLong resyncs = new AtomicLong();
        AtomicLong steps = new AtomicLong();
        GraphFeed feed = new GraphFeed(graph, new GraphFeed.Listener() {
            @Override
            public void notice(String text) {
                notice.set(text);
                if (text.startsWith("slow_viewer") || text.startsWith("redis_unavailable")) {
                    resyncs.incrementAndGet();
                }
            }

            @Override
            public void step(long seq) {
                steps.incrementAndGet();
            }
        });
        SwingViewer viewer = new SwingViewer(graph, Viewer.ThreadingModel.GRAPH_IN_ANOTHER_THREAD);
        viewer.enableAutoLayout(calmLayout());
        DefaultView gsView = (DefaultView) viewer.addDefaultView(false);
        CompletableFuture<Integer> finished = new CompletableFuture<>();
        AtomicReference<ViewerClient> client = new AtomicReference<>();
        ViewerWindow window = new ViewerWindow(graph, gsView, view, f -> {
            ViewerClient c = client.get();
            state.set("sending filter: " + f.describe());
            CompletableFuture.runAsync(() -> {
                try {
                    c.configure(f.toConfig("netstream"));
                } catch (IOException e) {
                    state.set("could not send the filter: " + e.getMessage());
                }
            });
        });
        JFrame frame = null;
        if (!GraphicsEnvironment.isHeadless()) {
            frame = new JFrame("glouglou - " + connector.address());
            frame.setDefaultCloseOperation(WindowConstants.DISPOSE_ON_CLOSE);
            frame.setContentPane(window);
            frame.setSize(wh[0], wh[1]);
            frame.addWindowListener(new java.awt.event.WindowAdapter() {
                @Override
                public void windowClosed(java.awt.event.WindowEvent e) {
                    finished.complete(ExitCodes.OK);
                }
            });
            frame.setVisible(true);
        } else {
            window.setSize(wh[0], wh[1]);
            layoutTree(window);
        }

        AtomicLong lastFrames = new AtomicLong();
        Timer statusTimer = new Timer(1000, e -> {
            long f = feed.frames.get();
            long perSecond = f - lastFrames.getAndSet(f);
            int nodes;
            int edges;
            synchronized (graph) {
                nodes = graph.getNodeCount();
                edges = graph.getEdgeCount();
            }
            window.status(String.format(Locale.ROOT, "%s  |  %d nodes, %d edges  |  %d updates/s  |  server: %d"
                    + " resyncs%s", state.get(), nodes, edges, perSecond, resyncs.get(),
                    notice.get().isEmpty()
                            ? ""
                            : ", last notice: " + notice.get()));
        });
        statusTimer.setInitialDelay(0);
        statusTimer.start();

        ViewerClient c = new ViewerClient(connector.host(), connector.port(), connector.trust(), connector
                .credentials().user(), connector.credentials().secret(), connector.credentials().token(),
                view
                        .toConfig("netstream"),
                new ViewerClient.Listener() {
                    private int attempts;

                    @Override
                    public void onConnected(JsonNode welcome) {
                        feed.reset();
                        state.set((attempts > 0 ? "reconnected to " : "connected to ") + connector.address()
                                + " as " + welcome.path("viewer").asText() + " (" + view.describe() + ")");
                        attempts = 0;
                    }

                    @Override
                    public void onItem(Object item) {
                        if (item instanceof ByteBuffer b) {
                            feed.frame(b);
                        }
                    }

                    @Override
                    public void onDisconnected(String reason, boolean retrying) {
                        if (retrying) {
                            attempts++;
                            state.set("RECONNECTING (attempt " + attempts + "): " + reason);
                            return;
                        }
                        Refusal r = Refusal.of(new ViewerRefusedException(reason));
                        state.set("REFUSED: " + r.message());
                        err.println("glouglou view: " + r.message());
                        if (screenshot != null) {
                            finished.complete(r.exitCode());
                        }
                    }
                });
        client.set(c);
        c.start();

        if (screenshot == null) {
            finished.thenAccept(code -> {
                c.close();
                viewer.close();
                System.exit(code);
            });
            return Integer.MIN_VALUE; // the window lives on the event thread
        }
        Integer early = null;
        try {
            early = finished.get((long) (after * 1000), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            // time for the picture
        }
        try {
            if (early != null) {
                return early;
            }
            if (steps.get() == 0) {
                err.println("glouglou view: no graph from " + connector.address() + " within " + after + " s: "
                        + state.get());
                return ExitCodes.CANNOT_CONNECT;
            }
            AtomicReference<java.awt.image.BufferedImage> img = new AtomicReference<>();
            SwingUtilities.invokeAndWait(() -> img.set(window.render()));
            ImageIO.write(img.get(), "png", screenshot.toFile());
            if (dump != null) {
                Files.write(dump, dump(graph), StandardCharsets.UTF_8);
            }
            int nodes;
            int edges;
            synchronized (graph) {
                nodes = graph.getNodeCount();
                edges = graph.getEdgeCount();
            }
            System.out.println("screenshot " + screenshot + ": " + nodes + " nodes, " + edges + " edges");
            return ExitCodes.OK;
        } finally {
            c.close();
            statusTimer.stop();
            viewer.close();
            if (frame != null) {
                frame.dispose();
            }
        }
    }

    /**
     * SpringBox with a weaker force and a stabilisation limit: the layout moves what a change disturbs and then rests,
     * instead of shaking the whole picture each time a host comes or goes.
     */
    static SpringBox calmLayout() {
        SpringBox layout = new SpringBox(false, new java.util.Random(42));
        layout.setForce(0.5);
        layout.setQuality(0.2);
        layout.setStabilizationLimit(0.95);
        return layout;
    }

    static List<String> dump(Graph graph) {
        List<String> l = new ArrayList<>();
        synchronized (graph) {
            graph.nodes().forEach(n -> l.add("node " + n.getId()));
            graph.edges().forEach(e -> l.add("edge " + e.getId() + " " + e.getSourceNode().getId() + " " + e
                    .getTargetNode().getId()));
        }
        l.sort(null);
        return l;
    }

    private int[] size() throws UsageException {
        String[] p = size.toLowerCase(Locale.ROOT).split("x");
        try {
            int w = Integer.parseInt(p[0]);
            int h = Integer.parseInt(p[1]);
            if (p.length != 2 || w < 200 || h < 150 || w > 8000 || h > 8000) {
                throw new NumberFormatException();
            }
            return new int[]{w, h};
        } catch (RuntimeException e) {
            throw new UsageException("--size " + size + ": expected WIDTHxHEIGHT, e.g. 1280x800 (200x150 to"
                    + " 8000x8000)");
        }
    }

    /** Lays out a component tree that has no window (headless screenshots). */
    static void layoutTree(Component c) {
        if (c instanceof Container k) {
            k.doLayout();
            for (Component child : k.getComponents()) {
                layoutTree(child);
            }
        }
    }
}
