package org.glouglou.server.viz.format;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.glouglou.spi.graph.GraphElement;
import org.glouglou.spi.graph.GraphOp;
import org.graphstream.stream.netstream.NetStreamConstants;
import org.graphstream.stream.netstream.NetStreamEncoder;
import org.graphstream.stream.netstream.NetStreamUtils;

/**
 * GraphStream NetStream frames (issue 5) that gs-core 2.0's {@code NetStreamDecoder} reads into a graph: structure
 * events are made by gs-core's own {@link NetStreamEncoder}; attribute frames, the bulk of a snapshot, are written
 * here byte for byte as it makes them (values through its own type and value encoding), without its buffer per part
 * of each frame. each frame is an int32 big-endian size (itself included), the
 * stream id, the command, the source id, the time id and the payload. Time ids grow with every frame over the whole
 * connection, because a GraphStream graph drops an event whose time id it has already seen from that source. A step
 * is {@code stepBegins} with the sequence number as its time; a resync is {@code graphCleared}; a notice is the graph
 * attribute {@code gg.notice} ("kind: message").
 */
public final class NetStreamWriter implements GraphFormatWriter {
    public static final String FORMAT = "netstream";
    /** The stream id in every frame. */
    public static final String STREAM = "glouglou";
    /** The source id in every frame. */
    public static final String SOURCE = "glouglou-server";
    public static final String NOTICE_ATTRIBUTE = "gg.notice";

    /**
     * Time ids come from one counter for the whole server, not one per connection: the same encoded diff is written
     * to several viewers (issue 5, fan-out), and each of them must still see ids that only grow. Gaps are harmless.
     */
    private static final AtomicLong TIME = new AtomicLong();

    private static final byte[] STREAM_ID = bytes(NetStreamUtils.encodeString(STREAM));
    private static final byte[] SOURCE_ID = bytes(NetStreamUtils.encodeString(SOURCE));
    /** Of a recorded frame: the size, the stream id, the command, the source id and the one-byte time id 0. */
    private static final int ADD_NODE_ATTR = NetStreamConstants.EVENT_ADD_NODE_ATTR;
    private static final int CHG_NODE_ATTR = NetStreamConstants.EVENT_CHG_NODE_ATTR;
    private static final int ADD_EDGE_ATTR = NetStreamConstants.EVENT_ADD_EDGE_ATTR;
    private static final int CHG_EDGE_ATTR = NetStreamConstants.EVENT_CHG_EDGE_ATTR;
    private static final int RECORDED_HEADER = 4 + STREAM_ID.length + 1 + SOURCE_ID.length + 1;

    private ByteBuf out;
    /**
     * While an operation is encoded for {@link EncodedOps}: its frames without their header, each as the command,
     * the payload's length and the payload, so that a copy gets fresh time ids; null while writing to {@link #out}.
     */
    private ByteBuf recording;
    private final NetStreamEncoder encoder = new NetStreamEncoder(STREAM, this::frame);

    @Override
    public String format() {
        return FORMAT;
    }

    @Override
    public void write(List<GraphOp> ops, ByteBuf target, EncodedOps shared) {
        this.out = target;
        try {
            for (GraphOp op : ops) {
                Object key = shared == null ? null : EncodedOps.keyOf(op);
                if (key == null) {
                    write(op);
                    continue;
                }
                byte[] frames = shared.get(key);
                if (frames == null) {
                    recording = Unpooled.buffer(256);
                    try {
                        write(op);
                        frames = ByteBufUtil.getBytes(recording);
                    } finally {
                        recording.release();
                        recording = null;
                    }
                    shared.put(key, frames);
                }
                replay(frames);
            }
        } finally {
            this.out = null;
        }
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] a = new byte[b.remaining()];
        b.duplicate().get(a);
        return a;
    }

    private long time() {
        return recording != null ? 0 : TIME.incrementAndGet();
    }

    /** A frame from the encoder (position 0, the whole frame): written out, or recorded without its header. */
    private void frame(ByteBuffer b) {
        if (recording == null) {
            out.writeBytes(b);
            return;
        }
        ByteBuffer payload = b.duplicate();
        payload.position(RECORDED_HEADER);
        recording.writeByte(b.get(4 + STREAM_ID.length));
        recording.writeInt(payload.remaining());
        recording.writeBytes(payload);
    }

    /** Recorded frames written out as whole frames, each with the next time id. */
    private void replay(byte[] frames) {
        for (int i = 0; i < frames.length;) {
            int length = (frames[i + 1] & 0xff) << 24 | (frames[i + 2] & 0xff) << 16 | (frames[i + 3] & 0xff) << 8
                    | frames[i + 4] & 0xff;
            header(frames[i], length).writeBytes(frames, i + 5, length);
            i += 5 + length;
        }
    }

    /**
     * Starts a frame of {@code command} whose payload is {@code length} bytes long: its header (size, stream id,
     * command, source id, next time id) written out, or the command and length recorded; returns where the payload
     * goes.
     */
    private ByteBuf header(int command, int length) {
        if (recording != null) {
            recording.writeByte(command);
            recording.writeInt(length);
            return recording;
        }
        long time = TIME.incrementAndGet();
        int varint = NetStreamUtils.getVarintSize(time);
        out.writeInt(4 + STREAM_ID.length + 1 + SOURCE_ID.length + varint + length);
        out.writeBytes(STREAM_ID);
        out.writeByte(command);
        out.writeBytes(SOURCE_ID);
        for (int i = 0; i < varint; i++) { // unsigned, 7 bits a byte, low bits first, as gs-core's
            out.writeByte((int) (time >>> 7 * i & 127) | (i < varint - 1 ? 128 : 0));
        }
        return out;
    }

    /** Encoded attribute names: a graph has few, and every element repeats them. */
    private final Map<String, byte[]> names = new java.util.HashMap<>();

    private byte[] name(String key) {
        byte[] b = names.get(key);
        if (b == null) {
            b = bytes(NetStreamUtils.encodeString(key));
            if (names.size() < 4096) {
                names.put(key, b);
            }
        }
        return b;
    }

    /**
     * An attribute added ({@code old} null) or changed on the element whose encoded id is {@code element}: the frame
     * gs-core's encoder makes (the element id, the name, then the old value's type and value when changed, then the
     * new value's), written here with the element id encoded once for all its attributes and the names once for the
     * connection, instead of a buffer allocated and copied for each part of each frame. The bulk of a snapshot.
     */
    private void attribute(int added, int changed, byte[] element, String key, Object old, Object value) {
        byte[] k = name(key);
        int type = NetStreamUtils.getType(value);
        ByteBuffer v = NetStreamUtils.encodeValue(value, type);
        int oldType = old == null ? 0 : NetStreamUtils.getType(old);
        ByteBuffer o = old == null ? null : NetStreamUtils.encodeValue(old, oldType);
        int length = element.length + k.length + (o == null ? 0 : 1 + o.remaining()) + 1 + v.remaining();
        ByteBuf to = header(old == null ? added : changed, length);
        to.writeBytes(element);
        to.writeBytes(k);
        if (o != null) {
            to.writeByte(oldType);
            to.writeBytes(o);
        }
        to.writeByte(type);
        to.writeBytes(v);
    }

    private void write(GraphOp op) {
        if (op instanceof GraphOp.AddNode a) {
            GraphElement.Node n = a.node();
            encoder.nodeAdded(SOURCE, time(), n.id());
            byte[] id = bytes(NetStreamUtils.encodeString(n.id()));
            n.attributes().forEach((k, v) -> attribute(ADD_NODE_ATTR, CHG_NODE_ATTR, id, k, null, v));
        } else if (op instanceof GraphOp.ChangeNode c) {
            Map<String, Object> prev = c.previous();
            byte[] id = bytes(NetStreamUtils.encodeString(c.id()));
            c.set().forEach((k, v) -> attribute(ADD_NODE_ATTR, CHG_NODE_ATTR, id, k, prev == null ? null : prev.get(k),
                    v));
            c.removed().forEach(k -> encoder.nodeAttributeRemoved(SOURCE, time(), c.id(), k));
        } else if (op instanceof GraphOp.DeleteNode d) {
            encoder.nodeRemoved(SOURCE, time(), d.id());
        } else if (op instanceof GraphOp.AddEdge a) {
            GraphElement.Edge e = a.edge();
            encoder.edgeAdded(SOURCE, time(), e.id(), e.source(), e.target(), e.directed());
            byte[] id = bytes(NetStreamUtils.encodeString(e.id()));
            e.attributes().forEach((k, v) -> attribute(ADD_EDGE_ATTR, CHG_EDGE_ATTR, id, k, null, v));
        } else if (op instanceof GraphOp.ChangeEdge c) {
            Map<String, Object> prev = c.previous();
            byte[] id = bytes(NetStreamUtils.encodeString(c.id()));
            c.set().forEach((k, v) -> attribute(ADD_EDGE_ATTR, CHG_EDGE_ATTR, id, k, prev == null ? null : prev.get(k),
                    v));
            c.removed().forEach(k -> encoder.edgeAttributeRemoved(SOURCE, time(), c.id(), k));
        } else if (op instanceof GraphOp.DeleteEdge d) {
            encoder.edgeRemoved(SOURCE, time(), d.id());
        } else if (op instanceof GraphOp.Clear) {
            encoder.graphCleared(SOURCE, time());
        } else if (op instanceof GraphOp.Step s) {
            encoder.stepBegins(SOURCE, time(), s.seq());
        } else if (op instanceof GraphOp.Notice n) {
            encoder.graphAttributeAdded(SOURCE, time(), NOTICE_ATTRIBUTE,
                    n.kind() + ": " + n.message());
        }
    }
}
