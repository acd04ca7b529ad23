package org.glouglou.server.store;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.glouglou.spi.server.KeyHandle;
import org.glouglou.spi.server.StateWriter;

/**
 * The buffer of pending merge operations per key, and what the server still holds of each key to send again
 * (docs/architecture.txt 6.2, 6.3). Modules write here on the ingest thread; the store thread takes changed keys with
 * {@link #drainDirty}, new keys and TTL changes (a connection that closed) first, then the oldest-dirtied, and sends
 * each as one {@link StateScript} call. Operations on a key within a tick coalesce: the latest SET, the largest MAX,
 * the smallest MIN, per contributor the element-wise largest cumulative values. Every operation is idempotent, so a
 * failed write is simply sent again, and after a reconnection or a topology change every live key is sent again whole
 * (its fields, its open contributors and those closed within half the mark horizon): nothing double counts.
 *
 * <p>
 * Durability: every accepted datagram gets a generation ({@link #nextGeneration}); a dirty key remembers the oldest
 * generation of its changes not yet confirmed, and so does each write in flight; {@link #watermark} is the largest
 * generation whose changes are all confirmed by Redis, which is when a datagram may be acknowledged durable (spec
 * 5.8). Bounded: beyond {@code maxKeys} new keys are refused and counted.
 *
 * <p>
 * Threads: the ingest thread calls the {@link StateWriter} methods while holding {@link #lock()} (once per datagram
 * and per tick, not per operation); the other public methods take the lock themselves, except {@link #done} and the
 * read hand-offs, which any thread may call.
 */
public final class KeyCoalescer implements StateWriter {

    /** 4 recent keys: a DATA event touches a conn, its link and its two hosts. */
    private static final int RECENT = 4;
    /** Beyond this many fields a key's fields get a hash index; below, a scan over interned names is faster. */
    private static final int INDEX_FROM = 24;
    /**
     * 200 contributions or 4000 arguments per script call: Lua's unpack and Redis's argument vector stay small, and
     * one call never blocks Redis for long (a link of a SYN flood gets tens of thousands of flows in one tick).
     */
    static final int MAX_CONTRIBUTIONS_PER_CALL = 200;
    static final int MAX_ARGS_PER_CALL = 4000;
    /** 2 writes after a rate key went quiet: the first covers the last traffic, the second shows 0. */
    static final int RATE_TOUCHES = 2;
    /** 10,000 reads waiting at most: more are answered "cannot read now" at once (the event is sent again later). */
    static final int MAX_READS = 10_000;

    static final byte SET = 0;
    static final byte SETNX = 1;
    static final byte MAX = 2;
    static final byte MIN = 3;
    private static final String[] OP = {"S", "N", "X", "M"};

    /** One contributor's cumulative values to a key (its mark as this server last sent it). */
    static final class Contribution {
        final String who;
        String[] fields;
        long[] values;
        boolean closed;
        boolean pending;
        long updatedMillis;

        Contribution(String who, String[] fields, long[] values) {
            this.who = who;
            this.fields = fields;
            this.values = values;
        }
    }

    /** A group of fields written together (probe status): the newest stamp, or per boot, wins. */
    static final class Group {
        final String stampField;
        String stamp;
        String[] fields;
        String[] values;
        boolean pending;

        Group(String stampField) {
            this.stampField = stampField;
        }
    }

    /** One key: its fields with their merge kind, contributions, rates and groups, and its place in the queues. */
    static final class Entry {
        final String key;
        String[] names = new String[8];
        byte[] kinds = new byte[8];
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
        HashMap<String, Contribution> contribs;
        ArrayList<Contribution> pendingContribs;
        /** Rate field, total field, ...: sent with every write of the key. */
        String[] rates;
        Group newest;
        Group perBoot;
        long ttlSeconds;
        long lastOpMillis;
        long sentMillis;
        boolean sent;
        /** Changed since its last write; waits in one of the queues. */
        boolean dirty;
        /**
         * The oldest generation of the changes not yet written (while dirty), or -1 when it is dirty only to be sent
         * again (a refreshed TTL, a rate follow-up, a rewrite after a reconnection), which holds no datagram back.
         */
        long dirtyGen = -1;
        /** New, or its TTL changed: written before mere updates. */
        boolean urgent;
        /** The next write carries everything held. */
        boolean full = true;
        boolean inNormal;
        boolean inUrgent;
        boolean live = true;
        /** Writes sent and not answered yet: the entry is not forgotten meanwhile. */
        int inflight;
        /** When this server last asked Redis to compute its rates (they change once per window at most). */
        long ratesSentMillis = Long.MIN_VALUE / 2;
        /** Writes still due after the last change so its rates fall to 0, and when the next one is. */
        int rateTouches;
        long touchAt;
        /** When it is due in {@link KeyCoalescer#rateQueue} (its touchAt when queued; a later change moves touchAt). */
        long queuedTouchAt;
        boolean inRateQueue;
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

        int add(String name, byte kind) {
            if (size == names.length) {
                int n = size * 2;
                names = Arrays.copyOf(names, n);
                kinds = Arrays.copyOf(kinds, n);
                nums = Arrays.copyOf(nums, n);
                if (texts != null) {
                    texts = Arrays.copyOf(texts, n);
                }
                if (n > 64) {
                    changedHigh = changedHigh == null ? new boolean[n] : Arrays.copyOf(changedHigh, n);
                }
            }
            names[size] = name;
            kinds[size] = kind;
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

        String string(int i) {
            String t = text(i);
            return t != null ? t : Long.toString(nums[i]);
        }
    }

    /**
     * One key's write: the operations of one or more script calls (one unless the key has very many contributions),
     * the key's TTL, and the generation it confirms. The store reports its outcome with {@link #done}.
     */
    public static final class Write {
        final Entry entry;
        private final String key;
        private final long gen;
        private final long ttlSeconds;
        private final boolean full;
        private final boolean hasMarks;
        private final List<String[]> calls;
        private final AtomicInteger remaining;
        private volatile boolean failed;

        Write(Entry entry, long gen, long ttlSeconds, boolean full, boolean hasMarks, List<String[]> calls) {
            this.entry = entry;
            this.key = entry.key;
            this.gen = gen;
            this.ttlSeconds = ttlSeconds;
            this.full = full;
            this.hasMarks = hasMarks;
            this.calls = calls;
            this.remaining = new AtomicInteger(calls.size());
        }

        public String key() {
            return key;
        }

        /** KEYS of every call: the key, its marks, its closed contributors (one Cluster slot). */
        public String[] keys() {
            return new String[]{key, StateScript.markKey(key), StateScript.closedKey(key)};
        }

        public int calls() {
            return calls.size();
        }

        /** ARGV of call {@code i}: TTL, mark horizon, rate window, marks flag, then the operations. */
        public String[] args(int i, long horizonMillis) {
            String[] ops = calls.get(i);
            String[] a = new String[4 + ops.length];
            a[0] = Long.toString(ttlSeconds);
            a[1] = Long.toString(horizonMillis);
            a[2] = Long.toString(StateScript.RATE_WINDOW_MILLIS);
            a[3] = hasMarks ? "1" : "0";
            System.arraycopy(ops, 0, a, 4, ops.length);
            return a;
        }

        /** The operations of every call, in order (tests). */
        public List<String> ops() {
            List<String> l = new ArrayList<>();
            for (String[] c : calls) {
                l.addAll(Arrays.asList(c));
            }
            return l;
        }

        public long ttlSeconds() {
            return ttlSeconds;
        }

        public long generation() {
            return gen;
        }

        /** Everything held was sent (a new key, after a failure or a reconnection). */
        public boolean full() {
            return full;
        }

        /** Plain fields as field to value, whatever their merge (tests). */
        public Map<String, String> fields() {
            Map<String, String> m = new java.util.LinkedHashMap<>();
            for (String[] c : calls) {
                for (int i = 0; i < c.length;) {
                    switch (c[i]) {
                        case "S", "N", "X", "M" -> {
                            m.put(c[i + 1], c[i + 2]);
                            i += 3;
                        }
                        case "R" -> i += 3;
                        case "C", "G", "B" -> i += 4 + 2 * Integer.parseInt(c[i + 3]);
                        default -> throw new IllegalStateException(c[i]);
                    }
                }
            }
            return m;
        }

        /** One call of the write finished: true when it was the last. */
        boolean finish(boolean ok) {
            if (!ok) {
                failed = true;
            }
            return remaining.decrementAndGet() == 0;
        }
    }

    /** A read of a key for a module, answered on the ingest thread. */
    public static final class Read {
        private final String key;
        private final Consumer<Map<String, String>> then;
        private volatile Map<String, String> result;

        Read(String key, Consumer<Map<String, String>> then) {
            this.key = key;
            this.then = then;
        }

        public String key() {
            return key;
        }
    }

    private final ReentrantLock lock = new ReentrantLock();
    private final HashMap<String, Entry> keys = new HashMap<>();
    /** New keys and TTL changes, oldest first. */
    private final ArrayDeque<Entry> urgent = new ArrayDeque<>();
    /** Other changed keys, oldest-dirtied first. */
    private final ArrayDeque<Entry> normal = new ArrayDeque<>();
    /** Keys with rates still due a write after their last change, by when they were due when queued. */
    private final java.util.PriorityQueue<Entry> rateQueue = new java.util.PriorityQueue<>(
            java.util.Comparator.comparingLong((Entry e) -> e.queuedTouchAt));
    private final int maxKeys;
    private final long defaultTtlSeconds;
    private final long horizonMillis;
    private long now;
    private int dirtyCount;
    private long refused;
    private long expiredLocally;
    /** The generation of the latest accepted datagram. */
    private long generation;
    /** Unconfirmed changes by oldest generation: dirty keys and writes in flight. */
    private final TreeMap<Long, int[]> unconfirmed = new TreeMap<>();
    private final ConcurrentLinkedQueue<Write> finished = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<Read> reads = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<Read> answered = new ConcurrentLinkedQueue<>();
    private final AtomicInteger readsWaiting = new AtomicInteger();
    private volatile long failedWrites;
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
     * @param horizonMillis     the mark horizon: a closed contributor's mark is pruned in Redis this long after it
     *                          closed, so the server holds contributions to send again for half of it at most
     */
    public KeyCoalescer(int maxKeys, long defaultTtlSeconds, long horizonMillis) {
        this.maxKeys = maxKeys;
        this.defaultTtlSeconds = defaultTtlSeconds;
        this.horizonMillis = horizonMillis;
    }

    /** Held by the ingest thread while it changes the copy, and by the store thread while it drains. */
    public ReentrantLock lock() {
        return lock;
    }

    /** The clock for TTLs, set by the ingest thread once per datagram and per tick. */
    public void now(long nowMillis) {
        this.now = nowMillis;
    }

    public long horizonMillis() {
        return horizonMillis;
    }

    // durability

    /** A datagram was accepted: the changes it makes from now on belong to the returned generation. Under the lock. */
    public long nextGeneration() {
        return ++generation;
    }

    /** The generation of the latest accepted datagram. */
    public long generation() {
        return generation;
    }

    /**
     * Every change made under a generation at or below this is confirmed by Redis: the oldest generation of a dirty
     * key or a write in flight, less one. Call {@link #confirm} first for the latest replies. Under the lock.
     */
    public long watermark() {
        return unconfirmed.isEmpty() ? generation : Math.min(generation, unconfirmed.firstKey() - 1);
    }

    private void hold(long gen) {
        int[] c = unconfirmed.get(gen);
        if (c == null) {
            unconfirmed.put(gen, new int[]{1});
        } else {
            c[0]++;
        }
    }

    private void release(long gen) {
        int[] c = unconfirmed.get(gen);
        if (c != null && --c[0] == 0) {
            unconfirmed.remove(gen);
        }
    }

    /** Unconfirmed changes (dirty keys plus writes in flight), for tests and metrics. Under the lock. */
    public int unconfirmedCount() {
        int n = 0;
        for (int[] c : unconfirmed.values()) {
            n += c[0];
        }
        return n;
    }

    /** A write's last call was answered ({@code ok}: every call succeeded). Any thread; applied by {@link #confirm}. */
    public void done(Write w, boolean ok) {
        if (w.finish(ok)) {
            finished.add(w);
        }
    }

    /**
     * Applies the answers received since the last call: a confirmed write releases its generation; a failed one makes
     * its key dirty again, whole, keeping the failed write's generation (the retry confirms it).
     */
    public void confirm() {
        if (finished.isEmpty()) {
            return;
        }
        lock.lock();
        try {
            Write w;
            while ((w = finished.poll()) != null) {
                Entry e = w.entry;
                e.inflight--;
                if (!w.failed) {
                    if (w.gen >= 0) {
                        release(w.gen);
                    }
                    continue;
                }
                failedWrites++;
                e.full = true;
                if (!e.live) {
                    if (w.gen >= 0) {
                        release(w.gen); // cannot happen while in flight, but never leak a hold
                    }
                } else if (!e.dirty) {
                    e.dirty = true;
                    e.dirtyGen = w.gen; // the failed write's hold passes to the retry
                    dirtyCount++;
                    queueNormal(e);
                } else if (w.gen >= 0) {
                    if (e.dirtyGen < 0) {
                        e.dirtyGen = w.gen;
                    } else if (w.gen < e.dirtyGen) {
                        release(e.dirtyGen);
                        e.dirtyGen = w.gen;
                    } else {
                        release(w.gen);
                    }
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** Writes that failed since start (each is sent again). */
    public long failedWrites() {
        return failedWrites;
    }

    // key lookup and change tracking

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
            if (keys.size() >= maxKeys || key.indexOf('{') >= 0 || key.indexOf('}') >= 0) {
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
            e.lastOpMillis = now;
            markUrgent(e);
            return e;
        }
        return touched(e);
    }

    private Entry touched(Entry e) {
        e.lastOpMillis = now;
        // a key that lives on unchanged still needs its EXPIRE refreshed before Redis drops it
        if (!e.dirty && e.sent && now - e.sentMillis >= e.ttlSeconds * 250) {
            resend(e);
        }
        return e;
    }

    /** A real change under the current generation: held until confirmed. */
    private void dirty(Entry e) {
        if (!e.dirty) {
            e.dirty = true;
            e.dirtyGen = generation;
            hold(generation);
            dirtyCount++;
        } else if (e.dirtyGen < 0) {
            e.dirtyGen = generation;
            hold(generation);
        }
    }

    /** To be sent again, holding no datagram back (what it sends is confirmed already, or only a refresh). */
    private void resend(Entry e) {
        if (!e.dirty) {
            e.dirty = true;
            e.dirtyGen = -1;
            dirtyCount++;
        }
        queueNormal(e);
    }

    private void queueNormal(Entry e) {
        if (!e.inNormal && !e.urgent) {
            e.inNormal = true;
            normal.add(e);
        }
    }

    private void markDirty(Entry e) {
        dirty(e);
        queueNormal(e);
    }

    private void markUrgent(Entry e) {
        dirty(e);
        e.urgent = true;
        if (!e.inUrgent) {
            e.inUrgent = true;
            urgent.add(e);
        }
    }

    private void changed(Entry e, int i) {
        e.changed(i, true);
        markDirty(e);
        if (e.rates != null) {
            rateChanged(e);
        }
    }

    private void rateChanged(Entry e) {
        e.rateTouches = RATE_TOUCHES;
        e.touchAt = now + StateScript.RATE_WINDOW_MILLIS + 100;
        if (!e.inRateQueue) {
            e.inRateQueue = true;
            e.queuedTouchAt = e.touchAt;
            rateQueue.add(e);
        }
    }

    // the operations on a resolved key (null: refused); by key text and through handles alike

    private void setText(Entry e, String field, String value, byte kind) {
        if (e == null) {
            return;
        }
        int i = e.find(field);
        if (i < 0) {
            i = e.add(field, kind);
        } else if (kind == SETNX) {
            return;
        } else if (value.equals(e.text(i)) && e.kinds[i] == kind) {
            return;
        }
        e.kinds[i] = kind;
        e.setText(i, value);
        changed(e, i);
    }

    private void setNum(Entry e, String field, long value, byte kind) {
        if (e == null) {
            return;
        }
        int i = e.find(field);
        if (i < 0) {
            i = e.add(field, kind);
        } else {
            boolean num = e.text(i) == null;
            long cur = e.nums[i];
            switch (kind) {
                case SETNX :
                    return;
                case MAX :
                    if (num && cur >= value && e.kinds[i] == MAX) {
                        return;
                    }
                    break;
                case MIN :
                    if (num && cur <= value && e.kinds[i] == MIN) {
                        return;
                    }
                    break;
                default :
                    if (num && cur == value && e.kinds[i] == kind) {
                        return;
                    }
            }
        }
        e.kinds[i] = kind;
        e.setNum(i, value);
        changed(e, i);
    }

    private void contribute(Entry e, String who, String[] fields, long[] values, boolean closed) {
        if (e == null) {
            return;
        }
        if (e.contribs == null) {
            e.contribs = new HashMap<>();
            e.pendingContribs = new ArrayList<>();
        }
        Contribution c = e.contribs.get(who);
        boolean moved;
        if (c == null) {
            c = new Contribution(who, fields, values.clone());
            c.closed = closed;
            e.contribs.put(who, c);
            moved = true;
        } else {
            moved = false;
            if (c.fields != fields && !Arrays.equals(c.fields, fields)) {
                c.fields = fields; // the contributor's fields are fixed: this only happens after a module change
                moved = true;
            }
            if (c.values.length < values.length) {
                c.values = Arrays.copyOf(c.values, values.length);
                moved = true;
            }
            long[] v = c.values;
            for (int i = 0; i < values.length; i++) {
                if (values[i] > v[i]) {
                    v[i] = values[i];
                    moved = true;
                }
            }
            if (closed && !c.closed) {
                c.closed = true;
                moved = true;
            }
        }
        c.updatedMillis = now;
        if (moved) {
            if (!c.pending) {
                c.pending = true;
                e.pendingContribs.add(c);
            }
            markDirty(e);
            if (e.rates != null) {
                rateChanged(e);
            }
        }
    }

    private void rate(Entry e, String rateField, String totalField) {
        if (e == null) {
            return;
        }
        String[] r = e.rates;
        if (r != null) {
            for (int i = 0; i < r.length; i += 2) {
                if (r[i].equals(rateField)) {
                    r[i + 1] = totalField;
                    return;
                }
            }
        }
        e.rates = r == null ? new String[]{rateField, totalField} : append(r, rateField, totalField);
        rateChanged(e);
        markDirty(e);
    }

    private static String[] append(String[] a, String x, String y) {
        String[] b = Arrays.copyOf(a, a.length + 2);
        b[a.length] = x;
        b[a.length + 1] = y;
        return b;
    }

    private void expire(Entry e, long ttlSeconds) {
        if (e != null) {
            long ttl = Math.max(1, ttlSeconds);
            if (e.ttlSeconds != ttl) {
                e.ttlSeconds = ttl;
                // a closed connection's TTL: its close must be written whatever the budget
                markUrgent(e);
            }
        }
    }

    @Override
    public void hset(String key, String field, String value) {
        setText(touch(key), field, value, SET);
    }

    @Override
    public void hset(String key, String field, long value) {
        setNum(touch(key), field, value, SET);
    }

    @Override
    public void hsetIfAbsent(String key, String field, long value) {
        setNum(touch(key), field, value, SETNX);
    }

    @Override
    public void hsetIfAbsent(String key, String field, String value) {
        setText(touch(key), field, value, SETNX);
    }

    @Override
    public void hmax(String key, String field, long value) {
        setNum(touch(key), field, value, MAX);
    }

    @Override
    public void hmin(String key, String field, long value) {
        setNum(touch(key), field, value, MIN);
    }

    @Override
    public void contribute(String key, String contributor, String[] fields, long[] values, boolean closed) {
        contribute(touch(key), contributor, fields, values, closed);
    }

    @Override
    public void rate(String key, String rateField, String totalField) {
        rate(touch(key), rateField, totalField);
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
     * The probe-status merge "newest report wins": {@code fields} are set, with {@code stampField} = {@code stamp},
     * unless Redis holds a larger stamp (another server heard from the probe more recently). Coalesced: the newest
     * stamp's group, later groups of the same stamp replacing it.
     */
    public void hsetNewest(String key, String stampField, long stamp, String[] fields, String[] values) {
        Entry e = touch(key);
        if (e == null) {
            return;
        }
        if (e.newest == null) {
            e.newest = new Group(stampField);
        }
        group(e, e.newest, Long.toString(stamp), fields, values, stamp >= parse(e.newest.stamp));
    }

    /**
     * The per-boot counter merge: a newer {@code boot} (unsigned) replaces the fields, the same boot keeps each
     * field's maximum, an older boot changes nothing (the probe's own STATS, spec 5.5).
     */
    public void hmaxPerBoot(String key, String bootField, long boot, String[] fields, long[] values) {
        Entry e = touch(key);
        if (e == null) {
            return;
        }
        String[] v = new String[values.length];
        for (int i = 0; i < values.length; i++) {
            v[i] = Long.toString(values[i]);
        }
        if (e.perBoot == null) {
            e.perBoot = new Group(bootField);
        }
        Group g = e.perBoot;
        String b = Long.toUnsignedString(boot);
        if (g.stamp != null && g.stamp.equals(b)) {
            // the same boot: per field maximum, new fields joining
            Map<String, String> m = new java.util.LinkedHashMap<>();
            for (int i = 0; i < g.fields.length; i++) {
                m.put(g.fields[i], g.values[i]);
            }
            for (int i = 0; i < fields.length; i++) {
                String old = m.get(fields[i]);
                if (old == null || Long.parseLong(old) < values[i]) {
                    m.put(fields[i], v[i]);
                }
            }
            group(e, g, b, m.keySet().toArray(String[]::new), m.values().toArray(String[]::new), true);
        } else {
            group(e, g, b, fields, v, g.stamp == null || Long.compareUnsigned(boot, Long.parseUnsignedLong(
                    g.stamp)) > 0);
        }
    }

    private static long parse(String s) {
        return s == null ? Long.MIN_VALUE : Long.parseLong(s);
    }

    private void group(Entry e, Group g, String stamp, String[] fields, String[] values, boolean wins) {
        if (!wins) {
            return;
        }
        if (stamp.equals(g.stamp) && Arrays.equals(fields, g.fields) && Arrays.equals(values, g.values)) {
            return;
        }
        g.stamp = stamp;
        g.fields = fields.clone();
        g.values = values.clone();
        g.pending = true;
        markDirty(e);
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
            setText(write(), field, value, SET);
        }

        @Override
        public void hset(String field, long value) {
            setNum(write(), field, value, SET);
        }

        @Override
        public void hsetIfAbsent(String field, long value) {
            setNum(write(), field, value, SETNX);
        }

        @Override
        public void hsetIfAbsent(String field, String value) {
            setText(write(), field, value, SETNX);
        }

        @Override
        public void hmax(String field, long value) {
            setNum(write(), field, value, MAX);
        }

        @Override
        public void hmin(String field, long value) {
            setNum(write(), field, value, MIN);
        }

        @Override
        public void contribute(String contributor, String[] fields, long[] values, boolean closed) {
            KeyCoalescer.this.contribute(write(), contributor, fields, values, closed);
        }

        @Override
        public void rate(String rateField, String totalField) {
            KeyCoalescer.this.rate(write(), rateField, totalField);
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

    /** The cumulative values this server holds for a contributor of a key, or null (tests). */
    public long[] contribution(String key, String contributor) {
        lock.lock();
        try {
            Entry e = keys.get(key);
            Contribution c = e == null || e.contribs == null ? null : e.contribs.get(contributor);
            return c == null ? null : c.values.clone();
        } finally {
            lock.unlock();
        }
    }

    // draining

    /**
     * Takes up to {@code max} changed keys as writes and marks them clean: new keys and TTL changes first, then the
     * others in the order they were first changed. Keys left over stay dirty (and keep coalescing) for the next call.
     */
    public List<Write> drainDirty(int max, long nowMillis) {
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
                    continue; // written from the other queue already, or forgotten since it changed
                }
                out.add(take(e, nowMillis));
            }
            return out;
        } finally {
            lock.unlock();
        }
    }

    /** {@link #drainDirty(int, long)} at the copy's clock (tests). */
    public List<Write> drainDirty(int max) {
        return drainDirty(max, now);
    }

    private Write take(Entry e, long nowMillis) {
        e.dirty = false;
        e.urgent = false;
        dirtyCount--;
        e.sent = true;
        e.sentMillis = nowMillis;
        e.inflight++;
        boolean full = e.full;
        e.full = false;
        List<String[]> calls = new ArrayList<>(1);
        ArrayList<String> ops = new ArrayList<>(16);
        int contribsInCall = 0;
        for (int i = 0; i < e.size; i++) {
            if (full || e.changed(i)) {
                ops.add(OP[e.kinds[i]]);
                ops.add(e.names[i]);
                ops.add(e.string(i));
                e.changed(i, false);
            }
        }
        for (Group g : new Group[]{e.newest, e.perBoot}) {
            if (g != null && g.stamp != null && (full || g.pending)) {
                ops.add(g == e.newest ? "G" : "B");
                ops.add(g.stampField);
                ops.add(g.stamp);
                ops.add(Integer.toString(g.fields.length));
                for (int i = 0; i < g.fields.length; i++) {
                    ops.add(g.fields[i]);
                    ops.add(g.values[i]);
                }
                g.pending = false;
            }
        }
        if (e.contribs != null) {
            Iterable<Contribution> which;
            if (full) {
                // whole: every contribution still within half the horizon (older ones are forgotten: a copy of
                // them sent after Redis pruned their marks would count them again)
                long keepFrom = nowMillis - horizonMillis / 2;
                e.contribs.values().removeIf(c -> c.updatedMillis < keepFrom && !c.pending);
                which = e.contribs.values();
            } else {
                which = e.pendingContribs;
            }
            for (Contribution c : which) {
                if (contribsInCall == MAX_CONTRIBUTIONS_PER_CALL
                        || ops.size() + 4 + 2 * c.fields.length > MAX_ARGS_PER_CALL) {
                    calls.add(ops.toArray(String[]::new));
                    ops.clear();
                    contribsInCall = 0;
                }
                ops.add("C");
                ops.add(c.who);
                ops.add(c.closed ? "1" : "0");
                int k = Math.min(c.fields.length, c.values.length);
                ops.add(Integer.toString(k));
                for (int i = 0; i < k; i++) {
                    ops.add(c.fields[i]);
                }
                for (int i = 0; i < k; i++) {
                    ops.add(Long.toString(c.values[i]));
                }
                contribsInCall++;
            }
            for (Contribution c : e.pendingContribs) {
                c.pending = false;
            }
            e.pendingContribs.clear();
        }
        // rates: once per window (the script moves the window only once it is over); they cost a third of a link's
        // write when sent with every one
        if (e.rates != null && (full || nowMillis - e.ratesSentMillis >= StateScript.RATE_WINDOW_MILLIS)) {
            e.ratesSentMillis = nowMillis;
            for (int i = 0; i < e.rates.length; i += 2) {
                ops.add("R");
                ops.add(e.rates[i]);
                ops.add(e.rates[i + 1]);
            }
        }
        if (!ops.isEmpty() || calls.isEmpty()) {
            calls.add(ops.toArray(String[]::new));
        }
        boolean hasMarks = e.contribs != null || e.rates != null;
        return new Write(e, e.dirtyGen, e.ttlSeconds, full, hasMarks, calls);
    }

    /** Redis (re)connected, maybe empty after a restart: every live key is written again, whole. */
    public void rewriteAll() {
        lock.lock();
        try {
            for (Entry e : keys.values()) {
                e.full = true;
                resend(e);
            }
        } finally {
            lock.unlock();
        }
    }

    // time: expiry and rate follow-ups

    /**
     * Once per tick: the keys whose rates are due one more write after their last change, and a slice of the copy
     * checked for expiry ({@link #expireStep}). Under the lock.
     */
    public int tick(long nowMillis) {
        now = nowMillis;
        Entry e;
        while ((e = rateQueue.peek()) != null && e.queuedTouchAt <= nowMillis) {
            rateQueue.poll();
            if (!e.live || e.rateTouches <= 0) {
                e.inRateQueue = false;
            } else if (e.touchAt > nowMillis) {
                e.queuedTouchAt = e.touchAt; // changed since it was queued: due later
                rateQueue.add(e);
            } else {
                e.rateTouches--;
                resend(e);
                if (e.rateTouches > 0) {
                    e.touchAt = nowMillis + StateScript.RATE_WINDOW_MILLIS + 100;
                    e.queuedTouchAt = e.touchAt;
                    rateQueue.add(e);
                } else {
                    e.inRateQueue = false;
                }
            }
        }
        return expireStep(nowMillis);
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
     * to a key whose EXPIRE is that old makes the key again, whole.
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
     * into its place and is checked at once), forgetting the expired ones: never a key with changes not yet written
     * or confirmed. Also forgets contributions held longer than half the horizon. Holds the lock.
     */
    private int scan(long nowMillis, int count) {
        int n = 0;
        int stepped = 0;
        long keepFrom = nowMillis - horizonMillis / 2;
        while (stepped < count && allSize > 0) {
            if (scanNext >= allSize) {
                scanNext = 0;
                if (stepped >= allSize) {
                    break; // wrapped after a whole pass
                }
            }
            Entry e = all[scanNext];
            // Redis counts the TTL from the last write; before any was sent, from the last operation
            long from = e.sent ? e.sentMillis : e.lastOpMillis;
            if (!e.dirty && e.inflight == 0 && nowMillis - from >= e.ttlSeconds * 1000) {
                forget(e); // the last key moved into this slot: check it next, do not step
                n++;
            } else {
                if (e.contribs != null && e.contribs.size() > 0) {
                    Iterator<Contribution> it = e.contribs.values().iterator();
                    while (it.hasNext()) {
                        Contribution c = it.next();
                        if (c.updatedMillis < keepFrom && !c.pending) {
                            it.remove();
                        }
                    }
                }
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
        int last = --allSize;
        Entry moved = all[last];
        all[e.slot] = moved;
        moved.slot = e.slot;
        all[last] = null;
    }

    // reads for modules

    @Override
    public void read(String key, Consumer<Map<String, String>> then) {
        if (readsWaiting.incrementAndGet() > MAX_READS) {
            readsWaiting.decrementAndGet();
            then.accept(null);
            return;
        }
        reads.add(new Read(key, then));
    }

    /** The reads modules asked for since the last call (the store thread sends them). */
    public List<Read> takeReads() {
        List<Read> out = new ArrayList<>();
        Read r;
        while ((r = reads.poll()) != null) {
            out.add(r);
        }
        return out;
    }

    /** A read was answered ({@code fields} null: it failed). Any thread. */
    public void answered(Read r, Map<String, String> fields) {
        r.result = fields;
        answered.add(r);
    }

    /** Runs the callbacks of the reads answered so far. Ingest thread, under the lock. */
    public int deliverReads() {
        int n = 0;
        Read r;
        while ((r = answered.poll()) != null) {
            readsWaiting.decrementAndGet();
            r.then.accept(r.result);
            n++;
        }
        return n;
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

    /** New keys refused because the copy was full (or the key had braces). */
    public long refused() {
        return refused;
    }

    public long expiredLocally() {
        return expiredLocally;
    }
}
