package org.glouglou.server.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.sync.RedisCommands;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.LongStream;
import org.glouglou.spi.testkit.RedisServerProcess;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The state script against a real redis-server: each merge operation's meaning (docs/architecture.txt 6.2), marks
 * pruned after the horizon and never before their key, rates from Redis's clock, and the merge property over seeded
 * random histories of several servers with copies, late events and crashes ({@link MergeProperty}).
 */
class StateScriptIT {
    @RegisterExtension
    static final RedisServerProcess REDIS = new RedisServerProcess();

    @BeforeAll
    static void load() {
        REDIS.sync().scriptLoad(StateScript.TEXT);
    }

    static long run(String key, long ttl, long horizonMillis, long windowMillis, String... ops) {
        List<String> a = new ArrayList<>(List.of(Long.toString(ttl), Long.toString(horizonMillis), Long.toString(
                windowMillis), "1"));
        a.addAll(List.of(ops));
        return REDIS.sync().evalsha(StateScript.SHA, ScriptOutputType.INTEGER, new String[]{key, StateScript
                .markKey(key), StateScript.closedKey(key)}, a.toArray(String[]::new));
    }

    static LongStream seeds() {
        return LongStream.range(0, 40);
    }

    @ParameterizedTest
    @MethodSource("seeds")
    void contributionsFromManyServersAddUpExactlyWhateverTheOrderCopiesAndCrashes(long seed) {
        new MergeProperty(REDIS.sync(), seed).run();
    }

    @Test
    void plainMergesKeepTheirMeaning() {
        RedisCommands<String, String> r = REDIS.sync();
        String k = "gg:node:plain";
        run(k, 60, 1000, 2000, "S", "addr", "10.0.0.1", "N", "state", "open", "X", "last", "5", "M", "first", "5");
        run(k, 60, 1000, 2000, "N", "state", "reopened", "X", "last", "3", "M", "first", "7", "X", "last", "9");
        run(k, 60, 1000, 2000, "S", "state", "closed", "N", "state", "open", "M", "first", "2");
        assertEquals(Map.of("addr", "10.0.0.1", "state", "closed", "last", "9", "first", "2"), r.hgetall(k));
        assertTrue(r.ttl(k) > 50);
        assertEquals(0, r.exists(StateScript.markKey(k)), "no contribution: no marks");
    }

    @Test
    void aContributionAddsOnlyItsGrowthAndBigNumbersStayExact() {
        RedisCommands<String, String> r = REDIS.sync();
        String k = "gg:link:big";
        long big = (1L << 52) + 12_345;
        run(k, 60, 1000, 2000, "C", "a", "0", "2", "p", "b", "10", Long.toString(big));
        run(k, 60, 1000, 2000, "C", "a", "0", "2", "p", "b", "10", Long.toString(big)); // a copy
        run(k, 60, 1000, 2000, "C", "a", "0", "2", "p", "b", "4", "7"); // overtaken
        run(k, 60, 1000, 2000, "C", "b", "0", "2", "p", "b", "1", "1");
        run(k, 60, 1000, 2000, "C", "a", "0", "2", "p", "b", "12", Long.toString(big + 1));
        assertEquals(Long.toString(13), r.hget(k, "p"));
        assertEquals(Long.toString(big + 2), r.hget(k, "b"), "no exponent, no rounding below 2^53");
        assertEquals("12 " + (big + 1), r.hget(StateScript.markKey(k), "a"));
    }

    @Test
    void marksOfClosedContributorsArePrunedAfterTheHorizonAndOutliveTheirKey() throws Exception {
        RedisCommands<String, String> r = REDIS.sync();
        String k = "gg:link:prune";
        run(k, 5, 300, 2000, "C", "closed", "1", "1", "p", "3", "C", "open", "0", "1", "p", "2");
        assertEquals(2, r.hlen(StateScript.markKey(k)));
        assertEquals(1, r.zcard(StateScript.closedKey(k)));
        assertEquals(1, r.ttl(StateScript.markKey(k)) >= r.ttl(k) ? 1 : 0, "marks live at least as long");
        long deadline = System.currentTimeMillis() + 10_000;
        int later = 0;
        while (r.hexists(StateScript.markKey(k), "closed") && System.currentTimeMillis() < deadline) {
            // the next contributor that closes prunes the marks that are due
            run(k, 5, 300, 2000, "C", "later" + later++, "1", "1", "p", "0");
            Thread.sleep(50);
        }
        assertFalse(r.hexists(StateScript.markKey(k), "closed"), "the closed contributor's mark is gone after 300 ms");
        assertTrue(r.hexists(StateScript.markKey(k), "open"), "an open contributor's mark is never pruned");
        assertNull(r.zscore(StateScript.closedKey(k), "closed"), "and forgotten as closed");
        assertEquals("5", r.hget(k, "p"));
    }

    @Test
    void ratesComeFromTheTotalsInRedisOverTheSharedWindow() throws Exception {
        RedisCommands<String, String> r = REDIS.sync();
        String k = "gg:link:rate";
        run(k, 60, 1000, 200, "C", "a", "0", "1", "bytes", "1000", "R", "rate", "bytes");
        assertNull(r.hget(k, "rate"), "the first write opens the window");
        long deadline = System.currentTimeMillis() + 10_000;
        // another server's contribution, then writes until the 200 ms window has passed
        run(k, 60, 1000, 200, "C", "b", "0", "1", "bytes", "400", "R", "rate", "bytes");
        while (r.hget(k, "rate") == null && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
            run(k, 60, 1000, 200, "R", "rate", "bytes");
        }
        long rate = Long.parseLong(r.hget(k, "rate"));
        assertTrue(rate > 0 && rate <= 400 * 1000 / 200, "400 bytes over at least 200 ms: " + rate);
        while (!"0".equals(r.hget(k, "rate")) && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
            run(k, 60, 1000, 200, "R", "rate", "bytes");
        }
        assertEquals("0", r.hget(k, "rate"), "quiet: the next window shows 0");
    }

    @Test
    void probeStatusGroupsTakeTheNewestReportAndPerBootMaxima() {
        RedisCommands<String, String> r = REDIS.sync();
        String k = "gg:probe:status";
        run(k, 60, 1000, 2000, "G", "last_seen", "200", "2", "state", "open", "session", "5");
        run(k, 60, 1000, 2000, "G", "last_seen", "150", "2", "state", "silent", "session", "4"); // older
        run(k, 60, 1000, 2000, "B", "stats_boot", "18446744073709551615", "1", "stat.a", "10");
        run(k, 60, 1000, 2000, "B", "stats_boot", "18446744073709551615", "1", "stat.a", "4");
        run(k, 60, 1000, 2000, "B", "stats_boot", "9", "1", "stat.a", "99"); // an older boot
        assertEquals("open", r.hget(k, "state"));
        assertEquals("5", r.hget(k, "session"));
        assertEquals("10", r.hget(k, "stat.a"));
        run(k, 60, 1000, 2000, "G", "last_seen", "200", "1", "state", "silent"); // the same probe, gone quiet
        assertEquals("silent", r.hget(k, "state"));
        run(k, 60, 1000, 2000, "B", "stats_boot", "5", "1", "stat.a", "1");
        assertEquals("10", r.hget(k, "stat.a"), "boot 5 is older than 2^64-1: unsigned comparison");
    }
}
