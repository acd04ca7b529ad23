package org.glouglou.server.store;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * Issue 4: the in-flight bound follows Redis's pace, so a slow Redis never holds a pipeline deep enough for commands
 * to time out (each timeout cost an exception and a rewrite: most of the server's CPU in the ingest benchmark).
 */
class RedisStoreInflightTest {
    static final long MS = 1_000_000;

    @Test
    void slowBatchesHalveTheBoundFastOnesGrowItWithinLimits() {
        long cap = 20_000;
        cap = RedisStore.nextInflightCap(cap, 1_500 * MS, 200_000);
        assertEquals(10_000, cap, "a batch slower than 1 s halves it");
        for (int i = 0; i < 20; i++) {
            cap = RedisStore.nextInflightCap(cap, 5_000 * MS, 200_000);
        }
        assertEquals(RedisStore.MIN_INFLIGHT, cap, "never below the floor");
        assertEquals(cap, RedisStore.nextInflightCap(cap, 500 * MS, 200_000), "between 250 ms and 1 s: kept");
        cap = RedisStore.nextInflightCap(cap, 10 * MS, 200_000);
        assertEquals(RedisStore.MIN_INFLIGHT + RedisStore.MIN_INFLIGHT / 8, cap, "a fast batch adds an eighth");
        for (int i = 0; i < 200; i++) {
            cap = RedisStore.nextInflightCap(cap, 10 * MS, 200_000);
        }
        assertEquals(200_000, cap, "never above the configured maximum");
        assertEquals(1_000, RedisStore.nextInflightCap(1_000, 5_000 * MS, 1_000), "a maximum below the floor holds");
    }
}
