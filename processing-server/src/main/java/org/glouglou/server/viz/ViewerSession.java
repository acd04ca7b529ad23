package org.glouglou.server.viz;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelOutboundBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.glouglou.server.viz.format.GraphFormatWriter;
import org.glouglou.spi.graph.GraphElement;
import org.glouglou.spi.graph.GraphOp;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One authenticated viewer connection as the viewer thread sees it (issue 5): the {@link SharedProjection} of its
 * configuration, its format writer and its step sequence. Each tick sends what changed for this viewer (the view's
 * shared, once-encoded diff when the viewer is up to date), then its own step marker. Slow viewers: while the channel
 * is not writable (Netty's high water mark) the viewer is skipped and its changes coalesce per element in its backlog;
 * after {@link #SLOW_TICKS} ticks in which it read nothing of what is queued, the backlog is dropped and the viewer
 * gets a notice and a fresh snapshot when it reads again; past {@link #MAX_PENDING_BYTES} queued it is disconnected.
 * Either way the viewer thread never waits for a socket, so one slow viewer delays no other and never the ingest. All
 * methods but {@link #requestClose} run on the viewer thread.
 */
final class ViewerSession {
    private static final Logger LOG = LoggerFactory.getLogger(ViewerSession.class);
    /**
     * 20 ticks (2 s at 100 ms) without reading anything of what is queued: long enough for a network hiccup, short
     * enough not to keep a backlog for a viewer that is gone.
     */
    static final int SLOW_TICKS = 20;
    /**
     * 256 MiB queued for one viewer at most: a NetStream snapshot of 10k nodes and 50k edges is 64 MB (SnapshotBench),
     * so this is about three of them.
     */
    static final long MAX_PENDING_BYTES = 256L << 20;
    /**
     * 16 KiB (a TLS record) at most per message written: Netty counts a message as queued until all of it is written,
     * so a snapshot written in pieces lets {@link #queued} fall while the viewer reads it, and a viewer that reads a
     * large snapshot slowly is told from one that reads nothing.
     */
    static final int WRITE_PIECE = 16 * 1024;
    /** A step (heartbeat) at least every 10 ticks even when nothing changed: the viewer knows it is live. */
    static final int HEARTBEAT_TICKS = 10;

    private final ViewerHub hub;
    private final Channel channel;
    final String user;
    private SharedProjection view;
    private GraphFormatWriter writer;
    private long seq;
    /** Why the viewer's graph is replaced by a fresh snapshot at the next tick it can take (empty: it is not). */
    private final List<GraphOp.Notice> resyncNotices = new ArrayList<>();
    private final List<GraphOp> notices = new ArrayList<>();
    /** True while the viewer holds nothing of its view: the next step it can take sends all of it. */
    private boolean full;
    /**
     * Elements that changed since the viewer last held its view's state, with what it holds of each (null: absent):
     * filled while it cannot take the shared diff (slow socket, configuration change), coalesced per element.
     */
    private final Map<String, GraphElement.Node> backlogNodes = new HashMap<>();
    private final Map<String, GraphElement.Edge> backlogEdges = new HashMap<>();
    /** Consecutive ticks the channel was not writable and the viewer read nothing of what is queued. */
    private int stalledTicks;
    /** Bytes queued on the channel after the last tick: fewer at this tick means the viewer is reading. */
    private long queuedAfterTick;
    private int quietTicks;
    private boolean closed;
    private byte[] preamble;
    private long bytesSent;
    private long resyncs;

    ViewerSession(ViewerHub hub, Channel channel, String user) {
        this.hub = hub;
        this.channel = channel;
        this.user = user;
    }

    /** A (new) configuration: the first one starts the stream, later ones send exactly the difference. */
    void configure(ViewerConfig c) {
        if (closed) {
            return;
        }
        if (view == null) {
            writer = GraphFormatWriter.forName(c.format());
            preamble = ("{\"ok\":{\"format\":\"" + c.format() + "\",\"viewer\":\"" + user.replace("\"", "")
                    + "\"}}\n").getBytes(StandardCharsets.UTF_8);
            if (!hub.redisUp()) {
                notices.add(new GraphOp.Notice("redis_unavailable", "the server has no Redis snapshot yet"));
            }
            view = hub.join(this, c);
            full = true;
            hub.add(this);
            return;
        }
        if (!c.format().equals(writer.format())) {
            close("the format cannot change on a connection (reconnect with format " + c.format() + ")");
            return;
        }
        SharedProjection old = view;
        view = hub.join(this, c);
        if (view != old) {
            if (!full) {
                // what the viewer holds: the old view's state, but for the elements it has not caught up on yet
                Map<String, GraphElement.Node> oldNodes = old.projection.heldNodes();
                Map<String, GraphElement.Edge> oldEdges = old.projection.heldEdges();
                oldNodes.forEach((id, was) -> remember(backlogNodes, id, was));
                oldEdges.forEach((id, was) -> remember(backlogEdges, id, was));
                for (String id : view.projection.heldNodes().keySet()) {
                    remember(backlogNodes, id, oldNodes.get(id));
                }
                for (String id : view.projection.heldEdges().keySet()) {
                    remember(backlogEdges, id, oldEdges.get(id));
                }
            }
            hub.leave(this, old);
        }
        notices.add(new GraphOp.Notice("config", "configuration applied"));
    }

    /**
     * Records that the viewer holds {@code was} of element {@code id} (null: it does not hold it), unless the backlog
     * already says what it holds: the first record is the one the viewer saw. Not {@link Map#putIfAbsent}, which
     * replaces a null ("the viewer does not hold it") and so would turn a later addition into a change of an element
     * the viewer never got.
     */
    private static <E> void remember(Map<String, E> backlog, String id, E was) {
        if (!backlog.containsKey(id)) {
            backlog.put(id, was);
        }
    }

    /** Tells the viewer something at the next tick. */
    void notice(String kind, String message) {
        notices.add(new GraphOp.Notice(kind, message));
    }

    /** Everything the viewer holds is replaced by a fresh snapshot at the next tick it can take. */
    void resync(String kind, String message) {
        if (view == null) {
            return;
        }
        // every reason is told, should several come before the viewer can take the snapshot
        resyncNotices.add(new GraphOp.Notice(kind, message));
        full = true;
        backlogNodes.clear();
        backlogEdges.clear();
    }

    /** After every view has applied this tick's changes: sends what changed for this viewer, then a step. */
    void tick(long now) {
        if (closed || view == null) {
            return;
        }
        if (!channel.isActive()) {
            close(null);
            return;
        }
        try {
            sendTick(now);
        } finally {
            queuedAfterTick = queued();
        }
    }

    /** Bytes written to the channel and not yet taken by the viewer's socket (the TLS layer's queue included). */
    private long queued() {
        ChannelOutboundBuffer b = channel.unsafe().outboundBuffer();
        return b == null ? 0 : b.totalPendingWriteBytes();
    }

    private void sendTick(long now) {
        boolean writable = channel.isWritable();
        boolean behind = full || !backlogNodes.isEmpty() || !backlogEdges.isEmpty() || !writable;
        if (behind && !full) {
            // it missed (or will miss) this diff: remember what it holds of each element that changed
            view.projection.changedNodes().forEach((id, was) -> remember(backlogNodes, id, was));
            view.projection.changedEdges().forEach((id, was) -> remember(backlogEdges, id, was));
        }
        if (!writable) {
            long queued = queued();
            // Only a tick in which the viewer read nothing of what is queued counts. One that is reading a snapshot or
            // a catch-up keeps the channel unwritable for as long as that takes: dropping its backlog then would queue
            // another snapshot behind the one it is reading, and a snapshot slower to read than SLOW_TICKS would be
            // followed by snapshots forever, never by deltas, the viewer holding only stale ones.
            stalledTicks = queued < queuedAfterTick ? 0 : stalledTicks + 1;
            if (queued > MAX_PENDING_BYTES) {
                hub.count("too_slow");
                close("too slow: more than " + (MAX_PENDING_BYTES >> 20) + " MiB queued");
            } else if (stalledTicks == SLOW_TICKS) {
                LOG.info("viewer {} read nothing for {} ticks: backlog dropped, a snapshot follows when it reads again",
                        user, stalledTicks);
                hub.count("slow_viewer");
                resync("slow_viewer", "you read nothing for " + stalledTicks + " ticks: backlog dropped, fresh"
                        + " snapshot");
            }
            return; // its changes coalesce in its backlog meanwhile
        }
        stalledTicks = 0;
        if (!behind) {
            // the common case: the shared diff, encoded once for every viewer of this view and format
            boolean changed = !view.diff().isEmpty();
            if (!changed && notices.isEmpty() && ++quietTicks < HEARTBEAT_TICKS) {
                return;
            }
            quietTicks = 0;
            if (changed) {
                ByteBuf shared = view.encoded(writer, channel.alloc());
                bytesSent += shared.readableBytes();
                hub.sent(shared.readableBytes());
                write(shared);
            }
            List<GraphOp> own = new ArrayList<>(notices);
            notices.clear();
            own.add(new GraphOp.Step(++seq, now));
            send(own);
            return;
        }
        List<GraphOp> ops = new ArrayList<>();
        if (!resyncNotices.isEmpty()) {
            ops.addAll(resyncNotices);
            ops.add(new GraphOp.Clear());
            resyncNotices.clear();
            resyncs++;
        }
        ops.addAll(notices);
        notices.clear();
        if (full) {
            ops.addAll(view.projection.snapshot());
        } else {
            ops.addAll(view.projection.diff(backlogNodes, backlogEdges));
        }
        full = false;
        backlogNodes.clear();
        backlogEdges.clear();
        quietTicks = 0;
        ops.add(new GraphOp.Step(++seq, now));
        send(ops);
    }

    private void send(List<GraphOp> ops) {
        ByteBuf b = channel.alloc().buffer();
        try {
            if (preamble != null) {
                b.writeBytes(preamble);
                preamble = null;
            }
            writer.write(ops, b);
        } catch (RuntimeException e) {
            b.release();
            throw e;
        }
        bytesSent += b.readableBytes();
        hub.sent(b.readableBytes());
        write(b);
        channel.flush();
    }

    /** Writes {@code b} (the channel then owns it) in pieces of at most {@link #WRITE_PIECE} bytes, in order. */
    private void write(ByteBuf b) {
        if (b.readableBytes() <= WRITE_PIECE) {
            channel.write(b, channel.voidPromise()); // a tick's diff, most of the time
            return;
        }
        try {
            for (int i = b.readerIndex(); i < b.writerIndex(); i += WRITE_PIECE) {
                channel.write(b.retainedSlice(i, Math.min(WRITE_PIECE, b.writerIndex() - i)), channel.voidPromise());
            }
        } finally {
            b.release();
        }
    }

    /** Closes with a reason sent first (null: the peer is gone); from any thread. */
    void requestClose(String reason) {
        hub.execute(() -> close(reason));
    }

    void close(String reason) {
        if (closed) {
            return;
        }
        closed = true;
        hub.remove(this);
        if (view != null) {
            hub.leave(this, view);
        }
        if (reason != null && channel.isActive()) {
            LOG.info("viewer {} {}: closing: {}", user, channel.remoteAddress(), reason);
            ByteBuf b = channel.alloc().buffer();
            if (writer == null || preamble != null) {
                b.writeBytes(ViewerHandler.errorLine(reason));
            } else {
                writer.write(List.of(new GraphOp.Notice("error", reason)), b);
            }
            channel.writeAndFlush(b).addListener(ChannelFutureListener.CLOSE);
        } else {
            channel.close();
        }
    }

    long seq() {
        return seq;
    }

    long bytesSent() {
        return bytesSent;
    }

    long resyncs() {
        return resyncs;
    }

    @Override
    public String toString() {
        return user + "@" + channel.remoteAddress();
    }
}
