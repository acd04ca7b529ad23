package org.glouglou.relay;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.glouglou.protocol.internal.InternalEvents.Forward;
import org.glouglou.protocol.internal.InternalEvents.SeqRanges;
import org.junit.jupiter.api.Test;

/**
 * The relay's kept FORWARDs (spec 5.6): forgotten when durable, the parts of one origin payload kept together (a
 * repeat adds nothing), the oldest given up when full (dropped) and past the horizon (expired), the rest given back
 * in the order forwarded.
 */
class ForwardBufferTest {
    /** Each part counts as many events as its records' first byte says. */
    final ForwardBuffer b = new ForwardBuffer(3, 60_000, f -> f.records().length == 0 ? 0 : f.records()[0]);

    static Forward part(long probe, long seq, int events, int part) {
        return new Forward(probe, 99, seq, 0, new long[]{101}, new byte[]{(byte) events, (byte) part});
    }

    @Test
    void durableForgetsAndTheRestComesBackInOrder() {
        b.keep(7, 99, 1, List.of(part(7, 1, 1, 0)), 0);
        b.keep(8, 99, 1, List.of(part(8, 1, 1, 0)), 1);
        b.keep(7, 99, 2, List.of(part(7, 2, 1, 0)), 2);
        assertEquals(2, b.durable(7, 99, SeqRanges.of(1, 5)));
        assertEquals(0, b.durable(7, 98, SeqRanges.of(1, 5)), "another boot: nothing of it kept");
        assertEquals(List.of(part(8, 1, 1, 0)), b.resend(3));
        assertEquals(1, b.resentParts());
    }

    @Test
    void thePartsOfOnePayloadStayTogetherAndARepeatAddsNothing() {
        b.keep(7, 99, 1, List.of(part(7, 1, 1, 0)), 0);
        b.keep(7, 99, 1, List.of(part(7, 1, 1, 1)), 1); // the next part, split by a downstream relay
        b.keep(7, 99, 1, List.of(part(7, 1, 1, 0)), 2); // the downstream relay's resend
        b.keep(7, 99, 2, List.of(part(7, 2, 1, 0)), 3);
        assertEquals(2, b.size());
        assertEquals(List.of(part(7, 1, 1, 0), part(7, 1, 1, 1), part(7, 2, 1, 0)), b.resend(4));
    }

    @Test
    void theOldestAreDroppedWhenFullAndExpiredPastTheHorizon() {
        for (int s = 1; s <= 4; s++) {
            b.keep(7, 99, s, List.of(part(7, s, 5, 0)), s);
        }
        assertEquals(3, b.size());
        assertEquals(1, b.droppedPayloads());
        assertEquals(5, b.droppedEvents());
        b.keep(7, 99, 5, List.of(part(7, 5, 2, 0)), 60_004); // 2 and 3 are past the horizon: expired, not dropped
        assertEquals(1, b.droppedPayloads());
        assertEquals(10, b.expiredEvents());
        assertEquals(List.of(4L, 5L), b.resend(60_004).stream().map(Forward::originSequence).toList());
        b.forget(7, 99, 4); // never sent: the upstream queue had no room
        assertEquals(1, b.size());
        assertEquals(1, b.durable(7, 99, SeqRanges.of(4, 5)), "only 5: 4 was forgotten already");
    }
}
