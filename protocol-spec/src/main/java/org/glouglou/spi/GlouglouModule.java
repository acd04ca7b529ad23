package org.glouglou.spi;

import java.util.List;

/**
 * A plug-in: a jar on the class path with a {@code META-INF/services/org.glouglou.spi.GlouglouModule} entry. The
 * core knows modules only through this interface. Optional capabilities are default methods returning null, so a
 * module may provide only the parts it has.
 */
public interface GlouglouModule {
    /** Wire module id, 1..255, unique across the installation (0 is the protocol's own). */
    int id();

    /** Short lower-case name, unique: used in JSON, configuration and metrics. */
    String name();

    /** The module's own version, reported in the probe's HELLO. */
    String version();

    /** One codec per event type this module defines. */
    List<EventCodec<?>> codecs();

    /** The probe half: what this module captures. Null if it captures nothing. */
    default ProbeSource.Factory probeSource() {
        return null;
    }

    /** The processing-server half: how this module's events become Redis state. Null if it has none. */
    default org.glouglou.spi.server.ServerSide serverSide() {
        return null;
    }

    /** The viewer half: how this module's Redis keys become graph elements (issue 5). Null if it draws nothing. */
    default org.glouglou.spi.graph.GraphSide graphSide() {
        return null;
    }
}
