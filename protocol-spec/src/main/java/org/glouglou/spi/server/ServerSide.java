package org.glouglou.spi.server;

import java.util.Map;
import org.glouglou.spi.Event;

/**
 * The server half of a module (issue 4): turns the events of its module into Redis state through a
 * {@link StateWriter}. The processing server calls every method on its single ingest thread, so implementations need
 * no locks; they must never block and never throw (the core counts a thrown exception as a failed event, but the
 * module's state may then be half-updated). Everything kept must be bounded, with drops counted in
 * {@link #counters()}.
 */
public interface ServerSide {
    /** Called once before any event. */
    default void start(ServerSettings settings) {
    }

    /**
     * A probe session was established: returns this module's state for it (for the network module, the table of
     * connection ids), or null when it keeps none. {@link ProbeContext#state()} returns it afterwards.
     */
    default Object openSession(ProbeContext probe) {
        return null;
    }

    /** One event of this module from an authenticated session, in the order the probe sent it. */
    void onEvent(ProbeContext probe, long timeMicros, Event event, StateWriter out);

    /** Called once per tick, before the core writes what changed: for values derived over time (rates). */
    default void onTick(long nowMillis, StateWriter out) {
    }

    /** The session ended (BYE, idle, replaced): release its state. Keys it wrote age out through their TTLs. */
    default void closeSession(ProbeContext probe, StateWriter out) {
    }

    /**
     * Cumulative counters by stable lower-case name (e.g. {@code unknown_conn}, {@code conns_refused}), exported as
     * metrics labelled with the module's name. Called from the metrics thread: return a snapshot.
     */
    default Map<String, Long> counters() {
        return Map.of();
    }
}
