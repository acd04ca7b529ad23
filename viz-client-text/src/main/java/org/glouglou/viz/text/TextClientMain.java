package org.glouglou.viz.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.glouglou.spi.graph.GraphAttributes;
import org.glouglou.viewer.ViewerClient;
import org.glouglou.viewer.ViewerConnection;
import org.glouglou.viewer.ViewerRefusedException;
import org.glouglou.viz.client.ClientGraph;
import org.glouglou.viz.client.ConnectOptions;
import org.glouglou.viz.client.Connector;
import org.glouglou.viz.client.ExitCodes;
import org.glouglou.viz.client.FilterOptions;
import org.glouglou.viz.client.Refusal;
import org.glouglou.viz.client.UsageException;
import org.glouglou.viz.client.ViewFilter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The glouglou text client (issue 6): the live graph as JSON lines for jq and scripts ({@code --format json}), the
 * current graph printed once ({@code --snapshot}), or a readable live log with a top-talkers table. Exit codes are
 * {@link ExitCodes}.
 */
@Command(name = "glouglou text", mixinStandardHelpOptions = true, sortOptions = false, description = {
        "Shows a glouglou server's live graph as text.",
        "Exit codes: 0 ok, 1 failure, 2 usage, 3 cannot connect, 4 authentication refused, 5 certificate mismatch."})
public final class TextClientMain implements Callable<Integer> {
    static final ObjectMapper JSON = new ObjectMapper();
    /** 10 rows: what fits above a log in a 24-line terminal. */
    static final int DEFAULT_TOP = 10;

    @Mixin
    ConnectOptions connect = new ConnectOptions();

    @Mixin
    FilterOptions filters = new FilterOptions();

    @Option(names = {"-f", "--format"}, paramLabel = "FORMAT", description = "human (a live log and a top-talkers"
            + " table) or json (the server's event lines, one JSON object a line) (default: ${DEFAULT-VALUE})")
    String format = "human";

    @Option(names = "--snapshot", description = "print the current graph and exit 0")
    boolean snapshot;

    @Option(names = "--top", paramLabel = "N", description = "rows of the top-talkers table, 0 for none (human"
            + " mode on a terminal; default: ${DEFAULT-VALUE})")
    int top = DEFAULT_TOP;

    @Option(names = "--duration", paramLabel = "SECONDS", description = "live modes: stop after this long and exit 0"
            + " (scripts; default: until interrupted)")
    double duration;

    private PrintStream out = System.out;
    private PrintStream err = System.err;
    /** ANSI table only when a person watches: never into a pipe or a file. */
    private boolean terminal = System.console() != null;

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs the client; returns the exit code ({@link ExitCodes}). */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        TextClientMain main = new TextClientMain();
        main.out = out;
        main.err = err;
        if (out != System.out) {
            main.terminal = false;
        }
        CommandLine cmd = new CommandLine(main);
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        cmd.setParameterExceptionHandler((ex, a) -> {
            err.println("glouglou text: " + ex.getMessage() + " (see --help)");
            return ExitCodes.USAGE;
        });
        cmd.setExecutionExceptionHandler((ex, c, parsed) -> {
            if (ex instanceof UsageException) {
                err.println("glouglou text: " + ex.getMessage());
                return ExitCodes.USAGE;
            }
            err.println("glouglou text: " + ex);
            return ExitCodes.FAILURE;
        });
        return cmd.execute(args);
    }

    @Override
    public Integer call() throws Exception {
        if (!format.equals("human") && !format.equals("json")) {
            throw new UsageException("--format " + format + ": expected human or json");
        }
        if (duration < 0) {
            throw new UsageException("--duration must be 0 (until interrupted) or more");
        }
        if (top < 0) {
            throw new UsageException("--top must be 0 or more");
        }
        ViewFilter view = filters.filter();
        Connector connector = new Connector(connect);
        return snapshot ? snapshot(connector, view) : live(connector, view);
    }

    /** One connection, up to the first step marker (the end of the snapshot), then out. */
    private int snapshot(Connector connector, ViewFilter view) {
        ClientGraph graph = new ClientGraph();
        List<String> lines = new ArrayList<>();
        ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "snapshot-watchdog");
            t.setDaemon(true);
            return t;
        });
        try (ViewerConnection c = connector.open()) {
            // the server sends the snapshot at its next tick; a server that never does is as good as unreachable
            watchdog.schedule(() -> {
                try {
                    c.close();
                } catch (IOException e) {
                    // closing anyway
                }
            }, connect.connectTimeoutSeconds, TimeUnit.SECONDS);
            c.sendConfig(view.toConfig("json"));
            while (true) {
                Object item = c.next();
                if (!(item instanceof String line) || line.startsWith("{\"ok\"")) {
                    continue;
                }
                lines.add(line);
                if (graph.apply(JSON.readTree(line)) instanceof ClientGraph.Step) {
                    break;
                }
            }
        } catch (ViewerRefusedException e) {
            return refused(Refusal.of(e));
        } catch (Connector.CannotConnectException e) {
            err.println("glouglou text: " + e.getMessage());
            return ExitCodes.CANNOT_CONNECT;
        } catch (IOException e) {
            err.println("glouglou text: connection to " + connector.address() + " lost before the snapshot ended: "
                    + e.getMessage());
            return ExitCodes.CANNOT_CONNECT;
        } finally {
            watchdog.shutdownNow();
        }
        if (format.equals("json")) {
            lines.forEach(out::println);
        } else {
            printGraph(graph, connector.address(), view);
        }
        out.flush();
        return out.checkError() ? ExitCodes.FAILURE : ExitCodes.OK;
    }

    /**
     * The graph as text: a comment line, then one tab-separated line per node (id, label, kind) and per edge (source,
     * target, bytes each way, protocols, service ports), sorted, so that two snapshots of one state are equal.
     */
    void printGraph(ClientGraph g, String server, ViewFilter view) {
        out.println("# glouglou graph from " + server + ": " + g.nodes().size() + " nodes, " + g.edges().size()
                + " edges (" + view.describe() + ")");
        g.nodes().values().stream().sorted(Comparator.comparing(ClientGraph.Element::id)).forEach(n -> out.println(
                "node\t" + n.id() + "\t" + HumanLog.label(n) + "\t" + n.text(GraphAttributes.KIND)));
        g.edges().values().stream().sorted(Comparator.comparing(ClientGraph.Element::id)).forEach(e -> out.println(
                "edge\t" + e.source() + "\t" + e.target() + "\t" + e.number(GraphAttributes.BYTES_AB) + "\t" + e
                        .number(GraphAttributes.BYTES_BA) + "\t" + list(e, GraphAttributes.PROTOCOLS) + "\t"
                        + list(
                                e, GraphAttributes.PORTS)));
    }

    private static String list(ClientGraph.Element e, String attr) {
        Object v = e.attributes().get(attr);
        return v instanceof List<?> l && !l.isEmpty() ? HumanLog.join(l) : "-";
    }

    private int refused(Refusal r) {
        err.println("glouglou text: " + r.message());
        return r.exitCode();
    }

    /** Stays connected until interrupted or refused; reconnects by itself and says so. */
    private int live(Connector connector, ViewFilter view) throws InterruptedException {
        LiveScreen screen = new LiveScreen(out, terminal && format.equals("human") ? top : 0);
        ClientGraph graph = new ClientGraph();
        HumanLog log = new HumanLog(graph);
        boolean json = format.equals("json");
        AtomicInteger exit = new AtomicInteger(ExitCodes.OK);
        CountDownLatch done = new CountDownLatch(1);
        ViewerClient.Listener listener = new ViewerClient.Listener() {
            private boolean inSnapshot;
            private int attempts;

            @Override
            public void onConnected(JsonNode welcome) {
                synchronized (graph) {
                    graph.apply(JSON.createObjectNode().set("cg", JSON.createObjectNode()));
                }
                inSnapshot = true;
                if (!json) {
                    screen.log((attempts > 0 ? "reconnected to " : "connected to ") + connector.address() + " as "
                            + welcome.path("viewer").asText() + " (" + view.describe() + ")");
                }
                attempts = 0;
                screen.state("connected");
            }

            @Override
            public void onItem(Object item) {
                if (!(item instanceof String line) || line.startsWith("{\"ok\"")) {
                    return;
                }
                if (json) {
                    out.println(line);
                    out.flush();
                }
                ClientGraph.Change c;
                try {
                    synchronized (graph) {
                        c = graph.apply(JSON.readTree(line));
                    }
                } catch (IOException e) {
                    screen.log("unreadable line from the server ignored: " + e.getMessage());
                    return;
                }
                screen.updated();
                if (json) {
                    return;
                }
                if (c instanceof ClientGraph.Step) {
                    if (inSnapshot) {
                        inSnapshot = false;
                        screen.log("graph: " + graph.nodes().size() + " nodes, " + graph.edges().size() + " edges");
                    }
                    screen.refresh(graph);
                    return;
                }
                if (!inSnapshot || c instanceof ClientGraph.Notice) {
                    String s = log.line(c);
                    if (s != null) {
                        screen.log(s);
                    }
                }
            }

            @Override
            public void onDisconnected(String reason, boolean retrying) {
                if (retrying) {
                    attempts++;
                    screen.state("reconnecting");
                    screen.log("connection to " + connector.address() + " lost or refused (" + reason
                            + "); reconnecting, attempt " + attempts);
                    return;
                }
                Refusal r = Refusal.of(new ViewerRefusedException(reason));
                exit.set(r.exitCode());
                err.println("glouglou text: " + r.message());
                done.countDown();
            }
        };
        ViewerClient client = new ViewerClient(connector.host(), connector.port(), connector.trust(), connector
                .credentials().user(), connector.credentials().secret(), connector.credentials().token(),
                view
                        .toConfig("json"),
                listener);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            client.close();
            screen.close();
        }, "text-client-stop"));
        client.start();
        if (duration > 0) {
            done.await((long) (duration * 1000), TimeUnit.MILLISECONDS);
        } else {
            done.await();
        }
        client.close();
        screen.close();
        return exit.get();
    }
}
