package org.glouglou.server.viz.format;

import io.netty.buffer.ByteBuf;
import java.util.List;
import org.glouglou.spi.graph.GraphOp;

/**
 * Turns neutral graph operations into the bytes of one output format (issue 5). One writer per viewer connection:
 * a writer may keep state across calls (NetStream's time ids must grow for the whole connection).
 */
public interface GraphFormatWriter {
    /** Appends the encoding of {@code ops}, in order, to {@code out}. */
    default void write(List<GraphOp> ops, ByteBuf out) {
        write(ops, out, null);
    }

    /**
     * The same, taking the encoding of an operation other views sent this tick from {@code shared} (in this writer's
     * format), and leaving there the ones it encodes; null: encode everything.
     */
    void write(List<GraphOp> ops, ByteBuf out, EncodedOps shared);

    /** The format name a viewer asks for in its configuration. */
    String format();

    /** A writer for a format name, or null when the name is unknown. */
    static GraphFormatWriter forName(String format) {
        return switch (format) {
            case NetStreamWriter.FORMAT -> new NetStreamWriter();
            case GephiJsonWriter.FORMAT -> new GephiJsonWriter();
            default -> null;
        };
    }
}
