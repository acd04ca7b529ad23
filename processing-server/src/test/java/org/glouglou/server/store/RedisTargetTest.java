package org.glouglou.server.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

/** --redis and --redis-cluster parsed: seeds, database, and one-line refusals. */
class RedisTargetTest {
    @Test
    void standaloneKeepsItsDatabase() {
        RedisTarget t = RedisTarget.parse("redis://10.0.0.1:6380/2", false);
        assertFalse(t.cluster());
        assertEquals(1, t.seeds().size());
        assertEquals("10.0.0.1", t.first().getHost());
        assertEquals(6380, t.first().getPort());
        assertEquals(2, t.database());
    }

    @Test
    void clusterTakesSeveralSeeds() {
        RedisTarget t = RedisTarget.parse("redis://10.0.0.1:7000, redis://10.0.0.2:7001,rediss://10.0.0.3:7002",
                true);
        assertTrue(t.cluster());
        assertEquals(3, t.seeds().size());
        assertEquals(7001, t.seeds().get(1).getPort());
        assertTrue(t.seeds().get(2).isSsl());
        assertEquals(0, t.database());
        // one seed is enough too
        assertEquals(1, RedisTarget.parse("redis://10.0.0.1:7000", true).seeds().size());
    }

    @Test
    void badInputIsOneLineNamingTheFix() {
        String several = assertThrows(IllegalArgumentException.class, () -> RedisTarget.parse(
                "redis://a:1,redis://b:2", false)).getMessage();
        assertTrue(several.contains("--redis-cluster"), several);
        String db = assertThrows(IllegalArgumentException.class, () -> RedisTarget.parse("redis://a:1/5", true))
                .getMessage();
        assertTrue(db.contains("database 0 only"), db);
        String scheme = assertThrows(IllegalArgumentException.class, () -> RedisTarget.parse("a:1", true))
                .getMessage();
        assertTrue(scheme.contains("expected redis://HOST:PORT"), scheme);
        String empty = assertThrows(IllegalArgumentException.class, () -> RedisTarget.parse("redis://a:1,", true))
                .getMessage();
        assertTrue(empty.contains("empty URI"), empty);
        for (String m : new String[]{several, db, scheme, empty}) {
            assertEquals(1, m.lines().count(), m);
        }
    }

    @Test
    void nodeAddressesMatchResolvedOrNot() {
        assertEquals(RedisStore.hostPort(new InetSocketAddress("127.0.0.1", 7000)), RedisStore.hostPort(
                InetSocketAddress.createUnresolved("127.0.0.1", 7000)));
    }
}
