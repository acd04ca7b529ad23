package org.glouglou.module.network.trace;

import java.net.InetAddress;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.glouglou.module.network.NetworkEvents.Trace;
import org.glouglou.module.network.NetworkEvents.TraceMethod;

/**
 * Estimates how many hops away an address is from the TTL (hop limit) of the packets it sends: senders start at 32,
 * 64, 128 or 255, so the initial value is guessed as the nearest of those at or above the observed one. Reports an
 * address once and again when its estimate changes; bounded, least recently seen first out.
 */
public final class HopEstimator {
    /** 65536: the distinct peers of a busy host over its flows' lifetimes. */
    public static final int DEFAULT_MAX = 65536;

    private final int max;
    private long evicted;
    private final LinkedHashMap<InetAddress, Integer> hops;

    public HopEstimator(int max) {
        this.max = max;
        this.hops = new LinkedHashMap<>(256, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<InetAddress, Integer> e) {
                if (size() > HopEstimator.this.max) {
                    evicted++;
                    return true;
                }
                return false;
            }
        };
    }

    /** Hops for an observed TTL. */
    public static int hops(int ttl) {
        int initial = ttl <= 32 ? 32 : ttl <= 64 ? 64 : ttl <= 128 ? 128 : 255;
        return initial - ttl;
    }

    /** A TRACE to report when this is new or changed for {@code addr}, else null. */
    public Trace observe(InetAddress addr, int ttl) {
        int h = hops(ttl);
        Integer old = hops.put(addr, h);
        if (old != null && old == h) {
            return null;
        }
        return new Trace(addr, h, TraceMethod.TTL_ESTIMATE, List.of());
    }

    public long evicted() {
        return evicted;
    }

    public int size() {
        return hops.size();
    }
}
