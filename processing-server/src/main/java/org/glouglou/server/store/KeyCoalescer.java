package org.glouglou.server.store;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.glouglou.spi.server.StateWriter;

/**
 * The server's copy of every live Redis key and the coalescing of writes per key per tick (issue 4). Modules write
 * here; once a tick the changed keys are taken by {@link #drainDirty} and written whole (absolute values), so
 * notifications are bounded by changed keys per tick, and re-writing the copy after a failure or a Redis restart
 * converges. Bounded: beyond {@code maxKeys} new keys are refused and counted. Not thread-safe: ingest thread only.
 */
public final class KeyCoalescer implements StateWriter {

    /** One key's copy. Values are Long or String. */
    static final class Entry {
        final String key;
        final HashMap<String, Object> fields = new HashMap<>(16);
        long ttlSeconds;
        long lastWriteMillis;
        /** When EXPIRE was last sent with {@link #sentTtl}, if {@link #expireSent}. */
        long expireSentMillis;
        boolean expireSent;
        long sentTtl;
        boolean dirty;

        Entry(String key) {
            this.key = key;
        }
    }

    /**
     * A key to write: all its fields as strings, and its TTL, or 0 when the EXPIRE sent recently still holds (it is
     * refreshed once a quarter of the TTL has passed, which halves the commands of a busy key).
     */
    public record Write(String key, Map<String, String> fields, long ttlSeconds) {
    }

    private final HashMap<String, Entry> keys = new HashMap<>();
    private final ArrayList<Entry> dirty = new ArrayList<>();
    private final int maxKeys;
    private final long defaultTtlSeconds;
    private long now;
    private long refused;
    private long expiredLocally;

    /**
     * @param maxKeys           keys held at most (their copy costs about 1 KiB each)
     * @param defaultTtlSeconds TTL of a key whose module set none
     */
    public KeyCoalescer(int maxKeys, long defaultTtlSeconds) {
        this.maxKeys = maxKeys;
        this.defaultTtlSeconds = defaultTtlSeconds;
    }

    /** The clock for TTLs, set by the ingest thread once per datagram and per tick. */
    public void now(long nowMillis) {
        this.now = nowMillis;
    }

    private Entry touch(String key) {
        Entry e = keys.get(key);
        if (e == null) {
            if (keys.size() >= maxKeys) {
                refused++;
                return null;
            }
            e = new Entry(key);
            e.ttlSeconds = defaultTtlSeconds;
            keys.put(key, e);
        }
        e.lastWriteMillis = now;
        if (!e.dirty) {
            e.dirty = true;
            dirty.add(e);
        }
        return e;
    }

    @Override
    public void hset(String key, String field, String value) {
        Entry e = touch(key);
        if (e != null) {
            e.fields.put(field, value);
        }
    }

    @Override
    public void hset(String key, String field, long value) {
        Entry e = touch(key);
        if (e != null) {
            e.fields.put(field, value);
        }
    }

    @Override
    public long hincrBy(String key, String field, long delta) {
        Entry e = touch(key);
        if (e == null) {
            return delta;
        }
        long v = asLong(e.fields.get(field)) + delta;
        e.fields.put(field, v);
        return v;
    }

    @Override
    public void hsetIfAbsent(String key, String field, long value) {
        Entry e = touch(key);
        if (e != null) {
            e.fields.putIfAbsent(field, value);
        }
    }

    @Override
    public void hmax(String key, String field, long value) {
        Entry e = touch(key);
        if (e != null) {
            Object old = e.fields.get(field);
            if (old == null || asLong(old) < value) {
                e.fields.put(field, value);
            }
        }
    }

    @Override
    public boolean exists(String key) {
        return keys.containsKey(key);
    }

    @Override
    public int fieldCount(String key) {
        Entry e = keys.get(key);
        return e == null ? 0 : e.fields.size();
    }

    @Override
    public void expire(String key, long ttlSeconds) {
        Entry e = touch(key);
        if (e != null) {
            e.ttlSeconds = Math.max(1, ttlSeconds);
        }
    }

    /** A field's value as the copy holds it (tests, the probe status), or null. */
    public Object get(String key, String field) {
        Entry e = keys.get(key);
        return e == null ? null : e.fields.get(field);
    }

    private static long asLong(Object o) {
        if (o instanceof Long l) {
            return l;
        }
        if (o instanceof String s) {
            try {
                return Long.parseLong(s);
            } catch (NumberFormatException e) {
                return 0;
            }
        }
        return 0;
    }

    /**
     * Takes up to {@code max} changed keys as whole-key writes and marks them clean. Keys left over stay dirty for
     * the next call.
     */
    public List<Write> drainDirty(int max) {
        int n = Math.min(max, dirty.size());
        List<Write> out = new ArrayList<>(n);
        int start = dirty.size() - n;
        for (int i = dirty.size() - 1; i >= start; i--) {
            Entry e = dirty.remove(i);
            e.dirty = false;
            if (keys.get(e.key) != e) {
                continue; // expired locally since it changed
            }
            Map<String, String> f = new HashMap<>(e.fields.size() * 2);
            for (Map.Entry<String, Object> kv : e.fields.entrySet()) {
                f.put(kv.getKey(), String.valueOf(kv.getValue()));
            }
            if (!f.isEmpty()) {
                long ttl = 0;
                if (!e.expireSent || e.sentTtl != e.ttlSeconds || now - e.expireSentMillis >= e.ttlSeconds
                        * 250) {
                    ttl = e.ttlSeconds;
                    e.expireSentMillis = now;
                    e.expireSent = true;
                    e.sentTtl = e.ttlSeconds;
                }
                out.add(new Write(e.key, f, ttl));
            }
        }
        return out;
    }

    /** A write failed: the key is written again (whole) at the next tick, if it still lives. */
    public void rewrite(String key) {
        Entry e = keys.get(key);
        if (e != null) {
            e.expireSent = false; // the EXPIRE may have been lost with it
        }
        if (e != null && !e.dirty) {
            e.dirty = true;
            dirty.add(e);
        }
    }

    /** Redis (re)connected, maybe empty after a restart: every live key is written again. */
    public void rewriteAll() {
        for (Entry e : keys.values()) {
            e.expireSent = false;
            if (!e.dirty) {
                e.dirty = true;
                dirty.add(e);
            }
        }
    }

    /** Forgets keys whose TTL ran out since their last write, as Redis does. */
    public int expireIdle(long nowMillis) {
        int n = 0;
        Iterator<Entry> it = keys.values().iterator();
        while (it.hasNext()) {
            Entry e = it.next();
            // Redis counts the TTL from the last EXPIRE sent; before any was sent, from the last write
            long from = e.expireSent && e.sentTtl == e.ttlSeconds ? e.expireSentMillis : e.lastWriteMillis;
            if (nowMillis - from >= e.ttlSeconds * 1000) {
                it.remove();
                n++;
            }
        }
        expiredLocally += n;
        return n;
    }

    public int size() {
        return keys.size();
    }

    public int dirtyCount() {
        return dirty.size();
    }

    public int capacity() {
        return maxKeys;
    }

    /** New keys refused because the copy was full. */
    public long refused() {
        return refused;
    }

    public long expiredLocally() {
        return expiredLocally;
    }
}
