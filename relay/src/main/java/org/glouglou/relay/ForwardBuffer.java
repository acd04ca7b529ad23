package org.glouglou.relay;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.ToIntFunction;
import org.glouglou.protocol.internal.InternalEvents.Forward;
import org.glouglou.protocol.internal.InternalEvents.SeqRanges;

/**
 * The origin payloads a relay forwarded and the upstream has not yet acknowledged durable (spec 5.6), as the FORWARD
 * parts that carried them, keyed by origin probe, boot and sequence number. Sent all again, in the order first
 * forwarded, on every new upstream session; never on a timeout (the origin resends end to end). Bounded: the oldest
 * go first, counted; and given up after the resend horizon, as the origin itself does. Thread-safe: the listener
 * thread adds, the uplink's threads acknowledge and resend.
 *
 * <p>Memory: at most {@code capacity} origin payloads of at most one probe datagram each (4096 x about 1.2 KiB = 5 MiB
 * at the relay's default --queue), plus about 150 bytes of keys and maps each.
 */
final class ForwardBuffer {
    /**
     * 60 s, the origins' own resend horizon (spec 5.8): an origin has given its payload up by then, and no copy older
     * than that may reach a receiver, which keeps the marks of closed flows for 10 minutes.
     */
    static final long HORIZON_MILLIS = 60_000;

    record Origin(long probe, long boot) {
    }

    private record Key(long probe, long boot, long sequence) {
    }

    private static final class Entry {
        final Key key;
        final List<Forward> parts;
        final long keptAtMillis;

        Entry(Key key, List<Forward> parts, long keptAtMillis) {
            this.key = key;
            this.parts = parts;
            this.keptAtMillis = keptAtMillis;
        }
    }

    private final int capacity;
    private final long horizonMillis;
    private final ToIntFunction<Forward> eventsOf;
    private final LinkedHashMap<Key, Entry> order = new LinkedHashMap<>();
    private final Map<Origin, TreeMap<Long, Entry>> byOrigin = new HashMap<>();
    private long acked;
    private long droppedPayloads;
    private long droppedEvents;
    private long expiredEvents;
    private long resentParts;

    /** @param eventsOf how many origin events a part carries (counted only for the payloads given up) */
    ForwardBuffer(int capacity, long horizonMillis, ToIntFunction<Forward> eventsOf) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity " + capacity);
        }
        this.capacity = capacity;
        this.horizonMillis = horizonMillis;
        this.eventsOf = eventsOf;
    }

    /**
     * Keeps the parts of one origin payload just forwarded. The same origin payload again (a downstream relay resending
     * on its new session, or its next part) adds the parts not kept yet. When full, the oldest payload is given up and
     * counted; what is older than the horizon goes first.
     */
    synchronized void keep(long probe, long boot, long sequence, List<Forward> parts, long nowMillis) {
        expire(nowMillis);
        Key k = new Key(probe, boot, sequence);
        Entry old = order.get(k);
        if (old != null) {
            for (Forward f : parts) {
                if (!old.parts.contains(f)) {
                    old.parts.add(f); // another part of a payload a downstream relay split; a repeat adds nothing
                }
            }
            return;
        }
        while (order.size() >= capacity) {
            Entry oldest = order.values().iterator().next();
            remove(oldest);
            droppedPayloads++;
            droppedEvents += events(oldest);
        }
        Entry e = new Entry(k, new ArrayList<>(parts), nowMillis);
        order.put(k, e);
        byOrigin.computeIfAbsent(new Origin(probe, boot), o -> new TreeMap<>()).put(sequence, e);
    }

    /** An upstream queue had no room for this part: the payload was never sent, the origin will send it again. */
    synchronized void forget(long probe, long boot, long sequence) {
        Entry e = order.get(new Key(probe, boot, sequence));
        if (e != null) {
            remove(e);
        }
    }

    /** A durable FORWARD_ACK: forgets every payload of the origin it names. Returns how many were forgotten. */
    synchronized int durable(long probe, long boot, SeqRanges ranges) {
        TreeMap<Long, Entry> m = byOrigin.get(new Origin(probe, boot));
        if (m == null) {
            return 0;
        }
        List<Entry> named = new ArrayList<>();
        for (int i = 0; i < ranges.count(); i++) {
            named.addAll(m.subMap(ranges.first(i), true, ranges.last(i), true).values());
        }
        for (Entry e : named) {
            remove(e);
        }
        acked += named.size();
        return named.size();
    }

    /**
     * Every part kept, in the order forwarded, to send again on a new upstream session; the payloads kept longer than
     * the horizon are given up first (counted).
     */
    synchronized List<Forward> resend(long nowMillis) {
        expire(nowMillis);
        List<Forward> out = new ArrayList<>();
        for (Entry e : order.values()) {
            out.addAll(e.parts);
        }
        resentParts += out.size();
        return out;
    }

    /**
     * Gives up what was kept longer than the horizon (counted as expired, not dropped: a payload never acknowledged,
     * its FORWARD lost upstream say, was sent again by its origin under a new number long before).
     */
    private void expire(long nowMillis) {
        Iterator<Entry> it = order.values().iterator();
        while (it.hasNext()) {
            Entry e = it.next();
            if (nowMillis - e.keptAtMillis <= horizonMillis) {
                break; // kept in order: the rest are younger
            }
            it.remove();
            removeFromOrigin(e);
            expiredEvents += events(e);
        }
    }

    private long events(Entry e) {
        long n = 0;
        for (Forward f : e.parts) {
            n += eventsOf.applyAsInt(f);
        }
        return n;
    }

    private void remove(Entry e) {
        order.remove(e.key);
        removeFromOrigin(e);
    }

    private void removeFromOrigin(Entry e) {
        Origin o = new Origin(e.key.probe(), e.key.boot());
        TreeMap<Long, Entry> m = byOrigin.get(o);
        if (m != null) {
            m.remove(e.key.sequence());
            if (m.isEmpty()) {
                byOrigin.remove(o);
            }
        }
    }

    /** Origin payloads kept now. */
    synchronized int size() {
        return order.size();
    }

    synchronized long acked() {
        return acked;
    }

    synchronized long droppedPayloads() {
        return droppedPayloads;
    }

    synchronized long droppedEvents() {
        return droppedEvents;
    }

    synchronized long expiredEvents() {
        return expiredEvents;
    }

    synchronized long resentParts() {
        return resentParts;
    }
}
