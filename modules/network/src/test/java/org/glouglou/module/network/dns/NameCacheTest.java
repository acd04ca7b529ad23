package org.glouglou.module.network.dns;

import static org.junit.jupiter.api.Assertions.*;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

class NameCacheTest {
    @Test
    void samePairIsSuppressedForItsTtlThenReportedAgain() throws Exception {
        NameCache c = new NameCache(2);
        InetAddress a = InetAddress.getByName("10.0.0.1");
        assertTrue(c.offer(0, a, "x.example", 10));
        assertFalse(c.offer(9_999_999, a, "X.example", 10));
        assertTrue(c.offer(10_000_000, a, "x.example", 10));
        assertTrue(c.offer(0, a, "y.example", 10));
        assertEquals(1, c.suppressed());
    }

    @Test
    void boundedLeastRecentlyUsedFirstOut() throws Exception {
        NameCache c = new NameCache(2);
        InetAddress a = InetAddress.getByName("10.0.0.1");
        c.offer(0, a, "1", 100);
        c.offer(0, a, "2", 100);
        c.offer(0, a, "3", 100);
        assertEquals(2, c.size());
        assertEquals(1, c.evicted());
        assertTrue(c.offer(1, a, "1", 100), "evicted pair is reported again");
    }
}
