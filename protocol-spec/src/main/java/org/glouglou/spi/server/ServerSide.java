package org.glouglou.spi.server;

import java.util.Map;
import org.glouglou.spi.Event;

/**
 * The server half of a module: turns the events of its module into Redis state through a {@link StateWriter}. The
 * processing server calls every method on its single ingest thread, so implementations need no locks; they must
 * never block and never throw (the core counts a thrown exception as a failed event, but the module's state may then
 * be half-updated). Everything kept must be bounded, with drops counted in {@link #counters()}.
 *
 * <p>
 * Delivery is at least once (spec 5.8): the same event may come again, from the same or another session, directly or
 * through a relay, after a later event of the same probe, or after this server restarted. Every write must therefore
 * be idempotent ({@link StateWriter}), and a module must accept events about state it never saw (it may read it from
 * Redis and ask for the event again with {@link ProbeContext#retryLater}).
 */
public interface ServerSide {
    /** Called once before any event. */
    default void start(ServerSettings settings) {
    }

    /**
     * A probe's boot was first seen (a direct session's HELLO, or a FORWARD that carried it): returns this module's
     * state for it (for the network module, the table of connection ids), or null when it keeps none.
     * {@link ProbeContext#state()} returns it afterwards. The state outlives sessions: a new session of the same boot,
     * a rekey, a failover to a relay continue it.
     */
    default Object openStream(ProbeContext probe) {
        return null;
    }

    /** One event of this module, from an authenticated session or a relay, in the order the probe sent it. */
    void onEvent(ProbeContext probe, long timeMicros, Event event, StateWriter out);

    /** Called once per tick, before the core writes what changed. */
    default void onTick(long nowMillis, StateWriter out) {
    }

    /**
     * The probe's boot ended (BYE shutdown, or silent for long): release its state. Keys it wrote age out through
     * their TTLs.
     */
    default void closeStream(ProbeContext probe, StateWriter out) {
    }

    /**
     * Cumulative counters by stable lower-case name (e.g. {@code unknown_conn}, {@code conns_refused}), exported as
     * metrics labelled with the module's name. Called from the metrics thread: return a snapshot.
     */
    default Map<String, Long> counters() {
        return Map.of();
    }
}
