package org.glouglou.module.network.flow;

import static org.glouglou.module.network.NetworkEvents.*;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.function.IntSupplier;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.glouglou.module.network.FlowKey;
import org.glouglou.spi.EventSink;

/**
 * Flows keyed by the outer 5-tuple, direction-independent (the source is the side of the first packet), driven by
 * packet time so that offline replay is deterministic. Emits NEWCONN on a flow's first packet, DATA once per tick per
 * flow with traffic (per-direction totals since NEWCONN, spec 4.1), and DELCONN with the final totals on TCP close,
 * idle timeout, eviction, end of input or shutdown. Connection ids count from 1 and are never reused by a table, so
 * they are unique within the probe's boot (one table per capture source). Bounded: beyond
 * {@link FlowConfig#maxFlows()} the least recently active flow is evicted.
 */
public final class FlowTable {
    private static final int TCP = 6;
    private static final int UDP = 17;
    private static final int L_TCP = 0;
    private static final int L_UDP = 1;
    private static final int L_OTHER = 2;
    private static final int L_CLOSING = 3;

    /** A flow's canonical 5-tuple: endpoint A sorts before B, so both directions find the same key. */
    static class Key {
        long aHi;
        long aLo;
        long bHi;
        long bLo;
        int ports;
        int proto;
        int hash;

        Key() {
        }

        Key(Key k) {
            aHi = k.aHi;
            aLo = k.aLo;
            bHi = k.bHi;
            bLo = k.bLo;
            ports = k.ports;
            proto = k.proto;
            hash = k.hash;
        }

        /** Sets the key; returns true when the packet's source is endpoint A. */
        boolean set(boolean v6, long sHi, long sLo, int sp, long dHi, long dLo, int dp, int pr) {
            int c = Long.compareUnsigned(sHi, dHi);
            if (c == 0) {
                c = Long.compareUnsigned(sLo, dLo);
            }
            if (c == 0) {
                c = Integer.compare(sp, dp);
            }
            boolean srcA = c <= 0;
            if (srcA) {
                aHi = sHi;
                aLo = sLo;
                bHi = dHi;
                bLo = dLo;
                ports = sp << 16 | dp;
            } else {
                aHi = dHi;
                aLo = dLo;
                bHi = sHi;
                bLo = sLo;
                ports = dp << 16 | sp;
            }
            proto = v6 ? pr | 0x100 : pr;
            long h = aHi * 0x9E3779B97F4A7C15L ^ aLo;
            h = h * 0x9E3779B97F4A7C15L ^ bHi;
            h = h * 0x9E3779B97F4A7C15L ^ bLo;
            h = h * 0x9E3779B97F4A7C15L ^ ((long) ports << 9 | proto);
            h *= 0x9E3779B97F4A7C15L;
            hash = (int) (h ^ (h >>> 32));
            return srcA;
        }

        @Override
        public final int hashCode() {
            return hash;
        }

        @Override
        public final boolean equals(Object o) {
            return o instanceof Key k && k.aLo == aLo && k.bLo == bLo && k.ports == ports && k.proto == proto
                    && k.aHi == aHi && k.bHi == bHi;
        }
    }

    private final FlowConfig cfg;
    private final EventSink sink;
    private final HashMap<Key, Flow> flows;
    private final Key probe = new Key();
    private final Flow[] heads = new Flow[4];
    private final Flow[] tails = new Flow[4];
    private final long[] idle;
    private final ArrayList<Flow> dirty = new ArrayList<>();
    private final ArrayList<Flow> closing = new ArrayList<>();
    /** Direction of the last packet given to {@link #packet}: true when it went from the flow's src. */
    public boolean lastFromSrc;
    private long nextTick = Long.MIN_VALUE;
    private long nextConn = 1;
    /** 3: at most every 8th tick (800 ms by default), still a live picture. */
    static final int MAX_BACKLOG_LEVEL = 3;
    private final IntSupplier backlog;
    private long ticks;
    private long coalescedTicks;

    private long created;
    private long evicted;
    private long endedFin;
    private long endedRst;
    private long endedIdle;
    private long endedEnd;
    private long endedShutdown;

    public FlowTable(FlowConfig cfg, EventSink sink) {
        this(cfg, sink, () -> 0);
    }

    /**
     * @param backlog how far the sender is behind (ProbeSource.Context.backlog()); read once per tick
     */
    public FlowTable(FlowConfig cfg, EventSink sink, IntSupplier backlog) {
        this.backlog = backlog;
        this.cfg = cfg;
        this.sink = sink;
        this.flows = new HashMap<>(Math.min(cfg.maxFlows(), 1 << 16) * 4 / 3 + 1);
        this.idle = new long[]{cfg.idleTcp(), cfg.idleUdp(), cfg.idleOther(), cfg.idleTcpClosing()};
    }

    /** Counts one packet and returns its flow; {@link #lastFromSrc} tells the packet's direction in it. */
    public Flow packet(long ts, boolean v6, long sHi, long sLo, int sp, long dHi, long dLo, int dp, int proto,
            int ipLen, int tcpFlags) {
        advance(ts);
        boolean fromA = probe.set(v6, sHi, sLo, sp, dHi, dLo, dp, proto);
        Flow f = flows.get(probe);
        if (f == null) {
            if (flows.size() >= cfg.maxFlows()) {
                evictOne(ts);
            }
            FlowKey fk = new FlowKey(proto, address(v6, sHi, sLo), sp, address(v6, dHi, dLo), dp);
            f = new Flow(probe, nextConn++, fk, fromA);
            flows.put(f, f);
            created++;
            f.list = proto == TCP ? L_TCP : proto == UDP ? L_UDP : L_OTHER;
            append(f);
            sink.emit(ts, new NewConn(f.conn, fk));
        } else {
            unlink(f);
            append(f);
        }
        boolean fromSrc = fromA == f.srcIsA;
        lastFromSrc = fromSrc;
        if (fromSrc) {
            f.srcPkts++;
            f.srcBytes += ipLen;
        } else {
            f.dstPkts++;
            f.dstBytes += ipLen;
        }
        f.last = ts;
        if (!f.dirty) {
            f.dirty = true;
            dirty.add(f);
        }
        if (proto == TCP && tcpFlags != 0) {
            tcp(f, fromSrc, tcpFlags);
        }
        return f;
    }

    private void tcp(Flow f, boolean fromSrc, int flags) {
        if (f.closing != null) {
            return;
        }
        if ((flags & 0x04) != 0) {
            close(f, Reason.RST);
            return;
        }
        if ((flags & 0x01) != 0) {
            f.fins |= fromSrc ? 1 : 2;
            if (f.list != L_CLOSING) {
                unlink(f);
                f.list = L_CLOSING;
                append(f);
            }
        } else if (f.fins == 3 && (flags & 0x10) != 0) {
            close(f, Reason.FIN); // the ACK of the second FIN
        }
    }

    private void close(Flow f, Reason r) {
        f.closing = r;
        closing.add(f);
    }

    /** Moves packet time to {@code now}: runs the tick that ended, if any. */
    public void advance(long now) {
        if (now < nextTick) {
            return;
        }
        long t = cfg.tickMicros();
        if (nextTick == Long.MIN_VALUE) {
            nextTick = Math.floorDiv(now, t) * t + t;
            return;
        }
        // one tick for a gap of many: nothing happened in the empty ticks between
        long boundary = now - Math.floorMod(now - nextTick, t);
        tick(boundary);
        nextTick = boundary + t;
    }

    private void tick(long at) {
        endClosing(at);
        // when the sender falls behind, report traffic every 2^backlog ticks: DATA carries totals, so the skipped
        // ticks' traffic is in the next one and nothing is lost, there are just fewer DATA events
        int level = Math.min(MAX_BACKLOG_LEVEL, Math.max(0, backlog.getAsInt()));
        if ((ticks++ & ((1L << level) - 1)) == 0) {
            for (Flow f : dirty) {
                f.dirty = false;
                if (!f.removed) {
                    data(f, at);
                }
            }
            dirty.clear();
        } else {
            coalescedTicks++;
        }
        endIdle(at);
    }

    /** Ends the flows whose TCP close (FIN, RST) was seen, before their DATA: DELCONN's totals carry the tick. */
    private void endClosing(long at) {
        if (!closing.isEmpty()) {
            for (Flow f : closing) {
                if (!f.removed) {
                    end(f, f.closing, at);
                }
            }
            closing.clear();
        }
    }

    private void endIdle(long at) {
        for (int l = 0; l < 4; l++) {
            long lim = at - idle[l];
            Flow f;
            while ((f = heads[l]) != null && f.last <= lim) {
                end(f, Reason.IDLE, at);
            }
        }
    }

    private void data(Flow f, long at) {
        // cumulative totals since NEWCONN (spec 4.1): a DATA lost, repeated or overtaken changes no total at the
        // receiver, which adds only the growth over the largest counts it has seen
        sink.emit(at, new Data(f.conn, f.srcPkts, f.srcBytes, f.dstPkts, f.dstBytes, f.flowKey));
    }

    private void end(Flow f, Reason r, long at) {
        // no last DATA: DELCONN carries the totals, and a receiver adds what DATA did not (spec 4.1); this saves
        // a DATA on every flow that lived longer than a tick (about 8 bytes a flow, spec 9)
        sink.emit(at, new DelConn(f.conn, r, f.srcPkts, f.srcBytes, f.dstPkts, f.dstBytes, f.flowKey));
        unlink(f);
        flows.remove(f);
        f.removed = true;
        switch (r) {
            case FIN -> endedFin++;
            case RST -> endedRst++;
            case IDLE -> endedIdle++;
            case EVICTED -> evicted++;
            case SHUTDOWN -> endedShutdown++;
            default -> endedEnd++;
        }
    }

    private void evictOne(long ts) {
        Flow oldest = null;
        for (Flow h : heads) {
            if (h != null && (oldest == null || h.last < oldest.last)) {
                oldest = h;
            }
        }
        if (oldest != null) {
            end(oldest, Reason.EVICTED, ts);
        }
    }

    /** End of input: ends every open flow (END, or FIN/RST for those already closing). */
    public void finish(long now) {
        finish(now, Reason.END);
    }

    /**
     * Ends every open flow at the end of the current tick: those already closing with their FIN or RST, those idle
     * past their timeout with IDLE, the others with {@code reason} (END at the end of a capture file, SHUTDOWN when the
     * probe stops). No DATA in this last tick: every flow gets a DELCONN, whose totals carry it.
     */
    public void finish(long now, Reason reason) {
        long at = nextTick == Long.MIN_VALUE ? now : Math.max(now, nextTick);
        endClosing(at);
        endIdle(at);
        for (int l = 0; l < 4; l++) {
            Flow f;
            while ((f = heads[l]) != null) {
                end(f, reason, at);
            }
        }
        for (Flow f : dirty) {
            f.dirty = false;
        }
        dirty.clear();
    }

    private void append(Flow f) {
        int l = f.list;
        f.next = null;
        f.prev = tails[l];
        if (tails[l] == null) {
            heads[l] = f;
        } else {
            tails[l].next = f;
        }
        tails[l] = f;
    }

    private void unlink(Flow f) {
        int l = f.list;
        if (f.prev == null) {
            heads[l] = f.next;
        } else {
            f.prev.next = f.next;
        }
        if (f.next == null) {
            tails[l] = f.prev;
        } else {
            f.next.prev = f.prev;
        }
        f.prev = null;
        f.next = null;
    }

    /** Builds the address of a decoded packet; IPv4 addresses are in the low 32 bits of {@code lo}. */
    public static InetAddress address(boolean v6, long hi, long lo) {
        byte[] a;
        if (v6) {
            a = new byte[16];
            for (int i = 0; i < 8; i++) {
                a[i] = (byte) (hi >>> (56 - 8 * i));
                a[8 + i] = (byte) (lo >>> (56 - 8 * i));
            }
        } else {
            a = new byte[]{(byte) (lo >>> 24), (byte) (lo >>> 16), (byte) (lo >>> 8), (byte) lo};
        }
        try {
            return InetAddress.getByAddress(a);
        } catch (UnknownHostException e) {
            throw new AssertionError(e); // 4 or 16 bytes
        }
    }

    public int size() {
        return flows.size();
    }

    public Map<String, Long> stats() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("flows_active", (long) flows.size());
        m.put("flows_created", created);
        m.put("flows_evicted", evicted);
        m.put("flows_ended_fin", endedFin);
        m.put("flows_ended_rst", endedRst);
        m.put("flows_ended_idle", endedIdle);
        m.put("flows_ended_end", endedEnd);
        m.put("flows_ended_shutdown", endedShutdown);
        m.put("ticks_coalesced", coalescedTicks);
        return m;
    }
}
