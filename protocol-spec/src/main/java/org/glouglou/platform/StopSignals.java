package org.glouglou.platform;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SIGTERM (what systemd sends) and SIGINT turned into an orderly stop that the daemon's main thread carries out, so
 * that it exits with its own status (0 after a clean stop). Left to the JVM, the signals would run the shutdown hooks
 * while the other threads go on, and the process would exit with 143 (128 + SIGTERM), which systemd reports as a
 * failure. Daemons keep a shutdown hook as well, for the exits these handlers do not cover.
 */
public final class StopSignals {
    private static final Logger LOG = LoggerFactory.getLogger(StopSignals.class);

    private StopSignals() {
    }

    /** Calls {@code stop} (on a signal thread; it must only ask, and return at once) on SIGTERM and SIGINT. */
    public static void onStop(Runnable stop) {
        for (String sig : new String[]{"TERM", "INT"}) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(sig), s -> stop.run());
            } catch (IllegalArgumentException e) {
                // the JVM keeps this signal for itself (e.g. started with -Xrs): the shutdown hook covers it
                LOG.warn("cannot handle SIG{}: {}", sig, e.getMessage());
            }
        }
    }
}
