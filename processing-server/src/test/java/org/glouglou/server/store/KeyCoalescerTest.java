package org.glouglou.server.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.glouglou.spi.server.KeyHandle;
import org.junit.jupiter.api.Test;

/**
 * The buffer of merge operations: one write per changed key per tick with the operations coalesced, bounded, local
 * expiry, failed writes sent again whole, and the durable watermark (docs/architecture.txt 6.2, 6.3).
 */
class KeyCoalescerTest {
    static final String[] F = {"pkts", "bytes"};
    static final long HORIZON = 600_000;

    static KeyCoalescer coalescer(int maxKeys, long ttl) {
        return new KeyCoalescer(maxKeys, ttl, HORIZON);
    }

    private static List<String> keys(List<KeyCoalescer.Write> w) {
        return w.stream().map(KeyCoalescer.Write::key).toList();
    }

    /** Confirms (or fails) every write as Redis would answer, and applies the answers. */
    static void answer(KeyCoalescer c, List<KeyCoalescer.Write> writes, boolean ok) {
        for (KeyCoalescer.Write w : writes) {
            for (int i = 0; i < w.calls(); i++) {
                c.done(w, ok);
            }
        }
        c.confirm();
    }

    /** The one write due, answered. */
    static KeyCoalescer.Write drainOne(KeyCoalescer c) {
        List<KeyCoalescer.Write> w = c.drainDirty(10);
        assertEquals(1, w.size());
        answer(c, w, true);
        return w.get(0);
    }

    @Test
    void manyOperationsOnOneKeyBecomeOneWriteOfTheirMerge() {
        KeyCoalescer c = coalescer(100, 60);
        c.now(1000);
        for (int i = 0; i < 1000; i++) {
            c.contribute("gg:link:a|b", "7:1:1", F, new long[]{i, 10L * i}, false);
            c.contribute("gg:link:a|b", "7:1:1", F, new long[]{i / 2, 0}, false); // overtaken: changes nothing
            c.hmax("gg:link:a|b", "last_seen", i);
            c.hmin("gg:link:a|b", "first_seen", 1000 - i);
        }
        c.expire("gg:link:a|b", 30);
        List<KeyCoalescer.Write> w = c.drainDirty(10);
        assertEquals(1, w.size());
        assertEquals(List.of("X", "last_seen", "999", "M", "first_seen", "1", "C", "7:1:1", "0", "2", "pkts", "bytes",
                "999", "9990"), w.get(0).ops(), "the merged operations, in one script call");
        assertEquals(30, w.get(0).ttlSeconds());
        assertArrayEquals(new String[]{"gg:link:a|b", "gg:mark:{gg:link:a|b}", "gg:closed:{gg:link:a|b}"}, w.get(0)
                .keys(), "one Cluster slot: the key is its companions' hash tag");
        assertEquals(List.of("30", "600000", "2000", "1"), List.of(w.get(0).args(0, HORIZON)).subList(0, 4),
                "TTL, horizon, rate window, marks");
        assertTrue(c.drainDirty(10).isEmpty(), "clean after the drain");
        c.contribute("gg:link:a|b", "7:1:1", F, new long[]{1000, 1}, true);
        assertEquals(List.of("C", "7:1:1", "1", "2", "pkts", "bytes", "1000", "9990"), c.drainDirty(10).get(0).ops(),
                "the contributor's largest cumulative values, closed");
    }

    @Test
    void everyWriteCarriesTheTtlAndAChangedTtlIsUrgent() {
        KeyCoalescer c = coalescer(100, 60);
        c.now(1000);
        c.hset("k", "f", 1);
        c.expire("k", 40);
        assertEquals(40, drainOne(c).ttlSeconds());
        c.now(2000);
        c.hset("k", "f", 2);
        assertEquals(40, drainOne(c).ttlSeconds(), "every script call sets the TTL");
        c.now(2500);
        c.hset("k", "f", 2); // unchanged
        assertTrue(c.drainDirty(10).isEmpty(), "an unchanged key is not written");
        c.now(12_000);
        c.hset("k", "f", 2); // unchanged, but its TTL needs refreshing: a quarter of it has passed
        assertEquals(List.of(), drainOne(c).ops(), "a refresh: the TTL only");
        c.expire("k", 5);
        assertEquals(1, c.urgentQueued());
        assertEquals(5, drainOne(c).ttlSeconds(), "a changed TTL is sent at once");
        assertEquals(0, c.expireIdle(16_999));
        assertEquals(1, c.expireIdle(17_000), "gone when Redis drops it: 5 s after the last write");
    }

    @Test
    void fullCopyRefusesNewKeysAndKeysWithBraces() {
        KeyCoalescer c = coalescer(3, 60);
        c.hset("k1", "f", 1);
        c.hset("k{2}", "f", 1);
        c.hset("k2", "f", 1);
        c.hset("k3", "f", 1);
        c.hset("k4", "f", 1);
        assertEquals(3, c.size());
        assertEquals(2, c.refused());
        assertFalse(c.exists("k4"));
        assertFalse(c.exists("k{2}"), "a brace would change the key's Cluster slot against its companions'");
        c.hset("k1", "g", 2); // existing keys still take writes
        assertEquals(2L, c.get("k1", "g"));
    }

    @Test
    void drainIsBoundedAndTheRestWaits() {
        KeyCoalescer c = coalescer(100, 60);
        for (int i = 0; i < 10; i++) {
            c.hset("k" + i, "f", i);
        }
        assertEquals(4, c.drainDirty(4).size());
        assertEquals(6, c.dirtyCount());
        assertEquals(6, c.drainDirty(100).size());
    }

    @Test
    void failedWritesAreSentAgainWholeAndAReconnectionSendsEverything() {
        KeyCoalescer c = coalescer(100, 60);
        c.hset("a", "f", 1);
        c.hset("b", "f", 2);
        answer(c, c.drainDirty(100), true);
        c.hset("a", "g", 3);
        List<KeyCoalescer.Write> w = c.drainDirty(100);
        assertEquals(Map.of("g", "3"), w.get(0).fields());
        answer(c, w, false);
        assertEquals(1, c.failedWrites());
        List<KeyCoalescer.Write> again = c.drainDirty(100);
        assertEquals(List.of("a"), keys(again));
        assertTrue(again.get(0).full());
        assertEquals(Map.of("f", "1", "g", "3"), again.get(0).fields(), "whole: everything it holds");
        answer(c, again, true);
        c.rewriteAll();
        assertEquals(2, c.drainDirty(100).size());
    }

    @Test
    void keysExpireLocallyAfterTheirTtlAsInRedisButNeverWithUnconfirmedChanges() {
        KeyCoalescer c = coalescer(100, 60);
        c.now(0);
        c.hset("short", "f", 1);
        c.expire("short", 10);
        c.hset("long", "f", 1);
        c.hset("pending", "f", 1);
        c.expire("pending", 10);
        List<KeyCoalescer.Write> w = c.drainDirty(100);
        answer(c, w.stream().filter(x -> !x.key().equals("pending")).toList(), true);
        assertEquals(0, c.expireIdle(9_999));
        assertEquals(1, c.expireIdle(10_000), "short goes; pending waits for its write's answer");
        assertFalse(c.exists("short"));
        assertTrue(c.exists("long"));
        assertTrue(c.exists("pending"));
        answer(c, w.stream().filter(x -> x.key().equals("pending")).toList(), true);
        assertEquals(1, c.expireIdle(10_000));
        c.contribute("short", "x", F, new long[]{5, 50}, false);
        assertArrayEquals(new long[]{5, 50}, c.contribution("short", "x"), "an expired key starts again");
    }

    @Test
    void onlyChangedFieldsAreWrittenBetweenWholeWrites() {
        KeyCoalescer c = coalescer(100, 60);
        c.now(1000);
        c.hset("gg:conn:1", "proto", "tcp");
        c.hmax("gg:conn:1", "src_pkts", 1);
        c.hsetIfAbsent("gg:conn:1", "state", "open");
        KeyCoalescer.Write first = c.drainDirty(10).get(0);
        assertTrue(first.full());
        assertEquals(List.of("S", "proto", "tcp", "X", "src_pkts", "1", "N", "state", "open"), first.ops());
        c.now(2000);
        c.hset("gg:conn:1", "proto", "tcp"); // same value: nothing to write
        c.hmax("gg:conn:1", "src_pkts", 0);
        c.hsetIfAbsent("gg:conn:1", "state", "open");
        assertTrue(c.drainDirty(10).isEmpty(), "an unchanged key is not written");
        c.hmax("gg:conn:1", "src_pkts", 5);
        c.hset("gg:conn:1", "state", "closed");
        KeyCoalescer.Write w = c.drainDirty(10).get(0);
        assertFalse(w.full());
        assertEquals(List.of("X", "src_pkts", "5", "S", "state", "closed"), w.ops(), "the changed fields only");
        c.rewriteAll();
        assertEquals(3, c.drainDirty(10).get(0).fields().size(), "after a reconnection, everything");
    }

    @Test
    void budgetTakesNewAndClosingKeysFirstThenOldestDirtied() {
        KeyCoalescer c = coalescer(100, 60);
        c.now(0);
        for (int i = 0; i < 5; i++) {
            c.hset("old" + i, "f", 0);
        }
        answer(c, c.drainDirty(100), true);
        c.now(1000);
        // updates dirtied in this order: old3, old1, old4, old0, old2
        for (int i : new int[]{3, 1, 4, 0, 2}) {
            c.hmax("old" + i, "f", 1);
        }
        c.hset("new0", "f", 1); // appears
        c.expire("old2", 10); // closes: a shorter TTL
        c.hmax("old3", "f", 2); // changes again: keeps its place, coalesces
        assertEquals(7 - 1, c.dirtyCount());
        assertEquals(List.of("new0", "old2", "old3"), keys(c.drainDirty(3)), "new and closing first");
        assertEquals(List.of("old1"), keys(c.drainDirty(1)));
        assertEquals(List.of("old4", "old0"), keys(c.drainDirty(10)));
        assertEquals(0, c.dirtyCount());
    }

    @Test
    void deferredKeysKeepCoalescingAndAreNeverLost() {
        KeyCoalescer c = coalescer(1000, 60);
        c.now(0);
        java.util.Map<String, String> last = new java.util.HashMap<>();
        for (int round = 1; round <= 10; round++) {
            for (int i = 0; i < 100; i++) {
                c.contribute("k" + i, "flow", new String[]{"n"}, new long[]{round}, false);
            }
            // a budget of 30 keys per tick for 100 changed keys
            List<KeyCoalescer.Write> w = c.drainDirty(30);
            w.forEach(x -> last.put(x.key(), x.ops().get(x.ops().size() - 1)));
            answer(c, w, true);
            assertEquals(70, c.dirtyCount(), "the rest wait, one entry per key whatever the changes");
        }
        List<KeyCoalescer.Write> w;
        while (!(w = c.drainDirty(30)).isEmpty()) {
            w.forEach(x -> last.put(x.key(), x.ops().get(x.ops().size() - 1)));
        }
        assertEquals(100, last.size());
        assertTrue(last.values().stream().allMatch("10"::equals), "every deferred key ends at its latest value");
    }

    @Test
    void wideKeysAndFieldsThatSwitchBetweenTextAndNumber() {
        KeyCoalescer c = coalescer(10, 60);
        for (int i = 0; i < 100; i++) {
            c.hmax("gg:node:x", "seen." + i, i);
        }
        c.hset("gg:node:x", "name", "a.example");
        assertEquals(101, c.drainDirty(1).get(0).fields().size());
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

    @Test
    void flagsAreMergedNeverRemoved() {
        assertEquals("Khx", RedisStore.mergeFlags("", "Khx"));
        assertEquals("AKE", RedisStore.mergeFlags("AKE", "Khx"));
        assertEquals("Exg" + "Kh", RedisStore.mergeFlags("Exg", "Khx"));
    }

    // the durable watermark: what the probes may forget

    @Test
    void watermarkWaitsForEveryWriteMadeUpToAGenerationToBeConfirmed() {
        KeyCoalescer c = coalescer(100, 60);
        long g1 = c.nextGeneration();
        c.hmax("a", "f", 1);
        c.hmax("b", "f", 1);
        long g2 = c.nextGeneration();
        c.hmax("b", "f", 2); // b is dirty already: its oldest change is g1's
        c.hmax("c", "f", 2);
        assertEquals(g1 - 1, c.watermark(), "nothing confirmed yet");
        List<KeyCoalescer.Write> w = c.drainDirty(100);
        assertEquals(3, w.size());
        assertEquals(g1 - 1, c.watermark(), "sent is not confirmed");
        long g3 = c.nextGeneration();
        c.hmax("a", "f", 3); // a changes while its write is in flight
        answer(c, w, true);
        assertEquals(g2, c.watermark(), "g1 and g2 confirmed; a's new change (g3) is not");
        assertEquals(1, c.unconfirmedCount());
        List<KeyCoalescer.Write> w3 = c.drainDirty(100);
        answer(c, w3, false);
        assertEquals(g2, c.watermark(), "a failed write holds its generation");
        assertEquals(List.of("a"), keys(c.drainDirty(100).stream().peek(x -> answer(c, List.of(x), true))
                .toList()));
        assertEquals(g3, c.watermark(), "the retry confirmed it");
        assertEquals(0, c.unconfirmedCount());
    }

    @Test
    void resendsHoldNoGenerationBack() {
        KeyCoalescer c = coalescer(100, 60);
        c.now(0);
        c.nextGeneration();
        c.hmax("a", "f", 1);
        answer(c, c.drainDirty(100), true);
        long g = c.nextGeneration();
        c.rewriteAll(); // Redis reconnected: sent again, nothing new in it
        c.now(20_000);
        c.hmax("a", "f", 0); // a refresh of its TTL only
        assertEquals(g, c.watermark(), "nothing unconfirmed: a copy of confirmed state holds nothing back");
        c.hmax("a", "f", 5); // a real change joins the queued resend
        assertEquals(g - 1, c.watermark());
        answer(c, c.drainDirty(100), true);
        assertEquals(g, c.watermark());
    }

    // contributions held to send again, rates, probe status groups

    @Test
    void contributionsAreSentAgainWholeForHalfTheHorizonOnly() {
        KeyCoalescer c = coalescer(100, 3600);
        c.now(0);
        c.contribute("l", "old", F, new long[]{1, 10}, true);
        c.contribute("l", "open", F, new long[]{2, 20}, false);
        answer(c, c.drainDirty(10), true);
        c.now(HORIZON / 2 - 1);
        c.contribute("l", "open", F, new long[]{3, 30}, false);
        answer(c, c.drainDirty(10), true);
        c.now(HORIZON / 2 + 1);
        c.rewriteAll();
        List<String> ops = c.drainDirty(10, HORIZON / 2 + 1).get(0).ops();
        assertEquals(List.of("C", "open", "0", "2", "pkts", "bytes", "3", "30"), ops,
                "a contributor not updated for half the horizon is forgotten: a copy sent after Redis pruned its"
                        + " mark would count it again");
        assertNull(c.contribution("l", "old"));
    }

    @Test
    void aKeyWithManyContributionsIsWrittenInSeveralCalls() {
        KeyCoalescer c = coalescer(100, 60);
        for (int i = 0; i < 450; i++) {
            c.contribute("gg:link:a|b", "7:1:" + i, F, new long[]{1, 60}, true);
        }
        KeyCoalescer.Write w = c.drainDirty(10).get(0);
        assertEquals(3, w.calls(), "200 contributions per call at most");
        c.done(w, true);
        c.done(w, true);
        c.confirm();
        assertEquals(1, c.unconfirmedCount(), "confirmed only once every call is");
        c.done(w, true);
        c.confirm();
        assertEquals(0, c.unconfirmedCount());
    }

    @Test
    void rateKeysAreWrittenTwiceMoreAfterTheyGoQuiet() {
        KeyCoalescer c = coalescer(100, 60);
        c.now(0);
        c.contribute("l", "f1", F, new long[]{1, 100}, false);
        c.rate("l", "rate_ab", "bytes");
        List<String> ops = c.drainDirty(10).get(0).ops();
        assertEquals(List.of("R", "rate_ab", "bytes"), ops.subList(ops.size() - 3, ops.size()));
        c.lock().lock();
        try {
            c.tick(1000);
            assertTrue(c.drainDirty(10).isEmpty(), "not yet: the window is 2 s");
            c.tick(2200);
            assertEquals(List.of("R", "rate_ab", "bytes"), c.drainDirty(10).get(0).ops(), "a write for the rate");
            c.tick(3000);
            assertTrue(c.drainDirty(10).isEmpty());
            c.tick(4400);
            assertEquals(1, c.drainDirty(10).size(), "and one more: the rate falls to 0");
            c.tick(10_000);
            assertTrue(c.drainDirty(10).isEmpty(), "then no more until it changes");
        } finally {
            c.lock().unlock();
        }
    }

    @Test
    void probeStatusGroupsKeepTheNewestReportAndPerBootMaxima() {
        KeyCoalescer c = coalescer(100, 60);
        c.hsetNewest("p", "last_seen", 100, new String[]{"state"}, new String[]{"open"});
        c.hsetNewest("p", "last_seen", 90, new String[]{"state"}, new String[]{"silent"}); // older: loses
        c.hmaxPerBoot("p", "stats_boot", 5, new String[]{"stat.a", "stat.b"}, new long[]{10, 3});
        c.hmaxPerBoot("p", "stats_boot", 5, new String[]{"stat.a"}, new long[]{7});
        assertEquals(List.of("G", "last_seen", "100", "1", "state", "open", "B", "stats_boot", "5", "2", "stat.a",
                "10", "stat.b", "3"), c.drainDirty(10).get(0).ops());
        c.hmaxPerBoot("p", "stats_boot", 6, new String[]{"stat.a"}, new long[]{1}); // a newer boot starts over
        c.hmaxPerBoot("p", "stats_boot", 5, new String[]{"stat.a"}, new long[]{99}); // the old boot: ignored
        assertEquals(List.of("B", "stats_boot", "6", "1", "stat.a", "1"), c.drainDirty(10).get(0).ops());
    }

    // handles: a module keeps its busy keys' handles instead of naming the keys on every event

    @Test
    void handleWritesTheSameCopyAsTheKeyText() {
        KeyCoalescer c = coalescer(100, 60);
        c.now(1000);
        KeyHandle h = c.handle("gg:link:a|b");
        assertFalse(h.exists(), "making a handle creates nothing");
        assertEquals(0, c.size());
        h.contribute("f", F, new long[]{2, 20}, false);
        c.contribute("gg:link:a|b", "f", F, new long[]{5, 10}, false);
        h.hsetIfAbsent("first_seen", 7);
        h.hsetIfAbsent("first_seen", 9);
        h.hmax("last_seen", 20);
        h.hmax("last_seen", 10);
        h.hmin("low", 3);
        h.hmin("low", 4);
        h.hset("a", "10.0.0.1");
        h.expire(30);
        assertTrue(h.exists());
        assertEquals(4, h.fieldCount());
        assertEquals(1, c.size());
        List<KeyCoalescer.Write> w = c.drainDirty(10);
        assertEquals(1, w.size());
        assertEquals(Map.of("first_seen", "7", "last_seen", "20", "low", "3", "a", "10.0.0.1"), w.get(0).fields());
        assertArrayEquals(new long[]{5, 20}, c.contribution("gg:link:a|b", "f"));
        assertEquals(30, w.get(0).ttlSeconds());
        assertSame(c, h.writer());
        assertEquals("gg:link:a|b", h.key());
    }

    @Test
    void handleUsedAfterItsKeyExpiredCreatesTheKeyAgainAndTheWriteLands() {
        KeyCoalescer c = coalescer(100, 60);
        c.now(1000);
        KeyHandle h = c.handle("gg:conn:1:2:3");
        h.hmax("src_pkts", 5);
        h.expire(10);
        answer(c, c.drainDirty(10), true);
        assertEquals(1, c.expireIdle(11_000), "gone 10 s after its last write, as in Redis");
        assertFalse(h.exists(), "a stale handle sees the key gone");
        assertEquals(0, h.fieldCount());
        assertEquals(0, c.size());
        c.now(12_000);
        h.hmax("src_pkts", 6);
        assertTrue(h.exists());
        assertEquals(1, c.size());
        assertEquals(6L, c.get("gg:conn:1:2:3", "src_pkts"), "the write landed in the key's new copy");
        List<KeyCoalescer.Write> w = c.drainDirty(10);
        assertEquals(1, w.size(), "the new key is written");
        assertTrue(w.get(0).full());
        assertEquals(60, w.get(0).ttlSeconds(), "with the default TTL until the module sets one");
        assertEquals(Map.of("src_pkts", "6"), w.get(0).fields(), "without the fields of the old copy");
    }

    @Test
    void staleHandleAndKeyTextShareTheOneNewCopy() {
        KeyCoalescer c = coalescer(100, 60);
        c.now(1000);
        KeyHandle h = c.handle("k");
        h.hmax("n", 1);
        answer(c, c.drainDirty(10), true);
        c.expireIdle(1000 + 61_000);
        c.hmax("k", "n", 10); // made again by text while the handle still holds the dead copy
        h.hmax("n", 11);
        assertEquals(11L, c.get("k", "n"), "the handle re-resolves to the live copy, not its dead one");
        assertEquals(1, c.size());
        answer(c, c.drainDirty(10), true);
        c.expireIdle(1000 + 61_000 + 61_000);
        h.hmax("n", 2); // made again by the handle
        assertEquals(2L, c.get("k", "n"), "the text sees the copy the handle made");
    }

    @Test
    void handleOnAFullCopyIsRefusedUntilThereIsRoom() {
        KeyCoalescer c = coalescer(1, 10);
        c.now(1000);
        c.hset("other", "f", 1);
        KeyHandle h = c.handle("k");
        h.hset("f", 1);
        assertFalse(h.exists());
        assertEquals(1, c.refused());
        answer(c, c.drainDirty(10), true);
        c.expireIdle(1000 + 10_000);
        h.hset("f", 2);
        assertTrue(h.exists());
        assertEquals(2L, c.get("k", "f"));
    }

    @Test
    void expiryStepsThroughTheCopyASliceAtATimeAndMissesNoKey() {
        KeyCoalescer c = coalescer(100_000, 60);
        c.now(0);
        for (int i = 0; i < 10_000; i++) {
            c.hset("k" + i, "f", i);
            c.expire("k" + i, i % 2 == 0 ? 10 : 100); // half go at 10 s, half live on
        }
        answer(c, c.drainDirty(100_000), true);
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
