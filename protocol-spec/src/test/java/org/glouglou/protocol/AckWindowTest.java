package org.glouglou.protocol;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Random;
import java.util.TreeMap;
import org.glouglou.protocol.internal.InternalEvents.Ack;
import org.glouglou.protocol.internal.InternalEvents.SeqRanges;
import org.glouglou.protocol.session.AckWindow;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The acknowledgement window against a plain model: what ACKs say over seeded random arrivals and durabilities. */
class AckWindowTest {
    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4, 5, 6})
    void acksExactlyTheDurableAndTheSlowOnes(int seed) {
        Random r = new Random(seed);
        AckWindow w = new AckWindow();
        // model: seq -> {acceptedAt, durable 0/1}
        TreeMap<Long, long[]> model = new TreeMap<>();
        long next = 1 + r.nextInt(100_000);
        long now = 0;
        for (int i = 0; i < 5_000; i++) {
            now += r.nextInt(20);
            long seq = r.nextInt(10) == 0 ? next + r.nextInt(40) : next;
            next = Math.max(next, seq + 1);
            w.accepted(seq, now);
            model.putIfAbsent(seq, new long[]{now, 0});
            if (r.nextInt(3) > 0) {
                // durable in random order among the recent ones
                Long d = model.floorKey(next - 1 - r.nextInt(60));
                if (d != null && model.get(d)[1] == 0) {
                    w.durable(d);
                    model.get(d)[1] = 1;
                }
            }
            if (r.nextInt(25) == 0) {
                check(w, model, now);
            }
        }
        check(w, model, now);
    }

    private static void check(AckWindow w, TreeMap<Long, long[]> model, long now) {
        long highest = model.lastKey();
        long lowest = highest - ProtocolConstants.REPLAY_WINDOW + 1;
        Ack d = w.durableAck();
        Ack rc = w.receivedAck(now - 500);
        for (long s = Math.max(1, lowest); s <= highest; s++) {
            long[] m = model.get(s);
            boolean isDurable = m != null && m[1] == 1;
            boolean isSlow = m != null && m[1] == 0 && m[0] <= now - 500;
            // at most 32 ranges, newest kept: a number below the oldest range may be left out, never misreported
            if (d != null && s >= d.ranges().first(0)) {
                assertEquals(isDurable, d.ranges().contains(s), "durable " + s);
            } else {
                assertTrue(d == null || !isDurable || d.ranges().count() == SeqRanges.MAX_RANGES, "durable " + s);
            }
            if (rc != null && s >= rc.ranges().first(0)) {
                assertEquals(isSlow, rc.ranges().contains(s), "received " + s);
            } else {
                assertTrue(rc == null || !isSlow || rc.ranges().count() == SeqRanges.MAX_RANGES, "received " + s);
            }
        }
        assertEquals(0, w.unsent(), "taking the durable ACK marks it sent");
    }

    @Test
    void contiguousDurableIsOneRangeAndCountsUnsent() {
        AckWindow w = new AckWindow();
        for (long s = 5000; s < 5040; s++) {
            w.accepted(s, 0);
            w.durable(s);
        }
        w.durable(5000); // twice: counted once
        assertEquals(40, w.unsent());
        assertEquals(new Ack(Ack.DURABLE, SeqRanges.of(5000, 5039)), w.durableAck());
        assertNull(w.receivedAck(1000), "nothing waits");
        w.accepted(5040, 10);
        assertNull(w.receivedAck(5), "accepted after the cut: not slow yet");
        assertEquals(new Ack(Ack.RECEIVED, SeqRanges.of(5040, 5040)), w.receivedAck(10));
        w.durable(9999); // never accepted: ignored
        assertEquals(0, w.unsent());
    }
}
