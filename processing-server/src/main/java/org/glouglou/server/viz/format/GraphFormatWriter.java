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
    void write(List<GraphOp> ops, ByteBuf out);

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
