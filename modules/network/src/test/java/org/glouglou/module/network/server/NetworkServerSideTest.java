package org.glouglou.module.network.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.glouglou.module.network.FlowKey;
import org.glouglou.module.network.NetworkEvents.Data;
import org.glouglou.module.network.NetworkEvents.DelConn;
import org.glouglou.module.network.NetworkEvents.Name;
import org.glouglou.module.network.NetworkEvents.NameSource;
import org.glouglou.module.network.NetworkEvents.NewConn;
import org.glouglou.module.network.NetworkEvents.Reason;
import org.glouglou.module.network.NetworkEvents.Trace;
import org.glouglou.module.network.NetworkEvents.TraceMethod;
import org.glouglou.spi.Event;
import org.glouglou.spi.server.KeyHandle;
import org.glouglou.spi.server.ProbeContext;
import org.glouglou.spi.server.ServerSettings;
import org.glouglou.spi.server.StateWriter;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Issue 4: the network module's Redis mapping, on a plain in-memory StateWriter (the server's copy semantics). */
class NetworkServerSideTest {
    /** Holds hashes and TTLs the way the server's key copy does. */
    static final class MapWriter implements StateWriter {
        final Map<String, Map<String, Object>> keys = new HashMap<>();
        final Map<String, Long> ttl = new HashMap<>();

        Map<String, Object> h(String k) {
            return keys.computeIfAbsent(k, x -> new HashMap<>());
        }

        @Override
        public void hset(String key, String field, String value) {
            h(key).put(field, value);
        }

        @Override
        public void hset(String key, String field, long value) {
            h(key).put(field, value);
        }

        @Override
        public long hincrBy(String key, String field, long delta) {
            long v = (Long) h(key).getOrDefault(field, 0L) + delta;
            h(key).put(field, v);
            return v;
        }

        @Override
        public void hsetIfAbsent(String key, String field, long value) {
            h(key).putIfAbsent(field, value);
        }

        @Override
        public void hmax(String key, String field, long value) {
            h(key).merge(field, value, (a, b) -> Math.max((Long) a, (Long) b));
        }

        @Override
        public boolean exists(String key) {
            return keys.containsKey(key);
        }

        @Override
        public int fieldCount(String key) {
            return keys.containsKey(key) ? keys.get(key).size() : 0;
        }

        @Override
        public void expire(String key, long ttlSeconds) {
            h(key);
            ttl.put(key, ttlSeconds);
        }

        int handlesMade;

        @Override
        public KeyHandle handle(String key) {
            handlesMade++;
            return StateWriter.super.handle(key);
        }
    }

    record Ctx(long probeId, long sessionId, String probeName, Object[] holder) implements ProbeContext {
        @Override
        public Object state() {
            return holder[0];
        }
    }

    NetworkServerSide side;
    MapWriter w;
    Ctx ctx;

    static InetAddress ip(String s) throws Exception {
        return InetAddress.getByName(s);
    }

    @BeforeEach
    void setUp() {
        side = new NetworkServerSide();
        side.start(new ServerSettings(100, 300, 300, 120, 10, 3600, 4));
        w = new MapWriter();
        ctx = new Ctx(7, 42, "p", new Object[1]);
        ctx.holder()[0] = side.openSession(ctx);
    }

    void ev(Event e) {
        side.onEvent(ctx, 1_000_000_000L, e, w);
    }

    @Test
    void flowBecomesNodesLinkAndConnWithExactTotalsInCanonicalOrder() throws Exception {
        // src 10.0.0.9 > dst 10.0.0.1: the link is stored as 10.0.0.1|10.0.0.9, directions swapped
        ev(new NewConn(1, new FlowKey(6, ip("10.0.0.9"), 5555, ip("10.0.0.1"), 80)));
        ev(new Data(1, 3, 300, 2, 2000, null));
        ev(new Data(1, 1, 100, 0, 0, null));
        ev(new DelConn(1, Reason.FIN, 6, 600, 2, 2000, null)); // 2 packets / 200 bytes DATA never carried
        Map<String, Object> link = w.keys.get("gg:link:10.0.0.1|10.0.0.9");
        assertEquals(2L, link.get("pkts_ab"));
        assertEquals(2000L, link.get("bytes_ab"));
        assertEquals(6L, link.get("pkts_ba"));
        assertEquals(600L, link.get("bytes_ba"));
        assertEquals("10.0.0.1", link.get("a"));
        Map<String, Object> conn = w.keys.get("gg:conn:7:42:1");
        assertEquals("closed", conn.get("state"));
        assertEquals("fin", conn.get("reason"));
        assertEquals(6L, conn.get("src_pkts"));
        assertEquals("tcp", conn.get("proto"));
        assertEquals(10L, w.ttl.get("gg:conn:7:42:1"), "closed connections expire soon");
        assertTrue(w.exists("gg:node:10.0.0.9"));
        assertEquals(1_000_000L, w.keys.get("gg:node:10.0.0.1").get("seen.7"));
        assertEquals(0, side.totalConns());
    }

    @Test
    void dataForUnknownConnIsCountedAndWritesNothing() {
        ev(new Data(99, 1, 1, 1, 1, null));
        ev(new DelConn(98, Reason.RST, 1, 1, 1, 1, null));
        assertTrue(w.keys.isEmpty());
        assertEquals(2L, side.counters().get("unknown_conn"));
    }

    @Test
    void connTableIsBoundedPerSession() throws Exception {
        for (int i = 0; i < 10; i++) {
            ev(new NewConn(i, new FlowKey(17, ip("10.0.0.1"), 1000 + i, ip("10.0.0.2"), 53)));
        }
        assertEquals(4, side.totalConns());
        assertEquals(6L, side.counters().get("conns_refused"));
        side.closeSession(ctx, w);
        assertEquals(0, side.totalConns(), "a closed session frees its table");
    }

    @Test
    void namesAreKeptPerAddressAndNameNodesThatTalk() throws Exception {
        ev(new Name(ip("192.0.2.1"), "a.example", NameSource.DNS_A, 60));
        ev(new Name(ip("192.0.2.1"), "b.example", NameSource.DNS_CNAME, 60));
        assertEquals(Map.of("a.example", "dns_a", "b.example", "dns_cname"), w.keys.get("gg:name:192.0.2.1"));
        assertFalse(w.exists("gg:node:192.0.2.1"), "a name alone does not make a host");
        ev(new NewConn(1, new FlowKey(6, ip("10.0.0.1"), 1, ip("192.0.2.1"), 443)));
        assertEquals("b.example", w.keys.get("gg:node:192.0.2.1").get("name"));
        ev(new Trace(ip("192.0.2.1"), 9, TraceMethod.TTL_ESTIMATE, List.of(ip("10.0.0.254"))));
        assertEquals(9L, w.keys.get("gg:node:192.0.2.1").get("hops"));
        assertEquals("10.0.0.254", w.keys.get("gg:node:192.0.2.1").get("path"));
        assertNull(w.keys.get("gg:node:10.0.0.1").get("hops"));
    }

    @Test
    void rateIsBytesPerSecondOverTheWindowThenZeroThenForgotten() throws Exception {
        ev(new NewConn(1, new FlowKey(6, ip("10.0.0.1"), 1, ip("10.0.0.2"), 2)));
        side.onTick(10_000, w);
        ev(new Data(1, 10, 4000, 0, 0, null));
        side.onTick(12_000, w);
        assertEquals(2000L, w.keys.get("gg:link:10.0.0.1|10.0.0.2").get("rate_ab"));
        side.onTick(14_000, w);
        assertEquals(0L, w.keys.get("gg:link:10.0.0.1|10.0.0.2").get("rate_ab"));
    }

    @Test
    void ipv6KeysAreRfc5952() throws Exception {
        assertEquals("2a00:1450:4007:80a::200a", NetworkKeys.text(ip("2a00:1450:4007:80a:0:0:0:200a")));
        assertEquals("::1", NetworkKeys.text(ip("::1")));
        assertEquals("1:0:1::", NetworkKeys.text(ip("1:0:1:0:0:0:0:0")));
        assertEquals("2001:db8:0:1:1:1:1:1", NetworkKeys.text(ip("2001:db8:0:1:1:1:1:1")));
        assertEquals("gg:link:10.0.0.1|::1", NetworkKeys.link(ip("::1"), ip("10.0.0.1")), "IPv4 sorts first");
    }

    @Test
    void flowKeepsHandlesOnItsFourKeysAndWritesAgainAfterTheyExpired() throws Exception {
        ev(new NewConn(1, new FlowKey(6, ip("10.0.0.1"), 1000, ip("10.0.0.2"), 80)));
        for (int i = 0; i < 100; i++) {
            ev(new Data(1, 1, 10, 1, 20, null));
        }
        assertEquals(4, w.handlesMade, "conn, link and two hosts: once per flow, not per event");
        // the keys expire while the flow lives (a quiet spell longer than their TTL, here all at once)
        w.keys.clear();
        ev(new Data(1, 1, 10, 0, 0, null));
        assertEquals(4, w.handlesMade);
        side.onTick(NetworkServerSide.CONN_REFRESH_MILLIS, w); // the conn's counters are due again
        assertEquals(101L, w.keys.get("gg:conn:7:42:1").get("src_pkts"), "the conn's totals, written again");
        assertEquals(1L, w.keys.get("gg:link:10.0.0.1|10.0.0.2").get("pkts_ab"), "the link counts from its new life");
        assertTrue(w.exists("gg:node:10.0.0.1") && w.exists("gg:node:10.0.0.2"));
        // another writer: the flow makes its handles on that one, and the writes land there
        MapWriter other = new MapWriter();
        side.onEvent(ctx, 1_000_000_000L, new Data(1, 0, 0, 1, 5, null), other);
        side.onTick(2 * NetworkServerSide.CONN_REFRESH_MILLIS, other);
        assertEquals(4, other.handlesMade);
        assertEquals(101L, other.keys.get("gg:conn:7:42:1").get("dst_pkts"));
        assertEquals(5L, other.keys.get("gg:link:10.0.0.1|10.0.0.2").get("bytes_ba"));
    }

    @Test
    void connCountersAreWrittenAtMostOnceASecondAndHostsSeenBySecond() throws Exception {
        side.onTick(5_000, w);
        side.onEvent(ctx, 5_123_000L, new NewConn(1, new FlowKey(6, ip("10.0.0.1"), 1000, ip("10.0.0.2"), 80)),
                w);
        assertEquals(5_123L, w.keys.get("gg:node:10.0.0.1").get("last_seen"), "a new host: its exact time");
        side.onEvent(ctx, 5_200_000L, new Data(1, 1, 10, 1, 20, null), w);
        assertEquals(1L, w.keys.get("gg:conn:7:42:1").get("src_pkts"), "the first traffic is written at once");
        side.onEvent(ctx, 5_300_000L, new Data(1, 2, 10, 0, 0, null), w);
        side.onTick(5_500, w);
        assertEquals(1L, w.keys.get("gg:conn:7:42:1").get("src_pkts"), "held back within the second");
        assertEquals(3L, w.keys.get("gg:link:10.0.0.1|10.0.0.2").get("pkts_ab"), "the link is never held back");
        assertEquals(5_123L, w.keys.get("gg:node:10.0.0.1").get("last_seen"), "hosts move by whole seconds");
        side.onEvent(ctx, 6_400_000L, new Data(1, 1, 10, 0, 0, null), w);
        assertEquals(6_000L, w.keys.get("gg:node:10.0.0.1").get("last_seen"), "the next second");
        side.onTick(6_000, w);
        assertEquals(4L, w.keys.get("gg:conn:7:42:1").get("src_pkts"), "due after a second, even if quiet since");
        assertEquals(6_400L, w.keys.get("gg:conn:7:42:1").get("last_seen"));
        side.onEvent(ctx, 6_500_000L, new Data(1, 1, 10, 0, 0, null), w);
        side.onEvent(ctx, 6_600_000L, new DelConn(1, Reason.FIN, 9, 90, 1, 20, null), w);
        assertEquals(9L, w.keys.get("gg:conn:7:42:1").get("src_pkts"), "a close writes the final totals at once");
        assertEquals("closed", w.keys.get("gg:conn:7:42:1").get("state"));
        w.keys.clear();
        side.onTick(9_000, w);
        assertFalse(w.exists("gg:conn:7:42:1"), "nothing is written for a closed conn afterwards");
    }
}
