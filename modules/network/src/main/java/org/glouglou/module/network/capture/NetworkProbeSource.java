package org.glouglou.module.network.capture;

import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntSupplier;
import org.glouglou.module.network.NetworkEvents.Reason;
import org.glouglou.module.network.flow.FlowConfig;
import org.glouglou.spi.ConfigException;
import org.glouglou.spi.EventSink;
import org.glouglou.spi.ProbeSource;

/**
 * The network module's probe source: packets from a live interface (through libpcap) or a capture file (read in
 * Java) go through one {@link PacketPipeline}. The capture handle or file is opened before the privilege drop; packets
 * are decoded only after it. {@link #stop()} makes {@link #run} end every open flow (DELCONN reason shutdown, spec 5.7)
 * before it returns.
 */
public final class NetworkProbeSource implements ProbeSource {
    /** 4096: packets read between checks of stop(); a few hundred microseconds of work. */
    private static final int BATCH = 4096;

    private final NetworkOptions opts;
    private final FlowConfig cfg;
    private final List<InetSocketAddress> exports;
    private final IntSupplier backlog;
    private volatile boolean stopped;
    private volatile PacketPipeline pipeline;
    private volatile CaptureFileReader file;
    private volatile LiveCapture live;

    NetworkProbeSource(NetworkOptions opts, FlowConfig cfg, List<InetSocketAddress> exports,
            IntSupplier backlog) {
        this.opts = opts;
        this.cfg = cfg;
        this.exports = List.copyOf(exports);
        this.backlog = backlog;
    }

    @Override
    public void openPrivileged() throws ConfigException {
        if (opts.read != null) {
            file = CaptureFileReader.open(opts.read);
        } else {
            live = LiveCapture.open(opts.iface, opts.snaplen, opts.promisc, opts.filter);
        }
    }

    @Override
    public void run(EventSink sink) throws Exception {
        // only a live capture coalesces when the sender is behind: a file waits instead, and replays identically
        PacketPipeline p = new PacketPipeline(cfg, opts.maxNames, exports, sink, file != null ? () -> 0 : backlog);
        pipeline = p;
        if (file != null) {
            PacketHandler h = opts.realtime ? paced(p) : p;
            try {
                while (!stopped && !file.ended()) {
                    file.read(h, BATCH);
                }
            } finally {
                file.close();
            }
            // stopped half-way (SIGTERM): the open flows end as the probe stops, not as the file ends
            p.finish(file.ended() ? Reason.END : Reason.SHUTDOWN);
        } else if (live != null) {
            try {
                live.run(p, () -> stopped);
            } finally {
                live.close();
            }
            // a live capture ends only when the probe stops: every open flow ends with reason shutdown, now
            p.advance(System.currentTimeMillis() * 1000);
            p.finish(Reason.SHUTDOWN);
        } else {
            throw new IllegalStateException("run() before openPrivileged()");
        }
    }

    /** Replays at capture speed: sleeps until each packet's offset from the first has passed on the wall clock. */
    private PacketHandler paced(PacketHandler next) {
        return new PacketHandler() {
            long first = Long.MIN_VALUE;
            long start;

            @Override
            public void packet(long ts, int lt, byte[] d, int off, int cap, int wire) {
                if (first == Long.MIN_VALUE) {
                    first = ts;
                    start = System.nanoTime();
                }
                long due = start + (ts - first) * 1000;
                long wait;
                while (!stopped && (wait = due - System.nanoTime()) > 0) {
                    LockSupport.parkNanos(Math.min(wait, 100_000_000L));
                }
                next.packet(ts, lt, d, off, cap, wire);
            }
        };
    }

    @Override
    public boolean finite() {
        return opts.read != null;
    }

    @Override
    public void stop() {
        stopped = true;
    }

    @Override
    public Map<String, Long> stats() {
        Map<String, Long> m = new LinkedHashMap<>();
        PacketPipeline p = pipeline;
        if (p != null) {
            m.putAll(p.stats());
        }
        CaptureFileReader f = file;
        if (f != null) {
            m.put("file_corrupt", f.corrupt());
            m.put("file_truncated", f.truncatedTail());
            m.put("file_unknown_interface", f.unknownInterface());
        }
        LiveCapture l = live;
        if (l != null) {
            m.put("kernel_received", l.received());
            m.put("kernel_dropped", l.dropped());
            m.put("if_dropped", l.ifDropped());
        }
        return m;
    }
}
