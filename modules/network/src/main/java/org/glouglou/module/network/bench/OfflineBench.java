package org.glouglou.module.network.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.glouglou.module.network.capture.CaptureFileReader;
import org.glouglou.module.network.capture.PacketPipeline;
import org.glouglou.module.network.flow.FlowConfig;
import org.glouglou.module.network.dns.NameCache;
import org.glouglou.spi.EventSink;

/**
 * Offline throughput: reads each capture again and again in-process (file read, decode, flow table, DNS, hop
 * estimate; events to a counting sink) for a fixed time after a warm-up, and prints packets/s and flows/s per file.
 * Usage: {@code OfflineBench FILE... [--seconds N] [--warmup N]}.
 */
public final class OfflineBench {
    /** 10 s: long enough for a stable figure on a shared 2-core machine, short enough to run often. */
    static final int DEFAULT_SECONDS = 10;
    /** 3 s: C2 has compiled the hot loop by then on these files. */
    static final int DEFAULT_WARMUP = 3;

    private OfflineBench() {
    }

    static final class CountingSink implements EventSink {
        long events;

        @Override
        public void emit(long timeMicros, org.glouglou.spi.Event event) {
            events++;
        }
    }

    public static void main(String[] args) throws Exception {
        int seconds = DEFAULT_SECONDS;
        int warmup = DEFAULT_WARMUP;
        List<Path> files = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--seconds" -> seconds = Integer.parseInt(args[++i]);
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                default -> files.add(Path.of(args[i]));
            }
        }
        if (files.isEmpty()) {
            System.err.println("usage: OfflineBench FILE... [--seconds N] [--warmup N]");
            System.exit(2);
        }
        for (Path f : files) {
            loop(f, warmup * 1_000_000_000L);
            long cpu0 = processCpuNanos();
            long[] r = loop(f, seconds * 1_000_000_000L);
            double cpu = (processCpuNanos() - cpu0) / 1e9;
            double s = r[3] / 1e9;
            // per CPU-second too: on a shared machine the wall clock also counts other people's work
            System.out.printf("%s: %d passes, %.0f pkt/s, %.0f flows/s, %.0f events/s (wall); %.0f pkt/s, %.0f"
                    + " flows/s per process CPU-second (%.1f CPU-s in %.1f s)%n", f.getFileName(), r[0], r[1] / s,
                    r[2] / s, r[4] / s, r[1] / cpu, r[2] / cpu, cpu, s);
        }
    }

    /** CPU time of the whole process (GC and JIT threads included), or 0 where the JVM cannot tell. */
    static long processCpuNanos() {
        if (java.lang.management.ManagementFactory
                .getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime();
        }
        return 0;
    }

    /** Returns passes, packets, flows, elapsed nanoseconds, events. */
    static long[] loop(Path f, long nanos) throws Exception {
        long start = System.nanoTime();
        long passes = 0;
        long pkts = 0;
        long flows = 0;
        CountingSink sink = new CountingSink();
        long now;
        do {
            PacketPipeline p = new PacketPipeline(FlowConfig.defaults(), NameCache.DEFAULT_MAX, List.of(), sink);
            try (CaptureFileReader r = CaptureFileReader.open(f)) {
                r.read(p);
            }
            p.finish();
            passes++;
            pkts += p.packets();
            flows += p.flows().stats().get("flows_created");
            now = System.nanoTime();
        } while (now - start < nanos);
        return new long[]{passes, pkts, flows, now - start, sink.events};
    }
}
