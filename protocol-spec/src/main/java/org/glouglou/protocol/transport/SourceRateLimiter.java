package org.glouglou.protocol.transport;

import java.net.InetAddress;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A token bucket per source address (one noisy or hostile source cannot starve the others). Checked before
 * any crypto, so a flood costs one map lookup per datagram. The table is bounded: past {@code maxSources} the least
 * recently seen source is forgotten (it starts again with a full bucket, which bounds what a spoofer gains to one
 * burst per eviction). Keyed by address only: a source cannot escape its bucket by changing ports. Not thread-safe:
 * ingest thread only.
 */
public final class SourceRateLimiter {
    private static final class Bucket {
        double tokens;
        long lastNanos;
    }

    private final double perSecond;
    private final double burst;
    private final int maxSources;
    private final LinkedHashMap<InetAddress, Bucket> buckets;
    private long evicted;

    /**
     * @param perSecond  datagrams per second a source may send on average
     * @param burst      datagrams a source may send at once after a quiet time
     * @param maxSources sources remembered
     */
    public SourceRateLimiter(double perSecond, double burst, int maxSources) {
        if (perSecond <= 0 || burst < 1 || maxSources < 1) {
            throw new IllegalArgumentException("rate " + perSecond + ", burst " + burst + ", sources " + maxSources);
        }
        this.perSecond = perSecond;
        this.burst = burst;
        this.maxSources = maxSources;
        this.buckets = new LinkedHashMap<>(1024, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<InetAddress, Bucket> eldest) {
                if (size() > SourceRateLimiter.this.maxSources) {
                    evicted++;
                    return true;
                }
                return false;
            }
        };
    }

    /** Takes one token for {@code source}; false when its bucket is empty (drop the datagram). */
    public boolean tryAcquire(InetAddress source, long nowNanos) {
        Bucket b = buckets.get(source);
        if (b == null) {
            b = new Bucket();
            b.tokens = burst;
            b.lastNanos = nowNanos;
            buckets.put(source, b);
        } else {
            long dt = nowNanos - b.lastNanos;
            if (dt > 0) {
                b.tokens = Math.min(burst, b.tokens + dt * perSecond / 1e9);
                b.lastNanos = nowNanos;
            }
        }
        if (b.tokens >= 1) {
            b.tokens -= 1;
            return true;
        }
        return false;
    }

    public int size() {
        return buckets.size();
    }

    /** Sources forgotten because the table was full. */
    public long evicted() {
        return evicted;
    }
}
