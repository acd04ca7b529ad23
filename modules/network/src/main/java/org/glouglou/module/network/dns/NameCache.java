package org.glouglou.module.network.dns;

import java.net.InetAddress;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Remembers which (address, name) pairs were reported and until when their TTL holds, so the same NAME is not repeated
 * for every response. Bounded, least recently used first out; evictions are counted.
 */
public final class NameCache {
    /** 65536: names in use by a busy host's resolver over a TTL; a few MB. */
    public static final int DEFAULT_MAX = 65536;
    private record Key(InetAddress addr, String name) {
    }

    private final int max;
    private long evicted;
    private long suppressed;
    private final LinkedHashMap<Key, Long> until;

    public NameCache(int max) {
        this.max = max;
        this.until = new LinkedHashMap<>(256, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Key, Long> e) {
                if (size() > NameCache.this.max) {
                    evicted++;
                    return true;
                }
                return false;
            }
        };
    }

    /** True when this pair should be reported now; records it until {@code now + ttl}. */
    public boolean offer(long nowMicros, InetAddress addr, String name, long ttlSeconds) {
        Key k = new Key(addr, name.toLowerCase(Locale.ROOT));
        Long u = until.get(k);
        if (u != null && nowMicros < u) {
            suppressed++;
            return false;
        }
        until.put(k, nowMicros + ttlSeconds * 1_000_000L);
        return true;
    }

    public long evicted() {
        return evicted;
    }

    public long suppressed() {
        return suppressed;
    }

    public int size() {
        return until.size();
    }
}
