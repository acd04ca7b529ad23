package org.glouglou.protocol.transport;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.NavigableMap;
import java.util.TreeMap;
import org.glouglou.protocol.Payload;
import org.glouglou.protocol.internal.InternalEvents.Ack;
import org.glouglou.protocol.internal.InternalEvents.SeqRanges;

/**
 * The sender's copy of every payload not yet acknowledged durable (spec 5.8): kept in the order first sent, found by
 * any sequence number it was sent under, sent again when no acknowledgement of either kind came within the resend
 * timeout and on every new session, given up after the horizon, bounded. Transport-free: the caller seals and sends
 * and tells the times. Thread-safe (the uplink's send and receive threads share it).
 *
 * <p>Memory: at most {@code capacity} payloads of at most a datagram each (2048 x 1158 bytes of records = 2.3 MiB at
 * the defaults), plus an entry and up to {@link #TRACKED_SENDS} sequence numbers each (about 0.5 KiB a payload in the
 * worst case, 1 MiB; one or two sequence numbers, under 0.2 KiB, in the usual case).
 */
public final class ResendBuffer {
    /**
     * @param capacity         payloads kept at most: 2048, about 2.4 MiB of 1200-byte datagrams and 20 s of a busy
     *                         probe's traffic at 100 datagrams/s, long enough to ride out a receiver restart
     * @param horizonMillis    a payload first sent longer ago is given up: 60 s, far within the 10 minutes the
     *                         receivers keep the marks of closed flows, so no copy older than that ever arrives
     * @param minTimeoutMillis the resend timeout is never shorter: 1 s, two PONGs (the acknowledgements ride on
     *                         them every 500 ms)
     * @param maxTimeoutMillis nor longer: 4 s, so a lost datagram is resent well before the probe's 2 s failover
     *                         repeats twice
     */
    public record Config(int capacity, long horizonMillis, long minTimeoutMillis, long maxTimeoutMillis) {
        public Config {
            if (capacity < 1 || horizonMillis < 1 || minTimeoutMillis < 1 || maxTimeoutMillis < minTimeoutMillis) {
                throw new IllegalArgumentException("resend buffer: capacity " + capacity + ", horizon " + horizonMillis
                        + " ms, timeout " + minTimeoutMillis + ".." + maxTimeoutMillis + " ms");
            }
        }

        public static Config defaults() {
            return new Config(DEFAULT_CAPACITY, 60_000, 1_000, 4_000);
        }

        public Config withCapacity(int n) {
            return new Config(n, horizonMillis, minTimeoutMillis, maxTimeoutMillis);
        }
    }

    /** 2048 payloads: see {@link Config}. */
    public static final int DEFAULT_CAPACITY = 2048;

    /**
     * Sequence numbers remembered per payload: its last 8 sends. An acknowledgement naming an older one is taken for
     * nothing, which costs one more resend at worst; 8 sends are at least 8 s of resending, while the receiver names
     * every durable number of its last 1024 in every ACK.
     */
    static final int TRACKED_SENDS = 8;

    /**
     * Acknowledgement delays are remembered as the longest of each second, for the last 30 s ("recent"): by time, not
     * by count, so that the slow ones count however many fast ones follow. A burst's first datagrams are acknowledged
     * at once (16 waiting), its last ones on the next PONG, up to a PING interval later at each hop (about 1.1 s
     * through one relay, 1.6 s through two); a memory of the last few samples would hold only the fast ones after a
     * burst and resend the tail of the next.
     */
    static final int DELAY_SECONDS = 30;

    /** One payload kept, and its sends. */
    public static final class Entry {
        private final Payload payload;
        private final long firstSentMillis;
        private final long[] seqs = new long[TRACKED_SENDS];
        private int sends;
        private long lastSeq;
        private long lastSentMillis;
        /** The last send was acknowledged received: no timeout resend while its receiver keeps the session. */
        private boolean received;
        /** The last send's acknowledgement delay was sampled. */
        private boolean sampled;
        /** To be sent again at the next chance, whatever the timeout (a new session). */
        private boolean due;

        private Entry(Payload payload, long nowMillis) {
            this.payload = payload;
            this.firstSentMillis = nowMillis;
        }

        public Payload payload() {
            return payload;
        }
    }

    private final Config config;
    private final LinkedHashSet<Entry> order = new LinkedHashSet<>();
    private final TreeMap<Long, Entry> bySeq = new TreeMap<>();
    /** Per second (ring): the second it holds, and its longest delay. */
    private final long[] delaySecond = new long[DELAY_SECONDS];
    private final long[] delayMax = new long[DELAY_SECONDS];
    private long newestSecond = -1;
    private long lastAckMillis = -1;
    private long resent;
    private long acked;
    private long expiredPayloads;
    private long expiredEvents;
    private long droppedPayloads;
    private long droppedEvents;

    public ResendBuffer(Config config) {
        this.config = config;
    }

    public Config config() {
        return config;
    }

    /** Payloads kept: sent, not yet acknowledged durable, not given up. */
    public synchronized int size() {
        return order.size();
    }

    public synchronized boolean isEmpty() {
        return order.isEmpty();
    }

    public synchronized boolean full() {
        return order.size() >= config.capacity();
    }

    /**
     * Keeps a payload just sent under {@code seq}. When full, the oldest payload is given up first and counted as
     * dropped (a live capture; a capture file waits for room instead, {@link #full()}).
     */
    public synchronized void sent(Payload p, long seq, long nowMillis) {
        while (order.size() >= config.capacity()) {
            Entry oldest = order.iterator().next();
            remove(oldest);
            droppedPayloads++;
            droppedEvents += oldest.payload.events();
        }
        Entry e = new Entry(p, nowMillis);
        order.add(e);
        track(e, seq, nowMillis);
    }

    /** Records that {@code e} was sent again under {@code seq}. */
    public synchronized void resent(Entry e, long seq, long nowMillis) {
        if (!order.contains(e)) {
            return; // acknowledged or given up while it was being sent: the copy is harmless
        }
        resent++;
        track(e, seq, nowMillis);
    }

    private void track(Entry e, long seq, long nowMillis) {
        int slot = e.sends % TRACKED_SENDS;
        if (e.sends >= TRACKED_SENDS) {
            bySeq.remove(e.seqs[slot]);
        }
        e.seqs[slot] = seq;
        e.sends++;
        e.lastSeq = seq;
        e.lastSentMillis = nowMillis;
        e.received = false;
        e.sampled = false;
        e.due = false;
        bySeq.put(seq, e);
    }

    private void remove(Entry e) {
        order.remove(e);
        for (int i = 0; i < Math.min(e.sends, TRACKED_SENDS); i++) {
            bySeq.remove(e.seqs[i]);
        }
    }

    /**
     * An acknowledgement from a receiver: durable ones forget the payloads sent under any of the numbers, received ones
     * stop the timeout of the payloads whose last send they name. The first acknowledgement of a send is a delay
     * sample for the timeout. Numbers that name nothing kept (repeats, other senders' numbers) are ignored.
     */
    public synchronized void acknowledged(Ack ack, long nowMillis) {
        SeqRanges r = ack.ranges();
        List<Entry> named = new ArrayList<>();
        List<Long> seqs = new ArrayList<>();
        for (int i = 0; i < r.count(); i++) {
            NavigableMap<Long, Entry> in = bySeq.subMap(r.first(i), true, r.last(i), true);
            for (var m : in.entrySet()) {
                named.add(m.getValue());
                seqs.add(m.getKey());
            }
        }
        for (int i = 0; i < named.size(); i++) {
            Entry e = named.get(i);
            long seq = seqs.get(i);
            if (seq == e.lastSeq && !e.sampled) {
                e.sampled = true;
                sample(nowMillis, nowMillis - e.lastSentMillis);
            }
            if (ack.kind() == Ack.DURABLE) {
                if (order.contains(e)) {
                    remove(e);
                    acked++;
                    lastAckMillis = nowMillis;
                }
            } else if (seq == e.lastSeq) {
                e.received = true;
            }
        }
    }

    /**
     * A new session (failover, handshake again, rekey): every payload kept is due at once, oldest first, and what the
     * previous receiver said it received no longer stops a timeout.
     */
    public synchronized void newSession() {
        for (Entry e : order) {
            e.due = true;
            e.received = false;
        }
    }

    private void sample(long nowMillis, long delay) {
        long second = Math.floorDiv(nowMillis, 1000);
        int i = (int) Math.floorMod(second, (long) DELAY_SECONDS);
        if (delaySecond[i] != second) {
            delaySecond[i] = second;
            delayMax[i] = 0;
        }
        delayMax[i] = Math.max(delayMax[i], delay);
        newestSecond = Math.max(newestSecond, second);
    }

    /**
     * Twice the longest recent acknowledgement delay (of the {@value #DELAY_SECONDS} seconds up to the newest
     * acknowledgement), within the configured bounds; the upper bound before any acknowledgement.
     */
    public synchronized long timeoutMillis() {
        if (newestSecond < 0) {
            return config.maxTimeoutMillis();
        }
        long longest = 0;
        for (int i = 0; i < DELAY_SECONDS; i++) {
            if (newestSecond - delaySecond[i] < DELAY_SECONDS) {
                longest = Math.max(longest, delayMax[i]);
            }
        }
        return Math.max(config.minTimeoutMillis(), Math.min(config.maxTimeoutMillis(), 2 * longest));
    }

    /**
     * Gives up the payloads first sent more than the horizon ago (counted), then returns, oldest first, the ones to
     * send again now: due since a new session, or with no acknowledgement of either kind within the timeout. The
     * caller seals each under a new number and reports it with {@link #resent}.
     */
    public synchronized List<Entry> due(long nowMillis) {
        Iterator<Entry> it = order.iterator();
        while (it.hasNext()) {
            Entry e = it.next();
            if (nowMillis - e.firstSentMillis <= config.horizonMillis()) {
                break; // first-sent order: the rest are younger
            }
            it.remove();
            for (int i = 0; i < Math.min(e.sends, TRACKED_SENDS); i++) {
                bySeq.remove(e.seqs[i]);
            }
            expiredPayloads++;
            expiredEvents += e.payload.events();
        }
        long timeout = timeoutMillis();
        List<Entry> out = new ArrayList<>(0);
        for (Entry e : order) {
            if (e.due || !e.received && nowMillis - e.lastSentMillis >= timeout) {
                out.add(e);
            }
        }
        return out;
    }

    /** When the last durable acknowledgement that forgot a payload arrived, or -1 if none yet. */
    public synchronized long lastAckMillis() {
        return lastAckMillis;
    }

    /** Payloads sent again (timeout or new session): STATS {@code resent_datagrams}. */
    public synchronized long resent() {
        return resent;
    }

    /** Payloads acknowledged durable and forgotten. */
    public synchronized long acked() {
        return acked;
    }

    public synchronized long expiredPayloads() {
        return expiredPayloads;
    }

    /** Events given up at the horizon: STATS {@code resend_expired_events}. */
    public synchronized long expiredEvents() {
        return expiredEvents;
    }

    public synchronized long droppedPayloads() {
        return droppedPayloads;
    }

    /** Events given up because the buffer was full: STATS {@code resend_dropped_events}. */
    public synchronized long droppedEvents() {
        return droppedEvents;
    }

    /** Sequence numbers remembered now (for the memory bound's test). */
    synchronized int trackedSequences() {
        return bySeq.size();
    }
}
