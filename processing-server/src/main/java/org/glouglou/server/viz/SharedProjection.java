package org.glouglou.server.viz;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.glouglou.server.viz.format.EncodedOps;
import org.glouglou.server.viz.format.GraphFormatWriter;
import org.glouglou.spi.graph.GraphOp;

/**
 * One {@link ViewerProjection} shared by every viewer whose configuration is the same but for the format (issue 5,
 * fan-out): the projection is updated and diffed once per tick, and the diff is encoded at most once per format;
 * each viewer that holds the previous state gets a {@link ByteBuf#retainedDuplicate() duplicate} of the same bytes.
 * At the hosts level, the operations themselves are shared with the other views (the same change of the same model
 * element), so each is encoded once per format for all of them ({@link EncodedOps}).
 * Owned by the viewer thread.
 */
final class SharedProjection {
    /** The configuration with its format blanked: the key viewers are shared by. */
    final ViewerConfig key;
    final ViewerProjection projection;
    final List<ViewerSession> sessions = new ArrayList<>();
    private List<GraphOp> diff = List.of();
    private final Map<String, ByteBuf> encoded = new HashMap<>(2);
    /** This tick's encodings shared across hosts-level views, by format; null for a grouped view (nothing shared). */
    private final java.util.function.Function<String, EncodedOps> shared;

    SharedProjection(GraphModel model, ViewerConfig key, java.util.function.Function<String, EncodedOps> shared) {
        this.key = key;
        this.shared = key.level() == ViewerConfig.Level.HOSTS ? shared : null;
        this.projection = new ViewerProjection(model, key);
        projection.drain(); // holds the current graph: a viewer joining now gets it as its snapshot
    }

    static ViewerConfig key(ViewerConfig c) {
        return new ViewerConfig("", c.modules(), c.addresses(), c.ports(), c.protocols(), c.probes(), c.minBytes(), c
                .level(), c.prefix4(), c.prefix6(), c.domainLabels());
    }

    /** Applies this tick's model changes; afterwards {@link #diff()} is what changed for these viewers. */
    void tick(GraphModel.Dirty dirty) {
        if (!dirty.isEmpty()) {
            projection.update(dirty);
        }
        diff = projection.drain();
    }

    List<GraphOp> diff() {
        return diff;
    }

    /** This tick's diff in {@code format}, encoded on first use; the caller owns (writes or releases) the result. */
    ByteBuf encoded(GraphFormatWriter writer, ByteBufAllocator alloc) {
        ByteBuf b = encoded.get(writer.format());
        if (b == null) {
            b = alloc.buffer();
            try {
                writer.write(diff, b, shared == null ? null : shared.apply(writer.format()));
            } catch (RuntimeException e) {
                b.release();
                throw e;
            }
            encoded.put(writer.format(), b);
        }
        return b.retainedDuplicate();
    }

    /** Releases this tick's encodings (the viewers' channels hold their own references until written). */
    void endTick() {
        encoded.values().forEach(ByteBuf::release);
        encoded.clear();
    }
}
