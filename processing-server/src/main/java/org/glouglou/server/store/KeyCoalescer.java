package org.glouglou.server.store;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;
import org.glouglou.spi.server.KeyHandle;
import org.glouglou.spi.server.StateWriter;

/**
 * The server's copy of every live Redis key and the coalescing of writes per key (issue 4). Modules write here on the
 * ingest thread; the store thread takes changed keys with {@link #drainDirty}, oldest-dirtied first, new keys and TTL
 * changes (a connection that closed) before mere updates, so a write budget never starves elements that appear or go.
 * A write carries only the fields that changed since the key was last written, with absolute values (counters are
 * summed here, never sent as deltas); the whole key is written when it is new, when EXPIRE is sent (first write, a
 * changed TTL, and every quarter of the TTL) and after a failure or a reconnection, so re-writing the copy converges
 * after a Redis restart. Bounded: beyond {@code maxKeys} new keys are refused and counted.
 *
 * <p>
 * Modules may hold {@link KeyHandle}s ({@link #handle}): a handle keeps its key's entry and skips the map, and looks
 * the key up (or creates it) again once the entry expired.
 *
 * <p>
 * Threads: the ingest thread calls the {@link StateWriter} methods while holding {@link #lock()} (once per datagram
 * and per tick, not per operation); {@link #drainDirty}, {@link #rewrite}, {@link #rewriteAll},
 * {@link #expireIdle} and {@link #expireStep} take the lock themselves.
 */
public final class KeyCoalescer implements StateWriter {

    /** 4 recent keys: a DATA event touches a conn, its link and its two hosts. */
    private static final int RECENT = 4;

    /** Beyond this many fields a key's fields get a hash index; below, a scan over interned names is faster. */
    private static final int INDEX_FROM = 24;

    /** One key's copy: fields in parallel arrays (numbers unboxed), with a changed flag per field. */
    static final class Entry {
        final String key;
        String[] names = new String[8];
        long[] nums = new long[8];
        /** Non-null where the field holds text; made at the first text field. */
        String[] texts;
        /** Fields 0-63: which hold text and which changed, as bits, so a numeric update touches two arrays only. */
        long textBits;
        long changedBits;
        /** Changed flags of fields 64 and beyond (a host seen by many probes), made when needed. */
        boolean[] changedHigh;
        int size;
        HashMap<String, Integer> index;
        long ttlSeconds;
        long lastWriteMillis;
        /** When EXPIRE was last sent with {@link #sentTtl}, if {@link #expireSent}. */
        long expireSentMillis;
        boolean expireSent;
        long sentTtl;
        /** Changed since its last write; waits in one of the queues. */
        boolean dirty;
        /** New, or its TTL changed: written before mere updates. */
        boolean urgent;
        /** The next write carries every field. */
        boolean full = true;
        boolean inNormal;
        boolean inUrgent;
        boolean live = true;
        /** Its place in {@link KeyCoalescer#all}, for the incremental expiry scan. */
        int slot;

        Entry(String key) {
            this.key = key;
        }

        int find(String name) {
            if (index != null) {
                Integer i = index.get(name);
                return i == null ? -1 : i;
            }
            for (int i = 0; i < size; i++) {
                if (names[i] == name) {
                    return i;
                }
            }
            for (int i = 0; i < size; i++) {
                if (names[i].equals(name)) {
                    return i;
                }
            }
            return -1;
        }

        int add(String name) {
            if (size == names.length) {
                int n = size * 2;
                names = Arrays.copyOf(names, n);
                nums = Arrays.copyOf(nums, n);
                if (texts != null) {
                    texts = Arrays.copyOf(texts, n);
                }
                if (n > 64) {
                    changedHigh = changedHigh == null ? new boolean[n] : Arrays.copyOf(changedHigh, n);
                }
            }
            names[size] = name;
            if (index != null) {
                index.put(name, size);
            } else if (size + 1 >= INDEX_FROM) {
                index = new HashMap<>(64);
                for (int i = 0; i <= size; i++) {
                    index.put(names[i], i);
                }
            }
            return size++;
        }

        /** The field's text, or null when it holds a number. */
        String text(int i) {
            if (i < 64) {
                return (textBits >>> i & 1) == 0 ? null : texts[i];
            }
            return texts == null ? null : texts[i];
        }

        void setText(int i, String v) {
            if (texts == null) {
                texts = new String[names.length];
            }
            texts[i] = v;
            if (i < 64) {
                textBits |= 1L << i;
            }
        }

        void setNum(int i, long v) {
            nums[i] = v;
            if (i < 64) {
                if ((textBits >>> i & 1) != 0) {
                    textBits &= ~(1L << i);
                    texts[i] = null;
                }
            } else if (texts != null) {
                texts[i] = null;
            }
        }

        boolean changed(int i) {
            return i < 64 ? (changedBits >>> i & 1) != 0 : changedHigh[i];
        }

        void changed(int i, boolean c) {
            if (i < 64) {
                changedBits = c ? changedBits | 1L << i : changedBits & ~(1L << i);
            } else {
                changedHigh[i] = c;
            }
        }

        Object value(int i) {
            String t = text(i);
            return t != null ? t : (Object) nums[i];
        }

        long asLong(int i) {
            String t = text(i);
            if (t == null) {
                return nums[i];
            }
            try {
                return Long.parseLong(t);
            } catch (NumberFormatException e) {
                return 0;
            }
        }
    }

    /**
     * A key to write: the fields as strings (every field when {@link #full()}, else those changed since the last
     * write; possibly none when only the EXPIRE is due), and its TTL, or 0 when the EXPIRE sent recently still holds.
     */
    public static final class Write {
        private final String key;
        private final String[] fieldsAndValues;
        private final long ttlSeconds;
        private final boolean full;

        Write(String key, String[] fieldsAndValues, long ttlSeconds, boolean full) {
            this.key = key;
            this.fieldsAndValues = fieldsAndValues;
            this.ttlSeconds = ttlSeconds;
            this.full = full;
        }

        public String key() {
            return key;
        }

        /** Field, value, field, value, ... */
        public String[] fieldsAndValues() {
            return fieldsAndValues;
        }

        public int fieldCount() {
            return fieldsAndValues.length / 2;
        }

        public long ttlSeconds() {
            return ttlSeconds;
        }

        public boolean full() {
            return full;
        }

        /** The fields as a map (tests). */
        public Map<String, String> fields() {
            Map<String, String> m = new LinkedHashMap<>();
            for (int i = 0; i < fieldsAndValues.length; i += 2) {
                m.put(fieldsAndValues[i], fieldsAndValues[i + 1]);
            }
            return m;
        }
    }

    private final ReentrantLock lock = new ReentrantLock();
    private final HashMap<String, Entry> keys = new HashMap<>();
    /** New keys and TTL changes, oldest first. */
    private final ArrayDeque<Entry> urgent = new ArrayDeque<>();
    /** Other changed keys, oldest-dirtied first. */
    private final ArrayDeque<Entry> normal = new ArrayDeque<>();
    private final int maxKeys;
    private final long defaultTtlSeconds;
    private long now;
    private int dirtyCount;
    private long refused;
    private long expiredLocally;
    /**
     * The keys of the latest operations, by identity: a module's operations on one event come in runs over a few keys
     * (a flow's conn, link and two hosts), so most lookups end here without touching the large map.
     */
    private final Entry[] recent = new Entry[RECENT];
    private int recentNext;
    /**
     * Every live key in no particular order (removal moves the last into the gap): what the expiry scan walks a slice
     * of per tick, from {@link #scanNext}, instead of iterating the whole map at once.
     */
    private Entry[] all = new Entry[1024];
    private int allSize;
    private int scanNext;
    private long lastScanMillis = Long.MIN_VALUE;

    /**
     * @param maxKeys           keys held at most (their copy costs a few hundred bytes each)
     * @param defaultTtlSeconds TTL of a key whose module set none
     */
    public KeyCoalescer(int maxKeys, long defaultTtlSeconds) {
        this.maxKeys = maxKeys;
        this.defaultTtlSeconds = defaultTtlSeconds;
    }

    /** Held by the ingest thread while it changes the copy, and by the store thread while it drains. */
    public ReentrantLock lock() {
        return lock;
    }

    /** The clock for TTLs, set by the ingest thread once per datagram and per tick. */
    public void now(long nowMillis) {
        this.now = nowMillis;
    }

    private Entry lookup(String key) {
        Entry[] r = recent;
        for (int i = 0; i < RECENT; i++) {
            Entry e = r[i];
            if (e != null && e.key == key) {
                return e;
            }
        }
        Entry e = keys.get(key);
        if (e != null) {
            remember(e);
        }
        return e;
    }

    private void remember(Entry e) {
        recent[recentNext] = e;
        recentNext = (recentNext + 1) & (RECENT - 1);
    }

    private Entry touch(String key) {
        Entry e = lookup(key);
        if (e == null) {
            if (keys.size() >= maxKeys) {
                refused++;
                return null;
            }
            e = new Entry(key);
            e.ttlSeconds = defaultTtlSeconds;
            keys.put(key, e);
            if (allSize == all.length) {
                all = Arrays.copyOf(all, allSize * 2);
            }
            e.slot = allSize;
            all[allSize++] = e;
            remember(e);
            e.lastWriteMillis = now;
            markUrgent(e);
            return e;
        }
        return touched(e);
    }

    private Entry touched(Entry e) {
        e.lastWriteMillis = now;
        // a key that lives on unchanged still needs its EXPIRE refreshed before Redis drops it
        if (!e.dirty && e.expireSent && now - e.expireSentMillis >= e.ttlSeconds * 250) {
            markDirty(e);
        }
        return e;
    }

    private void markDirty(Entry e) {
        if (!e.dirty) {
            e.dirty = true;
            dirtyCount++;
        }
        if (!e.inNormal && !e.urgent) {
            e.inNormal = true;
            normal.add(e);
        }
    }

    private void markUrgent(Entry e) {
        if (!e.dirty) {
            e.dirty = true;
            dirtyCount++;
        }
        e.urgent = true;
        if (!e.inUrgent) {
            e.inUrgent = true;
            urgent.add(e);
        }
    }

    private void changed(Entry e, int i) {
        e.changed(i, true);
        if (!e.dirty) {
            markDirty(e);
        }
    }

    // the operations on a resolved key (null: refused, the copy is full); by key text and through handles alike

    private void setText(Entry e, String field, String value) {
        if (e != null) {
            int i = e.find(field);
            if (i < 0) {
                i = e.add(field);
            } else if (value.equals(e.text(i))) {
                return;
            }
            e.setText(i, value);
            changed(e, i);
        }
    }

    private void setNum(Entry e, String field, long value) {
        if (e == null) {
            return;
        }
        int i = e.find(field);
        if (i < 0) {
            i = e.add(field);
        } else if (e.nums[i] == value && e.text(i) == null) {
            return;
        }
        e.setNum(i, value);
        changed(e, i);
    }

    private long incr(Entry e, String field, long delta) {
        if (e == null) {
            return delta;
        }
        int i = e.find(field);
        long v = (i < 0 ? 0 : e.asLong(i)) + delta;
        setNum(e, field, v);
        return v;
    }

    private void setIfAbsent(Entry e, String field, long value) {
        if (e != null && e.find(field) < 0) {
            setNum(e, field, value);
        }
    }

    private void max(Entry e, String field, long value) {
        if (e != null) {
            int i = e.find(field);
            if (i < 0 || e.asLong(i) < value) {
                setNum(e, field, value);
            }
        }
    }

    private void expire(Entry e, long ttlSeconds) {
        if (e != null) {
            long ttl = Math.max(1, ttlSeconds);
            if (e.ttlSeconds != ttl) {
                e.ttlSeconds = ttl;
                // a closed connection's short TTL: the viewer must see it go, whatever the budget
                markUrgent(e);
            }
        }
    }

    @Override
    public void hset(String key, String field, String value) {
        setText(touch(key), field, value);
    }

    @Override
    public void hset(String key, String field, long value) {
        setNum(touch(key), field, value);
    }

    @Override
    public long hincrBy(String key, String field, long delta) {
        return incr(touch(key), field, delta);
    }

    @Override
    public void hsetIfAbsent(String key, String field, long value) {
        setIfAbsent(touch(key), field, value);
    }

    @Override
    public void hmax(String key, String field, long value) {
        max(touch(key), field, value);
    }

    @Override
    public boolean exists(String key) {
        return lookup(key) != null;
    }

    @Override
    public int fieldCount(String key) {
        Entry e = lookup(key);
        return e == null ? 0 : e.size;
    }

    @Override
    public void expire(String key, long ttlSeconds) {
        expire(touch(key), ttlSeconds);
    }

    /**
     * A handle that holds the key's entry: its operations skip the map. The entry it holds is dropped as soon as the
     * key expires locally ({@link Entry#live} false), and the next operation looks the key up or creates it again, so a
     * handle kept past its key's life writes to the key's new copy, never to a dead one.
     */
    @Override
    public KeyHandle handle(String key) {
        return new Handle(key);
    }

    private final class Handle implements KeyHandle {
        private final String key;
        private Entry entry;

        Handle(String key) {
            this.key = key;
        }

        /** The live entry for a write: created when absent. */
        private Entry write() {
            Entry e = entry;
            if (e != null && e.live) {
                return touched(e);
            }
            return entry = touch(key);
        }

        /** The live entry for a read, or null. */
        private Entry read() {
            Entry e = entry;
            if (e != null && e.live) {
                return e;
            }
            return entry = lookup(key);
        }

        @Override
        public String key() {
            return key;
        }

        @Override
        public StateWriter writer() {
            return KeyCoalescer.this;
        }

        @Override
        public void hset(String field, String value) {
            setText(write(), field, value);
        }

        @Override
        public void hset(String field, long value) {
            setNum(write(), field, value);
        }

        @Override
        public long hincrBy(String field, long delta) {
            return incr(write(), field, delta);
        }

        @Override
        public void hsetIfAbsent(String field, long value) {
            setIfAbsent(write(), field, value);
        }

        @Override
        public void hmax(String field, long value) {
            max(write(), field, value);
        }

        @Override
        public boolean exists() {
            return read() != null;
        }

        @Override
        public int fieldCount() {
            Entry e = read();
            return e == null ? 0 : e.size;
        }

        @Override
        public void expire(long ttlSeconds) {
            KeyCoalescer.this.expire(write(), ttlSeconds);
        }

        @Override
        public String toString() {
            return key;
        }
    }

    /** A field's value as the copy holds it (Long or String; tests, the probe status), or null. */
    public Object get(String key, String field) {
        lock.lock();
        try {
            Entry e = keys.get(key);
            if (e == null) {
                return null;
            }
            int i = e.find(field);
            return i < 0 ? null : e.value(i);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Takes up to {@code max} changed keys as writes and marks them clean: new keys and TTL changes first, then the
     * others in the order they were first changed. Keys left over stay dirty (and keep changing in the copy) for the
     * next call.
     */
    public List<Write> drainDirty(int max) {
        lock.lock();
        try {
            List<Write> out = new ArrayList<>(Math.min(max, dirtyCount));
            while (out.size() < max) {
                Entry e = urgent.poll();
                if (e != null) {
                    e.inUrgent = false;
                } else {
                    e = normal.poll();
                    if (e == null) {
                        break;
                    }
                    e.inNormal = false;
                }
                if (!e.dirty || !e.live) {
                    continue; // written from the other queue already, or expired locally since it changed
                }
                Write w = take(e);
                if (w != null) {
                    out.add(w);
                }
            }
            return out;
        } finally {
            lock.unlock();
        }
    }

    private Write take(Entry e) {
        e.dirty = false;
        e.urgent = false;
        dirtyCount--;
        long ttl = 0;
        if (!e.expireSent || e.sentTtl != e.ttlSeconds || now - e.expireSentMillis >= e.ttlSeconds * 250) {
            ttl = e.ttlSeconds;
            e.expireSentMillis = now;
            e.expireSent = true;
            e.sentTtl = e.ttlSeconds;
        }
        // whole key with every EXPIRE: whatever Redis lost unseen is restored at least every quarter TTL
        boolean full = e.full || ttl != 0;
        int n = 0;
        for (int i = 0; i < e.size; i++) {
            if (full || e.changed(i)) {
                n++;
            }
        }
        if (n == 0 && ttl == 0) {
            return null;
        }
        String[] fv = new String[2 * n];
        int j = 0;
        for (int i = 0; i < e.size; i++) {
            if (full || e.changed(i)) {
                String t = e.text(i);
                fv[j++] = e.names[i];
                fv[j++] = t != null ? t : Long.toString(e.nums[i]);
                e.changed(i, false);
            }
        }
        e.full = false;
        return new Write(e.key, fv, ttl, full);
    }

    /** A write failed: the key is written again whole at a later drain, if it still lives. */
    public void rewrite(String key) {
        lock.lock();
        try {
            Entry e = keys.get(key);
            if (e != null) {
                e.expireSent = false; // the EXPIRE may have been lost with it
                e.full = true;
                markDirty(e);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Redis (re)connected, maybe empty after a restart: every live key is written again, whole. */
    public void rewriteAll() {
        lock.lock();
        try {
            for (Entry e : keys.values()) {
                e.expireSent = false;
                e.full = true;
                markDirty(e);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Forgets keys whose TTL ran out since their last write, as Redis does: the whole copy at once (tests). */
    public int expireIdle(long nowMillis) {
        lock.lock();
        try {
            scanNext = 0;
            return scan(nowMillis, allSize);
        } finally {
            lock.unlock();
        }
    }

    /**
     * The incremental form of {@link #expireIdle}, called every tick: checks a slice of the keys sized so that the
     * whole copy is checked once per second of {@code nowMillis} (at least 256 keys per call), so no tick pays for a
     * scan of a million keys. A key is forgotten up to a second after Redis dropped it; that is safe, because a write
     * to a key whose EXPIRE is that old is a whole one with a new EXPIRE (see {@link #drainDirty}).
     */
    public int expireStep(long nowMillis) {
        lock.lock();
        try {
            long elapsed = lastScanMillis == Long.MIN_VALUE ? 0 : Math.max(0, nowMillis - lastScanMillis);
            lastScanMillis = nowMillis;
            long share = Math.min(allSize, allSize * Math.min(elapsed, 1000) / 1000 + 1);
            return scan(nowMillis, (int) Math.max(256, share));
        } finally {
            lock.unlock();
        }
    }

    /**
     * Steps over {@code count} live keys from {@link #scanNext} on (an expired one does not count: the last key moves
     * into its place and is checked at once), forgetting the expired ones. Holds the lock.
     */
    private int scan(long nowMillis, int count) {
        int n = 0;
        int stepped = 0;
        while (stepped < count && allSize > 0) {
            if (scanNext >= allSize) {
                scanNext = 0;
                if (stepped >= allSize) {
                    break; // wrapped after a whole pass
                }
            }
            Entry e = all[scanNext];
            // Redis counts the TTL from the last EXPIRE sent; before any was sent, from the last write
            long from = e.expireSent && e.sentTtl == e.ttlSeconds ? e.expireSentMillis : e.lastWriteMillis;
            if (nowMillis - from >= e.ttlSeconds * 1000) {
                forget(e); // the last key moved into this slot: check it next, do not step
                n++;
            } else {
                scanNext++;
                stepped++;
            }
        }
        if (n > 0) {
            Arrays.fill(recent, null);
        }
        expiredLocally += n;
        return n;
    }

    private void forget(Entry e) {
        keys.remove(e.key);
        e.live = false;
        if (e.dirty) {
            e.dirty = false;
            dirtyCount--;
        }
        int last = --allSize;
        Entry moved = all[last];
        all[e.slot] = moved;
        moved.slot = e.slot;
        all[last] = null;
    }

    public int size() {
        return keys.size();
    }

    /** Keys changed and not yet written (each counted once, whatever the number of changes). */
    public int dirtyCount() {
        return dirtyCount;
    }

    /** Of {@link #dirtyCount}, roughly those that are new or changed TTL (an upper bound: stale queue places). */
    public int urgentQueued() {
        return urgent.size();
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
