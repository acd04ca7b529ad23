package org.glouglou.module.network.capture;

import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.glouglou.spi.ConfigException;
import org.pcap4j.core.BpfProgram.BpfCompileMode;
import org.pcap4j.core.NotOpenException;
import org.pcap4j.core.PcapHandle;
import org.pcap4j.core.PcapNativeException;
import org.pcap4j.core.PcapNetworkInterface;
import org.pcap4j.core.PcapNetworkInterface.PromiscuousMode;
import org.pcap4j.core.PcapStat;
import org.pcap4j.core.Pcaps;

/**
 * A live capture handle through pcap4j, used for raw bytes only: pcap4j's packet parsing is bypassed (the JNA call per
 * packet is already the ceiling) and the bytes go to the same decoder as files. Kernel drop counters are sampled on
 * the capture thread, so stats() never calls into libpcap concurrently.
 */
final class LiveCapture implements AutoCloseable {
    /**
     * 50 ms: half the default tick; with TPACKET_V3 the kernel hands over a partly filled block after this long.
     * It does not bound a blocking read on a quiet link (the timer starts with the first packet), hence non-blocking
     * reads and {@link #IDLE_PARK_NANOS}.
     */
    static final int READ_TIMEOUT_MILLIS = 50;
    /** 5 ms: pause when the ring is empty; 200 wake-ups a second on a quiet link, and stop() answers at once. */
    static final long IDLE_PARK_NANOS = 5_000_000L;
    /** 16 MiB: kernel ring for bursts while the JVM pauses (libpcap's default 2 MiB drops under GC pauses). */
    static final int BUFFER_BYTES = 16 << 20;
    /** 1 s: how often the kernel drop counters are read. */
    static final long STATS_EVERY_MICROS = 1_000_000L;

    private final PcapHandle handle;
    private final int linkType;
    private volatile long received;
    private volatile long dropped;
    private volatile long ifDropped;

    private LiveCapture(PcapHandle handle) {
        this.handle = handle;
        Integer v = handle.getDlt().value();
        this.linkType = v == null ? -1 : v;
    }

    static LiveCapture open(String iface, int snaplen, boolean promisc, String filter)
            throws ConfigException {
        PcapNetworkInterface nif;
        try {
            nif = Pcaps.getDevByName(iface);
        } catch (PcapNativeException | UnsatisfiedLinkError | NoClassDefFoundError e) {
            throw new ConfigException("cannot list capture interfaces (is libpcap installed? "
                    + "apt-get install libpcap0.8): " + e.getMessage(), e);
        }
        if (nif == null) {
            throw new ConfigException(
                    "no capture interface named " + iface + "; available: " + String.join(", ", interfaces()));
        }
        PcapHandle h;
        try {
            h = new PcapHandle.Builder(iface).snaplen(snaplen)
                    .promiscuousMode(promisc ? PromiscuousMode.PROMISCUOUS : PromiscuousMode.NONPROMISCUOUS)
                    .timeoutMillis(READ_TIMEOUT_MILLIS).bufferSize(BUFFER_BYTES).build();
        } catch (PcapNativeException e) {
            String msg = String.valueOf(e.getMessage());
            String low = msg.toLowerCase(Locale.ROOT);
            if (low.contains("permission") || low.contains("not permitted")) {
                throw new ConfigException("cannot capture on " + iface + ": " + msg
                        + "; run the probe as root or give it CAP_NET_RAW (setcap cap_net_raw,cap_net_admin+eip)",
                        e);
            }
            throw new ConfigException("cannot capture on " + iface + ": " + msg, e);
        }
        if (filter != null && !filter.isBlank()) {
            try {
                h.setFilter(filter, BpfCompileMode.OPTIMIZE);
            } catch (PcapNativeException | NotOpenException e) {
                h.close();
                throw new ConfigException("bad capture filter \"" + filter + "\": " + e.getMessage(),
                        e);
            }
        }
        try {
            h.setBlockingMode(PcapHandle.BlockingMode.NONBLOCKING);
        } catch (PcapNativeException | NotOpenException e) {
            h.close();
            throw new ConfigException("cannot capture on " + iface + ": " + e.getMessage(), e);
        }
        return new LiveCapture(h);
    }

    static List<String> interfaces() {
        List<String> names = new ArrayList<>();
        try {
            for (PcapNetworkInterface n : Pcaps.findAllDevs()) {
                names.add(n.getName());
            }
        } catch (PcapNativeException e) {
            names.add("(none listed: " + e.getMessage() + ")");
        }
        return names;
    }

    void run(PacketPipeline p, BooleanSupplier stopped) throws NotOpenException {
        long nextStats = 0;
        while (!stopped.getAsBoolean()) {
            byte[] pkt = handle.getNextRawPacket();
            long ts;
            if (pkt == null) {
                ts = System.currentTimeMillis() * 1000; // quiet link: packet time follows the wall clock
                p.advance(ts);
                LockSupport.parkNanos(IDLE_PARK_NANOS);
            } else {
                Timestamp t = handle.getTimestamp();
                ts = Math.floorDiv(t.getTime(), 1000) * 1_000_000L + t.getNanos() / 1000;
                Integer orig = handle.getOriginalLength();
                p.packet(ts, linkType, pkt, 0, pkt.length, orig == null ? pkt.length : orig);
            }
            if (ts >= nextStats) {
                sampleStats();
                nextStats = ts + STATS_EVERY_MICROS;
            }
        }
        sampleStats();
    }

    private void sampleStats() {
        try {
            PcapStat s = handle.getStats();
            received = s.getNumPacketsReceived();
            dropped = s.getNumPacketsDropped();
            ifDropped = s.getNumPacketsDroppedByIf();
        } catch (PcapNativeException | NotOpenException e) {
            // counters stay at their last value; capture goes on
        }
    }

    long received() {
        return received;
    }

    long dropped() {
        return dropped;
    }

    long ifDropped() {
        return ifDropped;
    }

    @Override
    public void close() {
        handle.close();
    }
}
