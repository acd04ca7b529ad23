package org.glouglou.protocol;

import static org.junit.jupiter.api.Assertions.*;

import java.util.BitSet;
import java.util.Random;
import org.glouglou.protocol.crypto.ReplayWindow;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The anti-replay window against a plain reference model over seeded random arrival orders. */
class ReplayWindowTest {
    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4, 5, 6, 7, 8})
    void matchesReferenceModel(int seed) {
        Random r = new Random(seed);
        ReplayWindow w = new ReplayWindow();
        BitSet seen = new BitSet();
        long highest = 0;
        long accepted = 0;
        long lowest = Long.MAX_VALUE;
        long next = 1 + r.nextInt(5000); // a session starts anywhere in its sender's boot
        for (int i = 0; i < 20_000; i++) {
            long seq = switch (r.nextInt(5)) {
                case 0 -> Math.max(1, next - r.nextInt(1500)); // late or replayed
                case 1 -> next + r.nextInt(3000); // a jump ahead (loss)
                default -> next;
            };
            boolean expected = seq > 0 && !seen.get((int) seq) && (seq > highest
                    || highest - seq < ProtocolConstants.REPLAY_WINDOW);
            assertEquals(expected, w.check(seq), "seq " + seq + " highest " + highest);
            if (expected) {
                w.update(seq);
                seen.set((int) seq);
                highest = Math.max(highest, seq);
                lowest = Math.min(lowest, seq);
                accepted++;
            }
            next = Math.max(next, seq + 1);
        }
        assertEquals(highest, w.highest());
        assertEquals(highest - (lowest - 1) - accepted, w.lost(), "gaps count from the lowest number accepted");
    }

    @ParameterizedTest
    @ValueSource(longs = {0, -1, Long.MIN_VALUE})
    void refusesNonPositive(long seq) {
        assertFalse(new ReplayWindow().check(seq));
    }
}
