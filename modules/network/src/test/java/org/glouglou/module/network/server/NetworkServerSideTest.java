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

/**
 * The network module's Redis mapping (spec 4.1, 5.8), on an in-memory StateWriter that merges as the server's script
 * does in Redis (marks per contributor, minima, maxima, first writer wins), so that repeats, overtaken events and two
 * servers sharing one store can be checked without Redis.
 */
class NetworkServerSideTest {
    /** Holds hashes, TTLs and contributors' marks the way Redis does after the server's script. */
    static final class MapWriter implements StateWriter {
        final Map<String, Map<String, Object>> keys = new HashMap<>();
        final Map<String, Long> ttl = new HashMap<>();
        final Map<String, Map<String, long[]>> marks = new HashMap<>();
        final Map<String, Map<String, String>> rates = new HashMap<>();
        final java.util.Set<String> closed = new java.util.HashSet<>();
        /** Reads asked for and not answered yet (when {@link #deferReads}). */
        final List<Runnable> reads = new java.util.ArrayList<>();
        boolean deferReads;

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
        public void hsetIfAbsent(String key, String field, long value) {
            h(key).putIfAbsent(field, value);
        }

        @Override
        public void hsetIfAbsent(String key, String field, String value) {
            h(key).putIfAbsent(field, value);
        }

        @Override
        public void hmax(String key, String field, long value) {
            h(key).merge(field, value, (a, b) -> Math.max((Long) a, (Long) b));
        }

        @Override
        public void hmin(String key, String field, long value) {
            h(key).merge(field, value, (a, b) -> Math.min((Long) a, (Long) b));
        }

        @Override
        public void contribute(String key, String who, String[] fields, long[] values, boolean isClosed) {
            long[] mark = marks.computeIfAbsent(key, x -> new HashMap<>()).computeIfAbsent(who, x -> new long[0]);
            long[] next = java.util.Arrays.copyOf(mark, Math.max(mark.length, fields.length));
            for (int i = 0; i < fields.length; i++) {
                long prev = i < mark.length ? mark[i] : 0;
                if (values[i] > prev) {
                    h(key).merge(fields[i], values[i] - prev, (a, b) -> (Long) a + (Long) b);
                    next[i] = values[i];
                }
            }
            marks.get(key).put(who, next);
            if (isClosed) {
                closed.add(key + " " + who);
            }
        }

        @Override
        public void rate(String key, String rateField, String totalField) {
            h(key);
            rates.computeIfAbsent(key, x -> new HashMap<>()).put(rateField, totalField);
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

        @Override
        public void read(String key, java.util.function.Consumer<Map<String, String>> then) {
            Runnable answer = () -> {
                Map<String, String> m = new HashMap<>();
                keys.getOrDefault(key, Map.of()).forEach((f, v) -> m.put(f, String.valueOf(v)));
                then.accept(m);
            };
            if (deferReads) {
                reads.add(answer);
            } else {
                answer.run();
            }
        }

        int handlesMade;

        @Override
        public KeyHandle handle(String key) {
            handlesMade++;
            return StateWriter.super.handle(key);
        }
    }

    record Ctx(long probeId, long boot, String probeName, Object[] holder, List<String> retries)
            implements
                ProbeContext {
        Ctx(long probeId, long boot) {
            this(probeId, boot, "p", new Object[1], new java.util.ArrayList<>());
        }

        @Override
        public Object state() {
            return holder[0];
        }

        @Override
        public void retryLater(String reason) {
            retries.add(reason);
        }
    }

    NetworkServerSide side;
    MapWriter w;
    Ctx ctx;

    static InetAddress ip(String s) throws Exception {
        return InetAddress.getByName(s);
    }

    static NetworkServerSide side() {
        NetworkServerSide s = new NetworkServerSide();
        s.start(new ServerSettings(100, 300, 300, 900, 600, 3600, 4));
        return s;
    }

    @BeforeEach
    void setUp() {
        side = side();
        w = new MapWriter();
        ctx = new Ctx(7, 42);
        ctx.holder()[0] = side.openStream(ctx);
    }

    void ev(Event e) {
        side.onEvent(ctx, 1_000_000_000L, e, w);
    }

    @Test
    void flowBecomesNodesLinkAndConnWithExactTotalsInCanonicalOrder() throws Exception {
        // src 10.0.0.9 > dst 10.0.0.1: the link is stored as 10.0.0.1|10.0.0.9, directions swapped
        ev(new NewConn(1, new FlowKey(6, ip("10.0.0.9"), 5555, ip("10.0.0.1"), 80)));
        ev(new Data(1, 3, 300, 2, 2000, null)); // cumulative since NEWCONN
        ev(new Data(1, 4, 400, 2, 2000, null));
        ev(new DelConn(1, Reason.FIN, 6, 600, 2, 2000, null)); // the last 2 packets / 200 bytes DATA never carried
        Map<String, Object> link = w.keys.get("gg:link:10.0.0.1|10.0.0.9");
        assertEquals(2L, link.get("pkts_ab"));
        assertEquals(2000L, link.get("bytes_ab"));
        assertEquals(6L, link.get("pkts_ba"));
        assertEquals(600L, link.get("bytes_ba"));
        assertEquals(2L, link.get("pkts_ab.7"), "per probe");
        assertEquals(600L, link.get("bytes_ba.7"));
        assertEquals(2600L, link.get("proto.tcp"), "the protocol mix, in bytes");
        assertEquals(1L, link.get("conns"));
        assertEquals(1L, link.get("port.80"));
        assertEquals("10.0.0.1", link.get("a"));
        assertEquals(Map.of("rate_ab", "bytes_ab", "rate_ba", "bytes_ba"), w.rates.get("gg:link:10.0.0.1|10.0.0.9"));
        assertTrue(w.closed.contains("gg:link:10.0.0.1|10.0.0.9 7:42:1"), "the flow's contribution is closed");
        Map<String, Object> conn = w.keys.get("gg:conn:7:42:1");
        assertEquals("closed", conn.get("state"));
        assertEquals("fin", conn.get("reason"));
        assertEquals(6L, conn.get("src_pkts"));
        assertEquals("tcp", conn.get("proto"));
        assertEquals(6L, conn.get("ipproto"));
        assertEquals("42", conn.get("boot"));
        assertEquals(600L, w.ttl.get("gg:conn:7:42:1"), "a closed connection's key lives as long as its mark");
        assertTrue(w.exists("gg:node:10.0.0.9"));
        assertEquals(1_000_000L, w.keys.get("gg:node:10.0.0.1").get("seen.7"));
        assertEquals(1, side.totalConns(), "a closed flow is kept a while: copies of its DELCONN find it");
    }

    @Test
    void repeatedAndOvertakenEventsCountOnce() throws Exception {
        ev(new NewConn(1, new FlowKey(17, ip("10.0.0.1"), 53000, ip("10.0.0.2"), 53)));
        ev(new Data(1, 5, 500, 5, 900, null));
        ev(new Data(1, 3, 300, 2, 400, null)); // overtaken by the later one
        ev(new NewConn(1, new FlowKey(17, ip("10.0.0.1"), 53000, ip("10.0.0.2"), 53))); // a copy
        ev(new Data(1, 5, 500, 5, 900, null)); // a copy
        ev(new DelConn(1, Reason.IDLE, 6, 600, 5, 900, null));
        ev(new Data(1, 5, 500, 5, 900, null)); // a copy after the close
        ev(new DelConn(1, Reason.IDLE, 6, 600, 5, 900, null)); // a copy
        Map<String, Object> link = w.keys.get("gg:link:10.0.0.1|10.0.0.2");
        assertEquals(6L, link.get("pkts_ab"));
        assertEquals(600L, link.get("bytes_ab"));
        assertEquals(5L, link.get("pkts_ba"));
        assertEquals(900L, link.get("bytes_ba"));
        assertEquals(1L, link.get("conns"));
        assertEquals("closed", w.keys.get("gg:conn:7:42:1").get("state"), "a copy of NEWCONN never reopens it");
        assertTrue(ctx.retries().isEmpty());
    }

    @Test
    void twoServersSharingOneStoreCountAFlowOnce() throws Exception {
        NetworkServerSide other = side();
        Ctx otherCtx = new Ctx(7, 42);
        otherCtx.holder()[0] = other.openStream(otherCtx);
        FlowKey f = new FlowKey(6, ip("10.0.0.1"), 1234, ip("10.0.0.2"), 443);
        ev(new NewConn(1, f));
        ev(new Data(1, 10, 1000, 10, 5000, null));
        // the probe failed over: the same payloads again, and the next, to the other server
        other.onEvent(otherCtx, 1_000_000_000L, new NewConn(1, f), w);
        other.onEvent(otherCtx, 1_000_000_000L, new Data(1, 10, 1000, 10, 5000, null), w);
        other.onEvent(otherCtx, 1_000_000_000L, new Data(1, 12, 1200, 11, 5100, null), w);
        other.onEvent(otherCtx, 1_000_000_000L, new DelConn(1, Reason.FIN, 13, 1300, 11, 5100, null), w);
        Map<String, Object> link = w.keys.get("gg:link:10.0.0.1|10.0.0.2");
        assertEquals(13L, link.get("pkts_ab"));
        assertEquals(5100L, link.get("bytes_ba"));
        assertEquals(1L, link.get("conns"));
    }

    @Test
    void unknownConnIsReadFromTheStoreWhileItsDatagramIsSentAgain() throws Exception {
        // another server took the NEWCONN and the first DATA
        NetworkServerSide first = side();
        Ctx firstCtx = new Ctx(7, 42);
        firstCtx.holder()[0] = first.openStream(firstCtx);
        FlowKey f = new FlowKey(6, ip("10.0.0.1"), 1234, ip("10.0.0.2"), 443);
        first.onEvent(firstCtx, 1_000_000_000L, new NewConn(1, f), w);
        first.onEvent(firstCtx, 1_000_000_000L, new Data(1, 10, 1000, 10, 5000, null), w);
        w.deferReads = true;
        ev(new Data(1, 20, 2000, 20, 10_000, null));
        assertEquals(List.of("unknown_conn"), ctx.retries(), "the datagram is not acknowledged: sent again");
        assertEquals(1, w.reads.size(), "the conn key is read");
        ev(new Data(1, 20, 2000, 20, 10_000, null)); // the resend arrives before the answer
        assertEquals(1, w.reads.size(), "one read per connection id at a time");
        assertEquals(10L, w.keys.get("gg:link:10.0.0.1|10.0.0.2").get("pkts_ab"), "nothing applied meanwhile");
        w.reads.remove(0).run();
        ctx.retries().clear();
        ev(new Data(1, 20, 2000, 20, 10_000, null)); // the next copy: the flow is known now
        assertTrue(ctx.retries().isEmpty());
        Map<String, Object> link = w.keys.get("gg:link:10.0.0.1|10.0.0.2");
        assertEquals(20L, link.get("pkts_ab"), "only the growth is added");
        assertEquals(10_000L, link.get("bytes_ba"));
        assertEquals(1L, link.get("conns"));
        assertEquals(1L, side.counters().get("resolved_conn"));
    }

    @Test
    void unknownConnThatTheStoreDoesNotHaveIsCountedAndWritesNothing() {
        ev(new Data(99, 1, 1, 1, 1, null));
        ev(new DelConn(98, Reason.RST, 1, 1, 1, 1, null));
        assertEquals(List.of("unknown_conn", "unknown_conn"), ctx.retries());
        assertEquals(2L, side.counters().get("unknown_conn"));
        assertEquals(2L, side.counters().get("absent_conn"));
        assertTrue(w.keys.isEmpty());
        ev(new Data(99, 1, 1, 1, 1, null));
        assertEquals(2L, side.counters().get("absent_conn"), "not read again at once");
    }

    @Test
    void connTableIsBoundedPerBoot() throws Exception {
        for (int i = 0; i < 10; i++) {
            ev(new NewConn(i, new FlowKey(17, ip("10.0.0.1"), 1000 + i, ip("10.0.0.2"), 53)));
        }
        assertEquals(4, side.totalConns());
        assertEquals(6L, side.counters().get("conns_refused"));
        side.closeStream(ctx, w);
        assertEquals(0, side.totalConns(), "an ended boot frees its table");
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
        for (int i = 1; i <= 100; i++) {
            ev(new Data(1, i, 10 * i, i, 20 * i, null));
        }
        assertEquals(4, w.handlesMade, "conn, link and two hosts: once per flow, not per event");
        // the keys expire while the flow lives (a quiet spell longer than their TTL, here all at once, marks too)
        w.keys.clear();
        w.marks.clear();
        ev(new Data(1, 101, 1010, 100, 2000, null));
        assertEquals(4, w.handlesMade);
        side.onTick(NetworkServerSide.CONN_REFRESH_MILLIS, w); // the conn's counters are due again
        assertEquals(101L, w.keys.get("gg:conn:7:42:1").get("src_pkts"), "the conn's totals, written again");
        assertEquals(101L, w.keys.get("gg:link:10.0.0.1|10.0.0.2").get("pkts_ab"),
                "a link made again after its mark went holds the flow's totals");
        assertTrue(w.exists("gg:node:10.0.0.1") && w.exists("gg:node:10.0.0.2"));
        // another writer: the flow makes its handles on that one, and the writes land there
        MapWriter other = new MapWriter();
        side.onEvent(ctx, 1_000_000_000L, new Data(1, 101, 1010, 101, 2005, null), other);
        side.onTick(2 * NetworkServerSide.CONN_REFRESH_MILLIS, other);
        assertEquals(4, other.handlesMade);
        assertEquals(101L, other.keys.get("gg:conn:7:42:1").get("dst_pkts"));
        assertEquals(2005L, other.keys.get("gg:link:10.0.0.1|10.0.0.2").get("bytes_ba"));
    }

    @Test
    void connCountersAreWrittenAtMostOnceASecondAndHostsSeenBySecond() throws Exception {
        side.onTick(5_000, w);
        side.onEvent(ctx, 5_123_000L, new NewConn(1, new FlowKey(6, ip("10.0.0.1"), 1000, ip("10.0.0.2"), 80)),
                w);
        assertEquals(5_123L, w.keys.get("gg:node:10.0.0.1").get("last_seen"), "a new host: its exact time");
        side.onEvent(ctx, 5_200_000L, new Data(1, 1, 10, 1, 20, null), w);
        assertEquals(1L, w.keys.get("gg:conn:7:42:1").get("src_pkts"), "the first traffic is written at once");
        side.onEvent(ctx, 5_300_000L, new Data(1, 3, 20, 1, 20, null), w);
        side.onTick(5_500, w);
        assertEquals(1L, w.keys.get("gg:conn:7:42:1").get("src_pkts"), "held back within the second");
        assertEquals(3L, w.keys.get("gg:link:10.0.0.1|10.0.0.2").get("pkts_ab"), "the link is never held back");
        assertEquals(5_123L, w.keys.get("gg:node:10.0.0.1").get("last_seen"), "hosts move by whole seconds");
        side.onEvent(ctx, 6_400_000L, new Data(1, 4, 30, 1, 20, null), w);
        assertEquals(6_000L, w.keys.get("gg:node:10.0.0.1").get("last_seen"), "the next second");
        side.onTick(6_000, w);
        assertEquals(4L, w.keys.get("gg:conn:7:42:1").get("src_pkts"), "due after a second, even if quiet since");
        assertEquals(6_400L, w.keys.get("gg:conn:7:42:1").get("last_seen"));
        side.onEvent(ctx, 6_500_000L, new Data(1, 5, 40, 1, 20, null), w);
        side.onEvent(ctx, 6_600_000L, new DelConn(1, Reason.FIN, 9, 90, 1, 20, null), w);
        assertEquals(9L, w.keys.get("gg:conn:7:42:1").get("src_pkts"), "a close writes the final totals at once");
        assertEquals("closed", w.keys.get("gg:conn:7:42:1").get("state"));
        w.keys.clear();
        side.onTick(9_000, w);
        assertFalse(w.exists("gg:conn:7:42:1"), "nothing is written for a closed conn afterwards");
    }
}
