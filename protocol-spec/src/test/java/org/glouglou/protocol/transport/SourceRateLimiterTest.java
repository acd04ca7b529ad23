package org.glouglou.protocol.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

/** Issue 4: per-source token bucket; a noisy source is cut, the others are not; the table is bounded. */
class SourceRateLimiterTest {
    static InetAddress ip(int i) throws Exception {
        return InetAddress.getByAddress(new byte[]{10, 0, (byte) (i >> 8), (byte) i});
    }

    @Test
    void burstThenRate() throws Exception {
        SourceRateLimiter l = new SourceRateLimiter(100, 10, 16);
        int ok = 0;
        for (int i = 0; i < 50; i++) {
            ok += l.tryAcquire(ip(1), 0) ? 1 : 0;
        }
        assertEquals(10, ok, "the burst, then nothing at the same instant");
        assertFalse(l.tryAcquire(ip(1), 5_000_000)); // 5 ms: half a token
        assertTrue(l.tryAcquire(ip(1), 10_000_000)); // 10 ms: one token at 100/s
        assertFalse(l.tryAcquire(ip(1), 10_000_000));
    }

    @Test
    void noisySourceDoesNotStarveAnother() throws Exception {
        SourceRateLimiter l = new SourceRateLimiter(1000, 100, 16);
        long t = 0;
        int quietOk = 0;
        for (int ms = 0; ms < 1000; ms++) {
            t = ms * 1_000_000L;
            for (int k = 0; k < 50; k++) {
                l.tryAcquire(ip(1), t); // 50,000/s flood
            }
            if (ms % 10 == 0) {
                quietOk += l.tryAcquire(ip(2), t) ? 1 : 0; // 100/s
            }
        }
        assertEquals(100, quietOk, "every datagram of the quiet source passed");
    }

    @Test
    void tableIsBounded() throws Exception {
        SourceRateLimiter l = new SourceRateLimiter(1, 1, 8);
        for (int i = 0; i < 100; i++) {
            l.tryAcquire(ip(i), 0);
        }
        assertEquals(8, l.size());
        assertEquals(92, l.evicted());
    }
}
