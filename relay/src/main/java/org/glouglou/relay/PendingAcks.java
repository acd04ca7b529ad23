package org.glouglou.relay;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.glouglou.protocol.internal.InternalEvents.Ack;
import org.glouglou.protocol.internal.InternalEvents.ForwardAck;
import org.glouglou.protocol.internal.InternalEvents.SeqRanges;
import org.glouglou.spi.Event;

/**
 * The acknowledgements from upstream waiting to go down one session (spec 5.6): per origin and kind, the union of the
 * ranges received since the last send, so that several FORWARD_ACKs become one event. Those of the session's own
 * sender (its probe id and boot) leave as ACK, those of the origins behind it (a downstream relay, or a probe with a
 * relay beside it) as FORWARD_ACK. Receive thread only.
 */
final class PendingAcks {
    /** Ranges of sequence numbers, merged; first -> last. */
    private static final class RangeSet {
        final TreeMap<Long, Long> ranges = new TreeMap<>();

        void add(SeqRanges r) {
            for (int i = 0; i < r.count(); i++) {
                long first = r.first(i);
                long last = r.last(i);
                // merge with every range that overlaps or touches [first, last]
                Map.Entry<Long, Long> below = ranges.floorEntry(first);
                if (below != null && below.getValue() >= first - 1) {
                    first = below.getKey();
                    last = Math.max(last, below.getValue());
                    ranges.remove(below.getKey());
                }
                for (Iterator<Map.Entry<Long, Long>> it = ranges.tailMap(first, true).entrySet().iterator(); it
                        .hasNext();) {
                    Map.Entry<Long, Long> e = it.next();
                    if (e.getKey() > last + 1) {
                        break;
                    }
                    last = Math.max(last, e.getValue());
                    it.remove();
                }
                ranges.put(first, last);
            }
        }

        /** Numbers above {@code high}. */
        long countAbove(long high) {
            long n = 0;
            for (Map.Entry<Long, Long> e : ranges.descendingMap().entrySet()) {
                if (e.getValue() <= high) {
                    break;
                }
                n += e.getValue() - Math.max(e.getKey(), high + 1) + 1;
            }
            return n;
        }

        long max() {
            return ranges.isEmpty() ? 0 : ranges.lastEntry().getValue();
        }

        /** As SeqRanges: the newest {@link SeqRanges#MAX_RANGES}, which an ACK can carry. */
        SeqRanges toRanges() {
            List<long[]> l = new ArrayList<>();
            for (Map.Entry<Long, Long> e : ranges.descendingMap().entrySet()) {
                if (l.size() == SeqRanges.MAX_RANGES) {
                    break;
                }
                l.add(new long[]{e.getKey(), e.getValue()});
            }
            long[] b = new long[2 * l.size()];
            for (int i = 0; i < l.size(); i++) {
                long[] r = l.get(l.size() - 1 - i);
                b[2 * i] = r[0];
                b[2 * i + 1] = r[1];
            }
            return new SeqRanges(b);
        }

        int count() {
            return Math.min(ranges.size(), SeqRanges.MAX_RANGES);
        }
    }

    private final ForwardBuffer.Origin self;
    /** Per origin: {durable, received}. */
    private final Map<ForwardBuffer.Origin, RangeSet[]> waiting = new LinkedHashMap<>();
    /** Per origin: the highest durable number passed on, so that repeats are not counted as new. */
    private final Map<ForwardBuffer.Origin, Long> passed = new HashMap<>();

    /** @param self the session's own sender: its acknowledgements are ACKs */
    PendingAcks(ForwardBuffer.Origin self) {
        this.self = self;
    }

    void add(ForwardBuffer.Origin o, int kind, SeqRanges r) {
        RangeSet[] sets = waiting.computeIfAbsent(o, k -> new RangeSet[2]);
        int i = kind == Ack.DURABLE ? 0 : 1;
        if (sets[i] == null) {
            sets[i] = new RangeSet();
        }
        sets[i].add(r);
    }

    boolean isEmpty() {
        return waiting.isEmpty();
    }

    /** Durable numbers waiting that were not passed on before. */
    long newDurable() {
        long n = 0;
        for (Map.Entry<ForwardBuffer.Origin, RangeSet[]> e : waiting.entrySet()) {
            if (e.getValue()[0] != null) {
                n += e.getValue()[0].countAbove(passed.getOrDefault(e.getKey(), 0L));
            }
        }
        return n;
    }

    /**
     * Takes acknowledgements as events, origin by origin, up to about {@code budget} bytes on the wire; what does not
     * fit waits for the next datagram.
     */
    List<Event> take(int budget) {
        List<Event> out = new ArrayList<>();
        int used = 0;
        for (Iterator<Map.Entry<ForwardBuffer.Origin, RangeSet[]>> it = waiting.entrySet().iterator(); it.hasNext();) {
            Map.Entry<ForwardBuffer.Origin, RangeSet[]> e = it.next();
            ForwardBuffer.Origin o = e.getKey();
            boolean direct = o.equals(self);
            RangeSet[] sets = e.getValue();
            // an upper bound: record header share, origin, kind, count, 20 bytes a range
            int size = 0;
            for (RangeSet s : sets) {
                size += s == null ? 0 : 3 + (direct ? 0 : 12) + 2 + 20 * s.count();
            }
            if (used + size > budget && !out.isEmpty()) {
                break;
            }
            used += size;
            for (int k = 0; k < 2; k++) {
                if (sets[k] == null) {
                    continue;
                }
                int kind = k == 0 ? Ack.DURABLE : Ack.RECEIVED;
                SeqRanges r = sets[k].toRanges();
                out.add(direct ? new Ack(kind, r) : new ForwardAck(o.probe(), o.boot(), kind, r));
                if (k == 0) {
                    passed.merge(o, sets[k].max(), Math::max);
                }
            }
            it.remove();
        }
        return out;
    }
}
