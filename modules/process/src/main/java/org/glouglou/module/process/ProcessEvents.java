package org.glouglou.module.process;

import java.util.List;
import org.glouglou.spi.Event;
import org.glouglou.spi.EventType;

/** Events of the process module, id 2 (spec section 4.2). Times are the datagram's; pids are the probe host's. */
public final class ProcessEvents {
    public static final int MODULE_ID = 2;
    public static final EventType FORK = new EventType(MODULE_ID, 1, "FORK");
    public static final EventType EXEC = new EventType(MODULE_ID, 2, "EXEC");
    public static final EventType EXIT = new EventType(MODULE_ID, 3, "EXIT");
    public static final EventType CONNPROC = new EventType(MODULE_ID, 4, "CONNPROC");

    private ProcessEvents() {
    }

    /** A process {@code pid} was created by {@code ppid}. */
    public record Fork(long pid, long ppid) implements Event {
        @Override
        public EventType type() {
            return FORK;
        }
    }

    /**
     * Process {@code pid} runs a new program. {@code command} is the executable's path; {@code args} are cut to the
     * spec's bounds (32 arguments, 1024 bytes together), {@code truncated} says whether anything was cut.
     */
    public record Exec(long pid, long uid, String command, List<String> args, boolean truncated) implements Event {
        @Override
        public EventType type() {
            return EXEC;
        }
    }

    /** Process {@code pid} ended with {@code code}, or by {@code signal} (0 when it exited by itself). */
    public record Exit(long pid, int code, int signal) implements Event {
        @Override
        public EventType type() {
            return EXIT;
        }
    }

    /** The network flow with probe-local connection id {@code conn} belongs to process {@code pid}. */
    public record ConnProc(long conn, long pid) implements Event {
        @Override
        public EventType type() {
            return CONNPROC;
        }
    }
}
