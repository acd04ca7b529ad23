package org.glouglou.spi;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;

/**
 * The probe half of a module: something that observes the host (packets, process events) and emits events. The
 * probe daemon drives every configured source in the same order as an OpenBSD privsep daemon: {@link #openPrivileged}
 * while still root, then the privilege drop, then {@link #run} on untrusted input.
 */
public interface ProbeSource extends AutoCloseable {

    /** Creates the source of one module from its command-line options. */
    interface Factory {
        /**
         * A picocli-annotated object whose options are added to the probe's command line (as a mixin named after the
         * module). Null when the module has no options.
         */
        Object options();

        /**
         * The source these options ask for, or null when they ask this module for nothing (for instance no interface
         * and no file given).
         */
        ProbeSource create(Object options, Context context) throws ConfigException;
    }

    /** What the probe tells a source. */
    interface Context {
        /** Where the probe sends its datagrams: a source must never report this traffic. */
        List<InetSocketAddress> exportDestinations();

        /** Summary interval in milliseconds (DATA aggregation, coalescing). */
        int tickMillis();

        /**
         * How far the sender is behind: 0 when it keeps up; each step up asks the source to coalesce harder where
         * it can (for instance report traffic every 2^n ticks instead of every tick). Cheap; read it once per tick.
         */
        default int backlog() {
            return 0;
        }
    }

    /** Opens handles that need privileges (capture devices, netlink sockets). Called before the privilege drop. */
    void openPrivileged() throws ConfigException;

    /**
     * Reads input and emits events until the input ends (a capture file: returns normally) or {@link #stop()} is
     * called. Runs after the privilege drop, on its own thread.
     */
    void run(EventSink sink) throws Exception;

    /** True when the input ends by itself (a file); the probe exits when every finite source has ended. */
    boolean finite();

    /** Asks {@link #run} to return soon. Thread-safe. */
    void stop();

    /**
     * Counters for the probe's STATS record, by stable lower-case name, e.g. {@code packets_captured},
     * {@code kernel_dropped}, {@code flows_evicted}. Thread-safe; cheap.
     */
    Map<String, Long> stats();

    @Override
    default void close() {
        stop();
    }
}
