package org.glouglou.module.network.capture;

import java.nio.file.Path;
import org.glouglou.module.network.dns.NameCache;
import org.glouglou.module.network.flow.FlowConfig;
import picocli.CommandLine.Option;

/**
 * The network module's probe options, added to the probe's command line as a picocli mixin. Names avoid the probe's
 * generic options ({@code --server}, {@code --tick}, {@code --print}, ...).
 */
public final class NetworkOptions {
    /** 262144: tcpdump's default snap length; whole packets even with segmentation offloads (64 KiB+ segments). */
    static final int DEFAULT_SNAPLEN = 262144;

    @Option(names = {"-i", "--interface"}, paramLabel = "NAME", description = "Capture live on this interface.")
    public String iface;

    @Option(names = {"-r", "--read"}, paramLabel = "FILE", description = "Read a pcap or pcapng file.")
    public Path read;

    @Option(names = {"-f", "--filter"}, paramLabel = "BPF", description = "Capture filter, tcpdump syntax.")
    public String filter;

    @Option(names = "--realtime", description = "Replay a file at the speed it was captured.")
    public boolean realtime;

    @Option(names = "--snaplen", paramLabel = "N", description = "Bytes kept per packet (default: ${DEFAULT-VALUE}).")
    public int snaplen = DEFAULT_SNAPLEN;

    @Option(names = "--promisc", description = "Put the interface in promiscuous mode.")
    public boolean promisc;

    @Option(names = "--max-flows", paramLabel = "N", description = "Flows tracked at once; the least recently active"
            + " is evicted beyond (default: ${DEFAULT-VALUE}).")
    public int maxFlows = FlowConfig.DEFAULT_MAX_FLOWS;

    @Option(names = "--idle-tcp", paramLabel = "SECONDS", description = "TCP idle timeout (default: ${DEFAULT-VALUE}).")
    public long idleTcp = FlowConfig.DEFAULT_IDLE_TCP / 1_000_000;

    @Option(names = "--idle-udp", paramLabel = "SECONDS", description = "UDP idle timeout (default: ${DEFAULT-VALUE}).")
    public long idleUdp = FlowConfig.DEFAULT_IDLE_UDP / 1_000_000;

    @Option(names = "--idle-other", paramLabel = "SECONDS", description = "Idle timeout of other protocols (default: ${DEFAULT-VALUE}).")
    public long idleOther = FlowConfig.DEFAULT_IDLE_OTHER / 1_000_000;

    @Option(names = "--max-names", paramLabel = "N", description = "DNS names remembered to avoid repeats (default: ${DEFAULT-VALUE}).")
    public int maxNames = NameCache.DEFAULT_MAX;
}
