package org.glouglou.server.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Issue 4: one write per changed key per tick, absolute values, bounded, local expiry, rewrite after failure. */
class KeyCoalescerTest {
    @Test
    void manyEventsOnOneKeyBecomeOneWriteOfItsAbsoluteState() {
        KeyCoalescer c = new KeyCoalescer(100, 60);
        c.now(1000);
        for (int i = 0; i < 1000; i++) {
            c.hincrBy("gg:link:a|b", "pkts_ab", 2);
            c.hmax("gg:link:a|b", "last_seen", i);
            c.hsetIfAbsent("gg:link:a|b", "first_seen", i);
        }
        c.expire("gg:link:a|b", 30);
        List<KeyCoalescer.Write> w = c.drainDirty(10);
        assertEquals(1, w.size());
        assertEquals(Map.of("pkts_ab", "2000", "last_seen", "999", "first_seen", "0"), w.get(0).fields());
        assertEquals(30, w.get(0).ttlSeconds());
        assertTrue(c.drainDirty(10).isEmpty(), "clean after the drain");
        c.hincrBy("gg:link:a|b", "pkts_ab", 1);
        assertEquals("2001", c.drainDirty(10).get(0).fields().get("pkts_ab"), "absolute, never a delta");
    }

    @Test
    void expireIsSentFirstThenOnlyEveryQuarterTtl() {
        KeyCoalescer c = new KeyCoalescer(100, 60);
        c.now(1000);
        c.hset("k", "f", 1);
        c.expire("k", 40);
        assertEquals(40, c.drainDirty(10).get(0).ttlSeconds());
        c.now(2000);
        c.hset("k", "f", 2);
        assertEquals(0, c.drainDirty(10).get(0).ttlSeconds(), "fresh EXPIRE still holds");
        c.now(11_000);
        c.hset("k", "f", 3);
        assertEquals(40, c.drainDirty(10).get(0).ttlSeconds(), "refreshed after a quarter of the TTL");
        c.expire("k", 5);
        assertEquals(5, c.drainDirty(10).get(0).ttlSeconds(), "a changed TTL is sent at once");
        assertEquals(0, c.expireIdle(15_999));
        assertEquals(1, c.expireIdle(16_000), "gone when Redis drops it: 5 s after the last EXPIRE");
    }

    @Test
    void fullCopyRefusesNewKeysAndCountsThem() {
        KeyCoalescer c = new KeyCoalescer(2, 60);
        c.hset("k1", "f", 1);
        c.hset("k2", "f", 1);
        c.hset("k3", "f", 1);
        assertEquals(2, c.size());
        assertEquals(1, c.refused());
        assertFalse(c.exists("k3"));
        c.hset("k1", "g", 2); // existing keys still take writes
        assertEquals(2L, c.get("k1", "g"));
    }

    @Test
    void drainIsBoundedAndTheRestWaits() {
        KeyCoalescer c = new KeyCoalescer(100, 60);
        for (int i = 0; i < 10; i++) {
            c.hset("k" + i, "f", i);
        }
        assertEquals(4, c.drainDirty(4).size());
        assertEquals(6, c.dirtyCount());
        assertEquals(6, c.drainDirty(100).size());
    }

    @Test
    void failedKeysAndReconnectsRewriteWholeKeys() {
        KeyCoalescer c = new KeyCoalescer(100, 60);
        c.hset("a", "f", 1);
        c.hset("b", "f", 2);
        c.drainDirty(100);
        c.rewrite("a");
        c.rewrite("gone"); // a key that expired meanwhile is not resurrected
        assertEquals(List.of("a"), c.drainDirty(100).stream().map(KeyCoalescer.Write::key).toList());
        c.rewriteAll();
        assertEquals(2, c.drainDirty(100).size());
        assertFalse(c.exists("gone"));
    }

    @Test
    void keysExpireLocallyAfterTheirTtlAsInRedis() {
        KeyCoalescer c = new KeyCoalescer(100, 60);
        c.now(0);
        c.hset("short", "f", 1);
        c.expire("short", 10);
        c.hset("long", "f", 1);
        c.drainDirty(100);
        assertEquals(0, c.expireIdle(9_999));
        assertEquals(1, c.expireIdle(10_000));
        assertFalse(c.exists("short"));
        assertTrue(c.exists("long"));
        c.hincrBy("short", "f", 5);
        assertEquals(5L, c.get("short", "f"), "an expired counter starts again, as the Redis key did");
    }

    @Test
    void keyExpiredAfterChangingIsNotWritten() {
        KeyCoalescer c = new KeyCoalescer(100, 60);
        c.now(0);
        c.hset("k", "f", 1);
        c.expire("k", 1);
        c.expireIdle(5000);
        assertTrue(c.drainDirty(100).isEmpty());
    }

    @Test
    void flagsAreMergedNeverRemoved() {
        assertEquals("Khx", RedisStore.mergeFlags("", "Khx"));
        assertEquals("AKE", RedisStore.mergeFlags("AKE", "Khx"));
        assertEquals("Exg" + "Kh", RedisStore.mergeFlags("Exg", "Khx"));
    }
}
