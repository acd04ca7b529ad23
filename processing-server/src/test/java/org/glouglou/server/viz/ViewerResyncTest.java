package org.glouglou.server.viz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lettuce.core.RedisURI;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.LongStream;
import org.glouglou.server.metrics.ServerMetrics;
import org.glouglou.server.viz.format.GraphFormatWriter;
import org.glouglou.server.viz.format.NetStreamWriter;
import org.glouglou.spi.ModuleRegistry;
import org.glouglou.spi.graph.GraphElement;
import org.graphstream.graph.Edge;
import org.graphstream.graph.Graph;
import org.graphstream.graph.Node;
import org.graphstream.graph.implementations.DefaultGraph;
import org.graphstream.stream.netstream.NetStreamConstants;
import org.graphstream.stream.netstream.NetStreamDecoder;
import org.graphstream.stream.netstream.NetStreamUtils;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Resyncs of viewers that read slower than a snapshot takes to send, and of every viewer at once. Each viewer's socket is
 * Netty's own outbound buffer with its water marks (scaled down to the size of the test graphs), drained by the
 * viewer at the rate the test sets, bytes per tick, into the real decoders: gs-core's {@link NetStreamDecoder} into a
 * strict GraphStream graph, and the Gephi JSON lines into {@link ViewerSessionTest.Client}. At every tick a viewer's
 * socket was writable (the session sent everything it had) and the viewer has read all of it, what it holds must be
 * exactly what a fresh projection of the model shows. The hub's fan-out, projections, sessions and writers are the
 * real ones.
 */
class ViewerResyncTest {
    /** Water marks of the test sockets: Netty's 256 KiB and 1 MiB, scaled down as the graphs are. */
    static final int LOW = 1024;
    static final int HIGH = 4096;

    /** The viewer end of a connection: bytes in, the graph it holds out. */
    interface Peer {
        void receive(ByteBuf b) throws Exception;

        /** Empty when it holds exactly what a fresh projection of {@code m} for {@code c} shows, else what differs. */
        String differs(GraphModel m, ViewerConfig c) throws Exception;

        List<String> notices();

        /** Clears of its graph not announced by a slow_viewer or resync notice just before. */
        int untoldClears();
    }

    /** A NetStream viewer: gs-core's own decoder into a strict GraphStream graph, fed bytes as they come. */
    static final class NetStreamPeer implements Peer {
        final Graph graph = new DefaultGraph("viewer", true, false);
        final NetStreamDecoder decoder = new NetStreamDecoder();
        final List<String> notices = new ArrayList<>();
        private final ByteBuf in = Unpooled.buffer();
        private boolean preamble = true;
        private int untold;

        NetStreamPeer() {
            decoder.addSink(graph);
        }

        @Override
        public void receive(ByteBuf b) {
            in.writeBytes(b);
            if (preamble) {
                // the {"ok":...} line before the frames
                int nl = in.indexOf(in.readerIndex(), in.writerIndex(), (byte) '\n');
                if (nl < 0) {
                    return;
                }
                in.readerIndex(nl + 1);
                preamble = false;
            }
            while (in.readableBytes() >= 4 && in.readableBytes() >= in.getInt(in.readerIndex())) {
                ByteBuffer f = ByteBuffer.allocate(in.getInt(in.readerIndex()));
                in.readBytes(f);
                f.flip();
                ByteBuffer d = f.duplicate();
                d.position(4);
                NetStreamUtils.decodeString(d);
                int cmd = d.get() & 0xff;
                if (cmd == (NetStreamConstants.EVENT_CLEARED & 0xff) && !resyncNotice(notices)) {
                    untold++;
                }
                decoder.decode(f);
                if (cmd == (NetStreamConstants.EVENT_ADD_GRAPH_ATTR & 0xff)) {
                    Object n = graph.getAttribute(NetStreamWriter.NOTICE_ATTRIBUTE);
                    notices.add(n == null ? "?" : String.valueOf(n).split(":")[0]);
                }
            }
            in.discardReadBytes();
        }

        @Override
        public String differs(GraphModel m, ViewerConfig c) {
            ViewerProjectionTest.Held want = ViewerProjectionTest.fresh(m, c);
            Map<String, Map<String, Object>> nodes = new TreeMap<>();
            for (Node n : graph) {
                nodes.put(n.getId(), attributes(n));
            }
            Map<String, Map<String, Object>> edges = new TreeMap<>();
            graph.edges().forEach((Edge e) -> {
                Map<String, Object> a = attributes(e);
                a.put("@s", e.getSourceNode().getId());
                a.put("@t", e.getTargetNode().getId());
                edges.put(e.getId(), a);
            });
            return diff(want.nodes, nodes, "nodes") + diff(want.edges, edges, "edges");
        }

        static Map<String, Object> attributes(org.graphstream.graph.Element e) {
            Map<String, Object> m = new HashMap<>();
            e.attributeKeys().forEach(k -> {
                Object v = e.getAttribute(k);
                if (v != null && v.getClass().isArray()) {
                    List<Object> l = new ArrayList<>();
                    for (int i = 0; i < java.lang.reflect.Array.getLength(v); i++) {
                        l.add(java.lang.reflect.Array.get(v, i));
                    }
                    v = l;
                }
                m.put(k, v);
            });
            return m;
        }

        @Override
        public List<String> notices() {
            return notices;
        }

        @Override
        public int untoldClears() {
            return untold;
        }
    }

    /** A JSON viewer: lines as they complete, read as a Gephi streaming reader would. */
    static final class JsonPeer implements Peer {
        final ViewerSessionTest.Client client = new ViewerSessionTest.Client();
        private final ByteBuf in = Unpooled.buffer();
        private int untold;

        @Override
        public void receive(ByteBuf b) throws Exception {
            in.writeBytes(b);
            int nl;
            while ((nl = in.indexOf(in.readerIndex(), in.writerIndex(), (byte) '\n')) >= 0) {
                String line = in.readCharSequence(nl - in.readerIndex(), StandardCharsets.UTF_8).toString();
                in.skipBytes(1);
                if (line.startsWith("{\"cg\"") && !resyncNotice(client.notices)) {
                    untold++;
                }
                client.line(line);
            }
            in.discardReadBytes();
        }

        @Override
        public String differs(GraphModel m, ViewerConfig c) throws Exception {
            ViewerSessionTest.Client want = ViewerSessionTest.fresh(m, c);
            return diff(want.nodes, client.nodes, "nodes") + diff(want.edges, client.edges, "edges");
        }

        @Override
        public List<String> notices() {
            return client.notices;
        }

        @Override
        public int untoldClears() {
            return untold;
        }
    }

    /** The last notice announced a resync (a clear and a fresh snapshot follow it). */
    static boolean resyncNotice(List<String> notices) {
        String last = notices.isEmpty() ? "" : notices.get(notices.size() - 1);
        return last.equals("slow_viewer") || last.equals("resync");
    }

    /** "" when equal, else the first few ids that differ. */
    static <V> String diff(Map<String, V> want, Map<String, V> got, String what) {
        if (want.equals(got)) {
            return "";
        }
        List<String> d = new ArrayList<>();
        for (String id : want.keySet()) {
            if (!want.get(id).equals(got.get(id))) {
                d.add(id + (got.containsKey(id) ? " differs" : " missing"));
            }
        }
        for (String id : got.keySet()) {
            if (!want.containsKey(id)) {
                d.add(id + " extra");
            }
        }
        return what + " (" + got.size() + " of " + want.size() + "): " + d.subList(0, Math.min(5, d.size())) + "; ";
    }

    /**
     * A viewer's socket as the server sees it: Netty's own outbound buffer and water marks; the viewer reads what is
     * queued at the rate the test sets, and what it reads goes to its {@link Peer}, in order.
     */
    static final class PeerSocket extends EmbeddedChannel {
        final Peer peer;
        private long budget;

        PeerSocket(Peer peer) {
            this.peer = peer;
            config().setWriteBufferWaterMark(new WriteBufferWaterMark(LOW, HIGH));
        }

        @Override
        protected void doWrite(ChannelOutboundBuffer in) throws Exception {
            Object m;
            while (budget > 0 && (m = in.current()) != null) {
                ByteBuf b = (ByteBuf) m;
                int n = (int) Math.min(budget, b.readableBytes());
                peer.receive(b.slice(b.readerIndex(), n));
                budget -= n;
                in.removeBytes(n);
            }
        }

        /** The viewer reads up to {@code bytes} of what is queued. */
        void read(long bytes) {
            budget = bytes;
            flush();
            budget = 0;
            checkException();
        }

        long queued() {
            ChannelOutboundBuffer o = unsafe().outboundBuffer();
            return o == null ? 0 : o.totalPendingWriteBytes();
        }
    }

    static ViewerConfig config(String format, List<Cidr> addresses, Set<String> protocols, long minBytes,
            ViewerConfig.Level l) {
        return new ViewerConfig(format, Set.of(), addresses, Set.of(), protocols, Set.of(), minBytes, l, 24, 64, 2);
    }

    static List<ViewerConfig> configs(String format) {
        return List.of(config(format, List.of(), Set.of(), 0, ViewerConfig.Level.HOSTS), config(format, List.of(
                new Cidr(new byte[]{10, 0, 1, 0}, 24)), Set.of(), 0, ViewerConfig.Level.HOSTS), config(format,
                        List
                                .of(),
                        Set.of("tcp"), 300_000, ViewerConfig.Level.HOSTS),
                config(format, List.of(), Set.of(), 0,
                        ViewerConfig.Level.SUBNET));
    }

    /** The bytes of a snapshot of {@code c} in its format. */
    static int snapshotBytes(GraphModel m, ViewerConfig c) {
        ByteBuf b = Unpooled.buffer();
        GraphFormatWriter.forName(c.format()).write(new ViewerProjection(m, c).drain(), b);
        int n = b.readableBytes();
        b.release();
        return n;
    }

    /** A random change of the model, as the ingest side makes them. */
    static void change(GraphModel m, Random r, int n) {
        int what = r.nextInt(12);
        int i = r.nextInt(n);
        List<String> links = new ArrayList<>(m.edges.keySet());
        if (what < 5 && !links.isEmpty()) {
            ViewerProjectionTest.bumpLink(m, r, links.get(r.nextInt(links.size())));
        } else if (what == 5) {
            ViewerProjectionTest.bareLink(m, r, i, r.nextInt(n));
        } else if (what == 6) {
            ViewerProjectionTest.setNode(m, r, i);
        } else if (what == 7) {
            m.apply("gg:node:" + ViewerProjectionTest.addr(i), null, null);
        } else if (what == 8 && !links.isEmpty()) {
            m.apply("gg:link:" + links.get(r.nextInt(links.size())), null, null);
        } else {
            ViewerProjectionTest.setLink(m, r, i, r.nextInt(n));
        }
    }

    static GraphModel fill(GraphModel m, Random r, int nodes, int links) {
        for (int i = 0; i < nodes; i++) {
            ViewerProjectionTest.setNode(m, r, i);
        }
        for (int i = 0; i < links; i++) {
            ViewerProjectionTest.setLink(m, r, r.nextInt(nodes), r.nextInt(nodes));
        }
        return m;
    }

    /**
     * The lost SYN-flood resync, deterministically: a viewer whose snapshot takes it about three times
     * {@link ViewerSession#SLOW_TICKS} ticks to read (the 37k-host SYN flood's 55 MB NetStream snapshot took seconds
     * to decode on a loaded machine), while new hosts keep appearing and links keep changing (far less per tick than
     * the viewer reads), stops reading once for longer than SLOW_TICKS; then the graph goes still. It must be
     * resynced once, told once, and be back to deltas: holding exactly the model again while the changes go on, and
     * at the end. A viewer that reads fast shares its view and holds the model at every tick.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"netstream", "json"})
    void aViewerReadingItsSnapshotIsNotDroppedAgainAndCatchesUp(String format) throws Exception {
        Random r = new Random(7);
        int n = 60;
        ViewerConfig c = ViewerConfig.all(format);
        ViewerHub hub = new ViewerHub(RedisURI.create("redis://127.0.0.1:1"), ModuleRegistry.load(), 100);
        ServerMetrics metrics = new ServerMetrics();
        hub.metrics(metrics);
        PeerSocket fast = socket(format);
        PeerSocket slow = socket(format);
        try {
            GraphModel m = fill(hub.model(), r, n, 150);
            long rate = snapshotBytes(m, c) / (3 * ViewerSession.SLOW_TICKS);
            new ViewerSession(hub, fast, "fast").configure(c);
            new ViewerSession(hub, slow, "slow").configure(c);
            int stallAt = 150;
            int stallFor = 3 * ViewerSession.SLOW_TICKS; // its socket fills, then SLOW_TICKS without reading
            int stillAt = 400;
            int caughtUpBefore = -1;
            int caughtUpAfter = -1;
            for (int tick = 0; tick < 600; tick++) {
                if (tick < stillAt) {
                    // a link or two changes every tick, and every third tick a new host talks to host 0: far less
                    // than the slow viewer reads per tick
                    for (int k = r.nextInt(3); k > 0; k--) {
                        List<String> links = new ArrayList<>(m.edges.keySet());
                        ViewerProjectionTest.bumpLink(m, r, links.get(r.nextInt(links.size())));
                    }
                    if (tick % 3 == 0) {
                        ViewerProjectionTest.setNode(m, r, n);
                        ViewerProjectionTest.setLink(m, r, 0, n++);
                    }
                }
                boolean fastTakes = fast.isWritable();
                boolean slowTakes = slow.isWritable();
                hub.fanOut(null, 1000L + tick);
                fast.read(Long.MAX_VALUE);
                boolean stalled = tick >= stallAt && tick < stallAt + stallFor;
                slow.read(stalled ? 0 : rate);
                String at = format + " tick " + tick;
                assertTrue(fastTakes, at + ": the fast viewer's socket is writable");
                assertEquals("", fast.peer.differs(m, c), at + ": the fast viewer holds the model");
                if (slowTakes && slow.queued() == 0) {
                    assertEquals("", slow.peer.differs(m, c), at + ": the slow viewer, caught up, holds the model");
                    if (tick < stallAt && caughtUpBefore < 0) {
                        caughtUpBefore = tick;
                    } else if (tick >= stallAt + stallFor && tick < stillAt && caughtUpAfter < 0) {
                        caughtUpAfter = tick;
                    }
                }
            }
            String notices = " (slow viewer's notices " + slow.peer.notices() + "; at the end it holds "
                    + slow.peer.differs(m, c) + ")";
            assertTrue(caughtUpBefore >= 0, format + ": the slow viewer caught up after its first snapshot while the"
                    + " graph kept changing" + notices);
            assertTrue(caughtUpAfter >= 0, format + ": the slow viewer caught up after its resync while the graph kept"
                    + " changing" + notices);
            assertEquals("", slow.peer.differs(m, c), format + ": the slow viewer holds the model once it is still"
                    + notices);
            assertEquals(1, slow.peer.notices().stream().filter("slow_viewer"::equals).count(), format + ": told once,"
                    + " for its one stall" + notices);
            assertEquals(0, slow.peer.untoldClears(), format + ": every clear announced");
            assertEquals(1.0, metrics.viewerEvents.labelValues("slow_viewer").get(), format + ": counted once");
            assertEquals(0, fast.peer.notices().stream().filter("slow_viewer"::equals).count(), format + ": the fast"
                    + " viewer was never resynced");
        } finally {
            hub.close();
            fast.close(); // what is still queued is released
            slow.close();
        }
    }

    static PeerSocket socket(String format) {
        return new PeerSocket(format.equals("json") ? new JsonPeer() : new NetStreamPeer());
    }

    static LongStream seeds() {
        return LongStream.rangeClosed(1, 30);
    }

    /** What a viewer does with its socket for a while: bytes read per tick, and for how many ticks. */
    record Reading(long rate, int ticks) {
    }

    /**
     * 2 KiB a tick at least while reading: a {@link ViewerSession#WRITE_PIECE} in 8 ticks, so that with a hiccup of
     * at most 8 ticks before, a reading viewer is never SLOW_TICKS ticks without taking a piece.
     */
    static final long MIN_RATE = 2048;

    /** What a viewer does next; {@code mustRead}: it read nothing for the previous while (two hiccups make a stall). */
    static Reading reading(Random r, boolean mustRead) {
        int c = mustRead ? 2 + r.nextInt(4) : r.nextInt(6);
        return switch (c) {
            case 0 -> new Reading(0, 1 + r.nextInt(8)); // a hiccup: its changes coalesce
            case 1 -> new Reading(0, ViewerSession.SLOW_TICKS + 5 + r.nextInt(2 * ViewerSession.SLOW_TICKS));
            case 2, 3 -> new Reading(MIN_RATE + r.nextInt(4096), 10 + r.nextInt(100)); // slower than a snapshot
            default -> new Reading(Long.MAX_VALUE, 5 + r.nextInt(60));
        };
    }

    /**
     * Seeded schedules of model changes, viewers reading at random rates (fast, slower than a snapshot takes, not at
     * all for a few ticks or for longer than SLOW_TICKS), configuration changes at any time (behind, stalled, during
     * a snapshot), and hub resyncs (Redis came back: the model replaced by a fresh snapshot, some keys gone, every
     * viewer resynced), with viewers of both formats sharing views and hosts-level views sharing encodings. After
     * every tick a viewer's socket was writable and it has read everything, it holds exactly what a fresh projection
     * of the model shows; every clear of its graph was announced by a notice; only a viewer that read nothing for
     * SLOW_TICKS ticks is dropped to a snapshot (and each drop is counted); and once the graph is still and every
     * viewer reads, every viewer catches up.
     */
    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void everyViewerHoldsTheModelWheneverItHasCaughtUp(long seed) throws Exception {
        Random r = new Random(seed);
        int n = 40;
        String[] formats = {"json", "netstream", "json", "netstream", "netstream", "json", "netstream"};
        int[] first = {0, 0, 1, 2, 3, 0, 1};
        ViewerHub hub = new ViewerHub(RedisURI.create("redis://127.0.0.1:1"), ModuleRegistry.load(), 100);
        ServerMetrics metrics = new ServerMetrics();
        hub.metrics(metrics);
        int viewers = formats.length;
        PeerSocket[] socks = new PeerSocket[viewers];
        try {
            GraphModel m = fill(hub.model(), r, n, 100);
            ViewerSession[] sessions = new ViewerSession[viewers];
            ViewerConfig[] cfg = new ViewerConfig[viewers];
            Reading[] reading = new Reading[viewers];
            int[] readingFor = new int[viewers];
            int[] stalls = new int[viewers];
            for (int v = 0; v < viewers; v++) {
                socks[v] = socket(formats[v]);
                sessions[v] = new ViewerSession(hub, socks[v], "v" + v);
                cfg[v] = configs(formats[v]).get(first[v]);
                sessions[v].configure(cfg[v]);
                reading[v] = new Reading(Long.MAX_VALUE, 0);
            }
            int busy = 400;
            int quiet = 300;
            int[] caughtUpQuiet = new int[viewers];
            java.util.Arrays.fill(caughtUpQuiet, -1);
            int hubResyncs = 0;
            for (int tick = 0; tick < busy + quiet; tick++) {
                boolean still = tick >= busy;
                String resync = null;
                if (!still) {
                    for (int v = 1; v < viewers; v++) {
                        if (r.nextInt(25) == 0) {
                            // a configuration message between two ticks, taken whatever the viewer's state
                            cfg[v] = configs(formats[v]).get(r.nextInt(4));
                            sessions[v].configure(cfg[v]);
                        }
                    }
                    for (int k = r.nextInt(12); k > 0; k--) {
                        change(m, r, n);
                    }
                    if (r.nextInt(80) == 0) {
                        // Redis came back (restarted, or the subscription broke): a fresh snapshot replaces the model,
                        // without the keys it lost, and every viewer is resynced
                        boolean empty = r.nextInt(4) == 0;
                        Map<String, Map.Entry<String, GraphElement>> fresh = new HashMap<>();
                        m.byKey.forEach((k, e) -> {
                            if (!empty && r.nextInt(5) > 0) {
                                fresh.put(k, Map.entry("network", e));
                            }
                        });
                        m.replaceAll(fresh);
                        resync = "Redis subscription was re-established";
                        hubResyncs++;
                    }
                }
                for (int v = 1; v < viewers; v++) {
                    if (readingFor[v]-- <= 0) {
                        reading[v] = reading(r, reading[v].rate() == 0);
                        readingFor[v] = reading[v].ticks();
                        if (reading[v].rate() == 0 && reading[v].ticks() > ViewerSession.SLOW_TICKS) {
                            stalls[v]++;
                        }
                    }
                    if (tick == busy) {
                        // the graph is still: every viewer reads, slower than a snapshot takes but enough to catch up
                        reading[v] = new Reading(MIN_RATE + r.nextInt(2048), quiet);
                        readingFor[v] = quiet;
                    }
                }
                boolean[] takes = new boolean[viewers];
                for (int v = 0; v < viewers; v++) {
                    takes[v] = socks[v].isWritable();
                }
                hub.fanOut(resync, 1000L + tick);
                for (int v = 0; v < viewers; v++) {
                    String at = "seed " + seed + " tick " + tick + " viewer " + v + " (" + formats[v] + ", reads "
                            + reading[v].rate() + "/tick, notices " + socks[v].peer.notices() + ")";
                    try {
                        socks[v].read(reading[v].rate());
                    } catch (RuntimeException | AssertionError e) {
                        throw new AssertionError(at + ": " + e, e);
                    }
                    assertTrue(socks[v].isActive(), at + ": still connected");
                    if (takes[v] && socks[v].queued() == 0) {
                        assertEquals("", socks[v].peer.differs(m, cfg[v]), at + ": caught up, holds the model");
                        if (still && caughtUpQuiet[v] < 0) {
                            caughtUpQuiet[v] = tick;
                        }
                    }
                }
            }
            // every viewer's problems at once: which of them went wrong says more than the first one
            List<String> problems = new ArrayList<>();
            double told = 0;
            for (int v = 0; v < viewers; v++) {
                String who = "viewer " + v + " (" + formats[v] + ", notices " + socks[v].peer.notices() + ")";
                if (caughtUpQuiet[v] < 0) {
                    problems.add(who + ": never caught up once the graph was still");
                }
                String d = socks[v].peer.differs(m, cfg[v]);
                if (!d.isEmpty()) {
                    problems.add(who + ": does not hold the model at the end: " + d);
                }
                if (socks[v].peer.untoldClears() > 0) {
                    problems.add(who + ": " + socks[v].peer.untoldClears() + " clears of its graph not announced");
                }
                long slow = socks[v].peer.notices().stream().filter("slow_viewer"::equals).count();
                if (slow > stalls[v]) {
                    problems.add(who + ": dropped " + slow + " times for " + stalls[v] + " stalls longer than"
                            + " SLOW_TICKS");
                }
                long resyncs = socks[v].peer.notices().stream().filter("resync"::equals).count();
                if (resyncs != hubResyncs) {
                    problems.add(who + ": told of " + resyncs + " of " + hubResyncs + " hub resyncs");
                }
                told += slow;
            }
            assertEquals(List.of(), problems, "seed " + seed);
            assertEquals(told, metrics.viewerEvents.labelValues("slow_viewer").get(), "seed " + seed + ": each drop"
                    + " counted");
            assertTrue(told > 0 && hubResyncs > 0, "seed " + seed + ": both kinds of resync taken (" + told
                    + " drops, " + hubResyncs + " hub resyncs)");
        } finally {
            hub.close();
            for (PeerSocket sock : socks) {
                if (sock != null) {
                    sock.close(); // what is still queued is released
                }
            }
        }
    }
}
