package org.glouglou.module.network.flow;

/**
 * Limits and timeouts of a {@link FlowTable}. Times are in microseconds of packet time.
 *
 * @param maxFlows        flows tracked at once; the least recently active is evicted beyond
 * @param tickMicros      DATA aggregation interval
 * @param idleTcp         an established TCP flow with no packet for this long ends
 * @param idleUdp         same for UDP
 * @param idleOther       same for other protocols (ICMP, ...)
 * @param idleTcpClosing  same for a TCP flow that has seen a FIN but not the end of the close
 */
public record FlowConfig(int maxFlows, long tickMicros, long idleTcp, long idleUdp, long idleOther,
        long idleTcpClosing) {
    /** 65536: a busy server's concurrent flows, at about 200 bytes each some 13 MB. */
    public static final int DEFAULT_MAX_FLOWS = 65536;
    /** 100 ms: the probe's default tick, fine enough for a live graph, coarse enough to coalesce bursts. */
    public static final long DEFAULT_TICK = 100_000L;
    /** 300 s: longer than most keep-alive intervals, shorter than the 2 h kernel default nobody waits for. */
    public static final long DEFAULT_IDLE_TCP = 300_000_000L;
    /** 60 s: UDP has no close; a minute covers DNS, QUIC idle timeouts and RTP gaps. */
    public static final long DEFAULT_IDLE_UDP = 60_000_000L;
    /** 30 s: ICMP echo trains and other protocols are short exchanges. */
    public static final long DEFAULT_IDLE_OTHER = 30_000_000L;
    /** 60 s: Linux's tcp_fin_timeout; a closing flow whose last ACK we missed should not linger for minutes. */
    public static final long DEFAULT_IDLE_TCP_CLOSING = 60_000_000L;

    public FlowConfig {
        if (maxFlows < 1) {
            throw new IllegalArgumentException("max flows must be at least 1, not " + maxFlows);
        }
        if (tickMicros < 1) {
            throw new IllegalArgumentException("tick must be positive, not " + tickMicros + " us");
        }
    }

    public static FlowConfig defaults() {
        return new FlowConfig(DEFAULT_MAX_FLOWS, DEFAULT_TICK, DEFAULT_IDLE_TCP, DEFAULT_IDLE_UDP, DEFAULT_IDLE_OTHER,
                DEFAULT_IDLE_TCP_CLOSING);
    }

    public FlowConfig withTick(long micros) {
        return new FlowConfig(maxFlows, micros, idleTcp, idleUdp, idleOther, idleTcpClosing);
    }

    public FlowConfig withMaxFlows(int n) {
        return new FlowConfig(n, tickMicros, idleTcp, idleUdp, idleOther, idleTcpClosing);
    }

    public FlowConfig withIdle(long tcp, long udp, long other) {
        return new FlowConfig(maxFlows, tickMicros, tcp, udp, other, Math.min(idleTcpClosing, tcp));
    }
}
