package org.glouglou.module.network.capture;

import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.function.IntSupplier;
import java.util.Map;
import org.glouglou.module.network.NetworkEvents.Name;
import org.glouglou.module.network.NetworkEvents.Reason;
import org.glouglou.module.network.NetworkEvents.Trace;
import org.glouglou.module.network.dns.DnsResponseParser;
import org.glouglou.module.network.dns.NameCache;
import org.glouglou.module.network.flow.Flow;
import org.glouglou.module.network.flow.FlowConfig;
import org.glouglou.module.network.flow.FlowTable;
import org.glouglou.module.network.trace.HopEstimator;
import org.glouglou.spi.EventSink;

/**
 * What every captured packet goes through, file or live: decode, drop the probe's own export traffic, count in the flow
 * table, read DNS answers, estimate hop distance. Single-threaded: one pipeline per capture thread.
 */
public final class PacketPipeline implements PacketHandler {
    private final PacketDecoder dec = new PacketDecoder();
    private final FlowTable flows;
    private final DnsResponseParser dns = new DnsResponseParser();
    private final NameCache names;
    private final HopEstimator hops;
    private final EventSink sink;
    // export endpoints, UDP only: v6 flag, address halves, port
    private final boolean[] exV6;
    private final long[] exHi;
    private final long[] exLo;
    private final int[] exPort;
    private long packets;
    private long lastTs = Long.MIN_VALUE;

    public PacketPipeline(FlowConfig cfg, int maxNames, List<InetSocketAddress> exportDestinations, EventSink sink) {
        this(cfg, maxNames, exportDestinations, sink, () -> 0);
    }

    /** @param backlog how far the sender is behind; the flow table coalesces DATA when it is not 0 */
    public PacketPipeline(FlowConfig cfg, int maxNames, List<InetSocketAddress> exportDestinations, EventSink sink,
            IntSupplier backlog) {
        this.sink = sink;
        this.flows = new FlowTable(cfg, sink, backlog);
        this.names = new NameCache(maxNames);
        this.hops = new HopEstimator(HopEstimator.DEFAULT_MAX);
        int n = exportDestinations.size();
        exV6 = new boolean[n];
        exHi = new long[n];
        exLo = new long[n];
        exPort = new int[n];
        for (int i = 0; i < n; i++) {
            InetSocketAddress a = exportDestinations.get(i);
            exPort[i] = a.getPort();
            if (a.getAddress() == null) {
                exPort[i] = -1; // unresolved: can never match a packet
                continue;
            }
            byte[] b = a.getAddress().getAddress();
            exV6[i] = !(a.getAddress() instanceof Inet4Address);
            if (exV6[i]) {
                exHi[i] = PacketDecoder.u64(b, 0);
                exLo[i] = PacketDecoder.u64(b, 8);
            } else {
                exLo[i] = PacketDecoder.u32(b, 0);
            }
        }
    }

    @Override
    public void packet(long ts, int linkType, byte[] data, int off, int capLen, int wireLen) {
        packets++;
        lastTs = ts;
        PacketDecoder d = dec;
        if (!d.decode(ts, linkType, data, off, capLen)) {
            flows.advance(ts);
            return;
        }
        if (d.proto == PacketDecoder.UDP && exPort.length > 0 && (export(d.v6, d.dstHi, d.dstLo, d.dport)
                || export(d.v6, d.srcHi, d.srcLo, d.sport))) {
            d.count(DropReason.EXPORT_TRAFFIC);
            flows.advance(ts);
            return;
        }
        Flow f = flows.packet(ts, d.v6, d.srcHi, d.srcLo, d.sport, d.dstHi, d.dstLo, d.dport, d.proto, d.ipLen,
                d.tcpFlags);
        boolean fromSrc = flows.lastFromSrc;
        if (fromSrc ? f.srcTtl != d.ttl : f.dstTtl != d.ttl) {
            if (fromSrc) {
                f.srcTtl = d.ttl;
            } else {
                f.dstTtl = d.ttl;
            }
            // the sender's address object already exists in the flow's key
            Trace t = hops.observe(fromSrc ? f.flowKey().src() : f.flowKey().dst(), d.ttl);
            if (t != null) {
                sink.emit(ts, t);
            }
        }
        if (d.payloadLen > 0 && d.l4proto == PacketDecoder.UDP) {
            dns(ts, data, d);
        }
    }

    private void dns(long ts, byte[] data, PacketDecoder d) {
        int s = d.sport;
        int p = d.dport;
        if (d.v6 && d.proto != PacketDecoder.UDP) {
            // behind extension headers: ports are not in the flow key, read them back from the UDP header
            s = PacketDecoder.u16(data, d.payloadOff - 8);
            p = PacketDecoder.u16(data, d.payloadOff - 6);
        }
        boolean mdns = s == 5353 || p == 5353;
        if (!mdns && s != 53 && p != 53) {
            return;
        }
        for (Name n : dns.parse(data, d.payloadOff, d.payloadLen, mdns)) {
            if (names.offer(ts, n.addr(), n.name(), n.ttlSeconds())) {
                sink.emit(ts, n);
            }
        }
    }

    private boolean export(boolean v6, long hi, long lo, int port) {
        for (int i = 0; i < exPort.length; i++) {
            if (exPort[i] == port && exLo[i] == lo && exHi[i] == hi && exV6[i] == v6) {
                return true;
            }
        }
        return false;
    }

    /** Moves packet time without a packet (live capture with no traffic): ticks and timeouts still run. */
    public void advance(long ts) {
        flows.advance(ts);
    }

    /** End of input: every open flow ends (DELCONN reason end). */
    public void finish() {
        finish(Reason.END);
    }

    /** Every open flow ends now: {@code reason} end at the end of a file, shutdown when the probe stops. */
    public void finish(Reason reason) {
        flows.finish(lastTs == Long.MIN_VALUE ? 0 : lastTs, reason);
    }

    public long packets() {
        return packets;
    }

    public FlowTable flows() {
        return flows;
    }

    /** Counters by stable name; read from another thread they may lag by a few packets. */
    public Map<String, Long> stats() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("packets_captured", packets);
        m.putAll(flows.stats());
        for (DropReason r : DropReason.values()) {
            m.put(r.label, dec.drops(r));
        }
        m.put("fragments_in_flight", (long) dec.fragments().inFlight());
        m.put("fragments_forgotten", dec.fragments().forgotten());
        m.put("dns_responses", dns.responses());
        m.put("malformed_dns", dns.malformed());
        m.put("names_suppressed", names.suppressed());
        m.put("names_evicted", names.evicted());
        m.put("traces_evicted", hops.evicted());
        return m;
    }
}
