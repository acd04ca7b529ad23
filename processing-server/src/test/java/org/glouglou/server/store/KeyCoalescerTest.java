package org.glouglou.server.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.glouglou.spi.server.KeyHandle;
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
    void onlyChangedFieldsAreWrittenBetweenWholeWrites() {
        KeyCoalescer c = new KeyCoalescer(100, 60);
        c.now(1000);
        c.hset("gg:conn:1", "proto", "tcp");
        c.hset("gg:conn:1", "src_pkts", 1);
        c.hset("gg:conn:1", "dst_pkts", 1);
        KeyCoalescer.Write first = c.drainDirty(10).get(0);
        assertTrue(first.full());
        assertEquals(Map.of("proto", "tcp", "src_pkts", "1", "dst_pkts", "1"), first.fields());
        c.now(2000);
        c.hset("gg:conn:1", "proto", "tcp"); // same value: nothing to write
        c.hset("gg:conn:1", "dst_pkts", 1);
        assertTrue(c.drainDirty(10).isEmpty(), "an unchanged key is not written");
        c.hincrBy("gg:conn:1", "src_pkts", 4);
        KeyCoalescer.Write w = c.drainDirty(10).get(0);
        assertFalse(w.full());
        assertEquals(Map.of("src_pkts", "5"), w.fields(), "absolute value of the changed field only");
        c.now(16_000); // a quarter of the TTL: EXPIRE again, with the whole key
        c.hset("gg:conn:1", "dst_pkts", 1);
        KeyCoalescer.Write refresh = c.drainDirty(10).get(0);
        assertEquals(60, refresh.ttlSeconds());
        assertEquals(3, refresh.fieldCount(), "an unchanged key living on gets its EXPIRE and is rewritten whole");
        c.rewrite("gg:conn:1");
        assertEquals(3, c.drainDirty(10).get(0).fieldCount(), "after a failure the whole key");
    }

    @Test
    void budgetTakesNewAndClosingKeysFirstThenOldestDirtied() {
        KeyCoalescer c = new KeyCoalescer(100, 60);
        c.now(0);
        for (int i = 0; i < 5; i++) {
            c.hset("old" + i, "f", 0);
        }
        c.drainDirty(100);
        c.now(1000);
        // updates dirtied in this order: old3, old1, old4, old0, old2
        for (int i : new int[]{3, 1, 4, 0, 2}) {
            c.hincrBy("old" + i, "f", 1);
        }
        c.hset("new0", "f", 1); // appears
        c.expire("old2", 10); // closes: a shorter TTL
        c.hincrBy("old3", "f", 1); // changes again: keeps its place, coalesces
        assertEquals(7 - 1, c.dirtyCount());
        assertEquals(List.of("new0", "old2", "old3"), keys(c.drainDirty(3)), "new and closing first");
        assertEquals(List.of("old1"), keys(c.drainDirty(1)));
        assertEquals(List.of("old4", "old0"), keys(c.drainDirty(10)));
        assertEquals(0, c.dirtyCount());
    }

    @Test
    void deferredKeysKeepCoalescingAndAreNeverLost() {
        KeyCoalescer c = new KeyCoalescer(1000, 60);
        c.now(0);
        for (int round = 1; round <= 10; round++) {
            for (int i = 0; i < 100; i++) {
                c.hincrBy("k" + i, "n", 1);
            }
            // a budget of 30 keys per tick for 100 changed keys
            for (KeyCoalescer.Write w : c.drainDirty(30)) {
                assertTrue(Long.parseLong(w.fields().get("n")) <= round);
            }
            assertEquals(70, c.dirtyCount(), "the rest wait, one entry per key whatever the changes");
        }
        java.util.Map<String, String> last = new java.util.HashMap<>();
        List<KeyCoalescer.Write> w;
        while (!(w = c.drainDirty(30)).isEmpty()) {
            w.forEach(x -> last.put(x.key(), x.fields().get("n")));
        }
        assertEquals(70, last.size());
        assertTrue(last.values().stream().allMatch("10"::equals), "every deferred key ends at its exact total");
    }

    @Test
    void wideKeysAndFieldsThatSwitchBetweenTextAndNumber() {
        KeyCoalescer c = new KeyCoalescer(10, 60);
        for (int i = 0; i < 100; i++) {
            c.hset("gg:node:x", "seen." + i, i);
        }
        c.hset("gg:node:x", "name", "a.example");
        assertEquals(101, c.drainDirty(1).get(0).fieldCount());
        c.hmax("gg:node:x", "seen.80", 1000);
        c.hmax("gg:node:x", "seen.3", 1); // smaller: no change
        c.hset("gg:node:x", "seen.5", "text");
        assertEquals(Map.of("seen.80", "1000", "seen.5", "text"), c.drainDirty(1).get(0).fields());
        c.hset("gg:node:x", "seen.5", 7);
        assertEquals(Map.of("seen.5", "7"), c.drainDirty(1).get(0).fields());
        assertEquals(7L, c.get("gg:node:x", "seen.5"));
        assertEquals("a.example", c.get("gg:node:x", "name"));
        assertEquals(101, c.fieldCount("gg:node:x"));
    }

    private static List<String> keys(List<KeyCoalescer.Write> w) {
        return w.stream().map(KeyCoalescer.Write::key).toList();
    }

    @Test
    void flagsAreMergedNeverRemoved() {
        assertEquals("Khx", RedisStore.mergeFlags("", "Khx"));
        assertEquals("AKE", RedisStore.mergeFlags("AKE", "Khx"));
        assertEquals("Exg" + "Kh", RedisStore.mergeFlags("Exg", "Khx"));
    }

    // handles (issue 4: a module keeps its busy keys' handles instead of naming the keys on every event)

    @Test
    void handleWritesTheSameCopyAsTheKeyText() {
        KeyCoalescer c = new KeyCoalescer(100, 60);
        c.now(1000);
        KeyHandle h = c.handle("gg:link:a|b");
        assertFalse(h.exists(), "making a handle creates nothing");
        assertEquals(0, c.size());
        h.hincrBy("pkts_ab", 2);
        c.hincrBy("gg:link:a|b", "pkts_ab", 3);
        assertEquals(10, h.hincrBy("pkts_ab", 5));
        h.hsetIfAbsent("first_seen", 7);
        h.hsetIfAbsent("first_seen", 9);
        h.hmax("last_seen", 20);
        h.hmax("last_seen", 10);
        h.hset("a", "10.0.0.1");
        h.expire(30);
        assertTrue(h.exists());
        assertEquals(4, h.fieldCount());
        assertEquals(1, c.size());
        List<KeyCoalescer.Write> w = c.drainDirty(10);
        assertEquals(1, w.size());
        assertEquals(Map.of("pkts_ab", "10", "first_seen", "7", "last_seen", "20", "a", "10.0.0.1"), w.get(0).fields());
        assertEquals(30, w.get(0).ttlSeconds());
        assertSame(c, h.writer());
        assertEquals("gg:link:a|b", h.key());
    }

    @Test
    void handleUsedAfterItsKeyExpiredCreatesTheKeyAgainAndTheWriteLands() {
        KeyCoalescer c = new KeyCoalescer(100, 60);
        c.now(1000);
        KeyHandle h = c.handle("gg:conn:1:2:3");
        h.hset("src_pkts", 5);
        h.expire(10);
        c.drainDirty(10);
        assertEquals(1, c.expireIdle(11_000), "gone 10 s after its EXPIRE, as in Redis");
        assertFalse(h.exists(), "a stale handle sees the key gone");
        assertEquals(0, h.fieldCount());
        assertEquals(0, c.size());
        c.now(12_000);
        h.hset("src_pkts", 6);
        assertTrue(h.exists());
        assertEquals(1, c.size());
        assertEquals(6L, c.get("gg:conn:1:2:3", "src_pkts"), "the write landed in the key's new copy");
        List<KeyCoalescer.Write> w = c.drainDirty(10);
        assertEquals(1, w.size(), "the new key is written");
        assertTrue(w.get(0).full());
        assertEquals(60, w.get(0).ttlSeconds(), "with an EXPIRE (the default TTL until the module sets one)");
        assertEquals(Map.of("src_pkts", "6"), w.get(0).fields(),
                "whole, without the fields that went with the old copy");
    }

    @Test
    void staleHandleAndKeyTextShareTheOneNewCopy() {
        KeyCoalescer c = new KeyCoalescer(100, 60);
        c.now(1000);
        KeyHandle h = c.handle("k");
        h.hincrBy("n", 1);
        c.drainDirty(10);
        c.expireIdle(1000 + 61_000);
        c.hincrBy("k", "n", 10); // made again by text while the handle still holds the dead copy
        assertEquals(11, h.hincrBy("n", 1), "the handle re-resolves to the live copy, not its dead one");
        assertEquals(1, c.size());
        assertEquals(11L, c.get("k", "n"));
        c.expireIdle(1000 + 61_000 + 61_000);
        h.hincrBy("n", 2); // made again by the handle
        assertEquals(2, c.hincrBy("k", "n", 0), "the text sees the copy the handle made");
    }

    @Test
    void handleOnAFullCopyIsRefusedUntilThereIsRoom() {
        KeyCoalescer c = new KeyCoalescer(1, 10);
        c.now(1000);
        c.hset("other", "f", 1);
        KeyHandle h = c.handle("k");
        h.hset("f", 1);
        assertFalse(h.exists());
        assertEquals(1, c.refused());
        c.drainDirty(10);
        c.expireIdle(1000 + 10_000);
        h.hset("f", 2);
        assertTrue(h.exists());
        assertEquals(2L, c.get("k", "f"));
    }

    @Test
    void expiryStepsThroughTheCopyASliceAtATimeAndMissesNoKey() {
        KeyCoalescer c = new KeyCoalescer(100_000, 60);
        c.now(0);
        for (int i = 0; i < 10_000; i++) {
            c.hset("k" + i, "f", i);
            c.expire("k" + i, i % 2 == 0 ? 10 : 100); // half go at 10 s, half live on
        }
        c.drainDirty(100_000);
        for (long t = 0; t < 10_000; t += 100) {
            assertEquals(0, c.expireStep(t), "nothing due yet at " + t);
        }
        int gone = c.expireStep(10_000);
        assertTrue(gone > 0 && gone <= 2_500, "one tick checks about a tenth of the copy, not all of it: " + gone);
        for (long t = 10_100; t <= 11_000; t += 100) {
            gone += c.expireStep(t);
        }
        assertEquals(5_000, gone, "within a second every expired key is found");
        assertEquals(5_000, c.size());
        for (int i = 0; i < 10_000; i++) {
            assertEquals(i % 2 != 0, c.exists("k" + i), "k" + i);
        }
        KeyHandle h = c.handle("k1");
        h.hset("f", -1); // the keys that moved in the scan's table are still the live copies
        assertEquals(-1L, c.get("k1", "f"));
        c.hset("k0", "f", 0); // and a forgotten key comes back as a new one
        assertEquals(5_001, c.size());
        assertEquals(0, c.expireStep(11_100));
    }
}
