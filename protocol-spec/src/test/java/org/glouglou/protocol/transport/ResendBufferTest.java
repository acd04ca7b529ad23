package org.glouglou.protocol.transport;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.Set;
import org.glouglou.protocol.Payload;
import org.glouglou.protocol.internal.InternalEvents.Ack;
import org.glouglou.protocol.internal.InternalEvents.SeqRanges;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The resend buffer against a model of the path and the receiver (spec 5.8): over seeded random losses both ways,
 * slow and lost acknowledgements, new sessions and a full buffer, every payload ends either acknowledged durable by the
 * receiver or counted as given up, never silently lost, and the buffer stays within its bounds.
 */
class ResendBufferTest {
    /** A payload whose base time is its id, so the model can tell them apart. */
    static Payload payload(long id) {
        return new Payload(id, new byte[0], 1 + (int) (id % 5));
    }

    static Ack ack(int kind, long... seqs) {
        List<Long> l = new ArrayList<>();
        for (long s : seqs) {
            l.add(s);
        }
        return new Ack(kind, ranges(l));
    }

    /** Ascending, disjoint ranges over the sorted distinct numbers (at most 32: the newest kept). */
    static SeqRanges ranges(List<Long> seqs) {
        List<Long> s = new ArrayList<>(new java.util.TreeSet<>(seqs));
        List<long[]> r = new ArrayList<>();
        for (long x : s) {
            if (!r.isEmpty() && r.get(r.size() - 1)[1] + 1 == x) {
                r.get(r.size() - 1)[1] = x;
            } else {
                r.add(new long[]{x, x});
            }
        }
        List<long[]> kept = r.subList(Math.max(0, r.size() - SeqRanges.MAX_RANGES), r.size());
        long[] b = new long[2 * kept.size()];
        for (int i = 0; i < kept.size(); i++) {
            b[2 * i] = kept.get(i)[0];
            b[2 * i + 1] = kept.get(i)[1];
        }
        return new SeqRanges(b);
    }

    @Test
    void durableForgetsReceivedStopsTheTimeoutAndANewSessionResendsAllOldestFirst() {
        ResendBuffer b = new ResendBuffer(new ResendBuffer.Config(8, 60_000, 1_000, 4_000));
        for (int i = 1; i <= 4; i++) {
            b.sent(payload(i), i, 0);
        }
        assertEquals(4_000, b.timeoutMillis(), "no delay measured yet: the longest timeout");
        b.acknowledged(ack(Ack.DURABLE, 2), 300);
        b.acknowledged(ack(Ack.RECEIVED, 3), 200);
        assertEquals(3, b.size());
        assertEquals(1_000, b.timeoutMillis(), "2 x 300 ms, at least 1 s");
        assertEquals(List.of(), b.due(999));
        List<ResendBuffer.Entry> due = b.due(1_000);
        assertEquals(List.of(1L, 4L), due.stream().map(e -> e.payload().baseTimeMicros()).toList(),
                "no acknowledgement within the timeout; 3 was received");
        for (int i = 0; i < due.size(); i++) {
            b.resent(due.get(i), 5 + i, 1_000);
        }
        assertEquals(2, b.resent());
        b.acknowledged(ack(Ack.DURABLE, 1), 1_100); // the first send of payload 1 arrived after all: forgotten
        assertEquals(2, b.size());
        b.newSession();
        assertEquals(List.of(3L, 4L), b.due(1_100).stream().map(e -> e.payload().baseTimeMicros()).toList(),
                "a new session sends everything again at once, the received one too, oldest first");
        b.acknowledged(ack(Ack.DURABLE, 6), 1_200); // payload 4's resend
        b.acknowledged(ack(Ack.DURABLE, 6, 2, 1), 1_300); // repeats name nothing kept
        assertEquals(1, b.size());
        assertEquals(3, b.acked());
    }

    @Test
    void theTimeoutIsTwiceTheLongestRecentDelayWithinOneToFourSeconds() {
        ResendBuffer b = new ResendBuffer(ResendBuffer.Config.defaults());
        long seq = 0;
        for (int i = 0; i < 20; i++) {
            b.sent(payload(i), ++seq, i * 10_000L);
            b.acknowledged(ack(Ack.DURABLE, seq), i * 10_000L + (i == 3 ? 1_500 : 700));
        }
        assertEquals(1_400, b.timeoutMillis(), "the 1.5 s delay is more than 30 s old");
        b.sent(payload(99), ++seq, 199_000);
        b.acknowledged(ack(Ack.DURABLE, seq), 199_900);
        for (int i = 0; i < 1000; i++) {
            b.sent(payload(i), ++seq, 200_000 + i);
            b.acknowledged(ack(Ack.DURABLE, seq), 200_000 + i + 100);
        }
        assertEquals(1_800, b.timeoutMillis(), "a slow acknowledgement of the last 30 s counts, however many fast"
                + " ones followed it");
        b.sent(payload(99), ++seq, 300_000);
        b.acknowledged(ack(Ack.RECEIVED, seq), 303_000);
        assertEquals(4_000, b.timeoutMillis(), "2 x 3 s, at most 4 s");
    }

    @Test
    void aFullBufferGivesTheOldestUpAndTheHorizonTheStaleOnes() {
        ResendBuffer b = new ResendBuffer(new ResendBuffer.Config(3, 60_000, 1_000, 4_000));
        for (int i = 1; i <= 5; i++) {
            b.sent(payload(i), i, i);
        }
        assertEquals(3, b.size());
        assertEquals(2, b.droppedPayloads());
        assertEquals(payload(1).events() + payload(2).events(), b.droppedEvents());
        assertTrue(b.full());
        b.due(60_003); // payload 3 was first sent at 3 ms: exactly the horizon, kept
        assertEquals(3, b.size());
        b.due(60_004);
        assertEquals(2, b.size());
        assertEquals(1, b.expiredPayloads());
        assertEquals(payload(3).events(), b.expiredEvents());
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4, 5, 6, 7, 8})
    void everyPayloadIsAcknowledgedOrCountedAsGivenUp(int seed) {
        Random r = new Random(seed);
        boolean live = seed % 2 == 0;
        int capacity = 8 + r.nextInt(60);
        ResendBuffer b = new ResendBuffer(new ResendBuffer.Config(capacity, 20_000, 1_000, 4_000));
        double lossUp = r.nextDouble() * 0.3;
        double lossDown = r.nextDouble() * 0.3;
        // the payloads the receiver made durable (any of their sends arrived)
        Set<Long> durableAtReceiver = new HashSet<>();
        Map<Long, Integer> events = new HashMap<>();
        // acknowledgements on their way: {arrival time, kind, seq}
        PriorityQueue<long[]> acks = new PriorityQueue<>((x, y) -> Long.compare(x[0], y[0]));
        long seq = 0;
        long next = 1;
        long now = 0;
        int created = 20_000 / 10; // new payloads for the first 20 s, then the buffer drains
        while (now < 120_000) {
            now += 1 + r.nextInt(20);
            // the receiver's answers arrive; some are lost, the rest in any order of kinds
            while (!acks.isEmpty() && acks.peek()[0] <= now) {
                long[] a = acks.poll();
                b.acknowledged(ack((int) a[1], a[2]), now);
            }
            for (ResendBuffer.Entry e : b.due(now)) {
                long s = ++seq;
                b.resent(e, s, now);
                if (transmit(r, s, now, lossUp, lossDown, acks)) {
                    durableAtReceiver.add(e.payload().baseTimeMicros());
                }
            }
            if (next <= created && (live || !b.full())) {
                long id = next++;
                long s = ++seq;
                events.put(id, payload(id).events());
                b.sent(payload(id), s, now);
                if (transmit(r, s, now, lossUp, lossDown, acks)) {
                    durableAtReceiver.add(id);
                }
            }
            if (r.nextInt(3000) == 0) {
                b.newSession(); // a failover: the next receiver gets everything again
            }
            // the bounds hold at every step
            assertTrue(b.size() <= capacity, "at most " + capacity + " payloads: " + b.size());
            assertTrue(b.trackedSequences() <= capacity * ResendBuffer.TRACKED_SENDS, "sequence numbers bounded");
        }
        assertEquals(0, b.size(), "with no new payloads and a lossy but working path, everything ends");
        long givenUpEvents = 0;
        long durable = 0;
        for (long id = 1; id < next; id++) {
            if (durableAtReceiver.contains(id)) {
                durable++;
            } else {
                givenUpEvents += events.get(id);
            }
        }
        long payloads = next - 1;
        assertEquals(payloads, b.acked() + b.expiredPayloads() + b.droppedPayloads(),
                "every payload acknowledged durable or given up and counted");
        assertTrue(b.acked() <= durable, "only what the receiver made durable is forgotten as durable");
        assertTrue(givenUpEvents <= b.expiredEvents() + b.droppedEvents(),
                "a payload the receiver never made durable was counted as given up: " + givenUpEvents + " events vs "
                        + (b.expiredEvents() + b.droppedEvents()));
        if (!live) {
            assertEquals(0, b.droppedPayloads(), "a capture file waits for room, it never drops");
        }
        assertTrue(b.resent() > 0, "losses made resends");
    }

    /**
     * One send: lost on the way up (false), or taken by the receiver, which makes it durable and answers after 50-400
     * ms (sometimes received first, the store being slow); each answer may be lost on the way down.
     */
    private static boolean transmit(Random r, long seq, long now, double lossUp, double lossDown,
            PriorityQueue<long[]> acks) {
        if (r.nextDouble() < lossUp) {
            return false;
        }
        if (r.nextInt(5) == 0 && r.nextDouble() >= lossDown) {
            acks.add(new long[]{now + 500 + r.nextInt(200), Ack.RECEIVED, seq});
        }
        // durable numbers are repeated in later ACKs while in the window: two chances
        for (int i = 0; i < 2; i++) {
            if (r.nextDouble() >= lossDown) {
                acks.add(new long[]{now + 50 + r.nextInt(350) + i * 500, Ack.DURABLE, seq});
            }
        }
        return true;
    }
}
