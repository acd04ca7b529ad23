package org.glouglou.module.network.server;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.glouglou.module.network.FlowKey;
import org.glouglou.module.network.NetworkEvents.Data;
import org.glouglou.module.network.NetworkEvents.DelConn;
import org.glouglou.module.network.NetworkEvents.Name;
import org.glouglou.module.network.NetworkEvents.NewConn;
import org.glouglou.module.network.NetworkEvents.Trace;
import org.glouglou.module.network.NetworkModule;
import org.glouglou.spi.Event;
import org.glouglou.spi.server.KeyHandle;
import org.glouglou.spi.server.ProbeContext;
import org.glouglou.spi.server.ServerSettings;
import org.glouglou.spi.server.ServerSide;
import org.glouglou.spi.server.StateWriter;

/**
 * The network module's Redis representation (issue 4): NEWCONN, DATA, DELCONN, NAME and TRACE become the node, link,
 * connection and name hashes of {@link NetworkKeys}. DATA and DELCONN name their flow by the probe-local connection id
 * only, so each probe session has a bounded table of connection id to flow. Link totals are exact: DATA deltas are
 * summed per connection and DELCONN's totals add whatever DATA did not carry (a lost datagram, the last partial tick).
 * Single-threaded (the server's ingest thread); counters are read by the metrics thread.
 */
public final class NetworkServerSide implements ServerSide {
    /** 32 names per address: a CDN address shared by many sites still fits; beyond, new names are counted, not kept. */
    static final int MAX_NAMES = 32;
    /** 65536 latest names remembered to name hosts that appear after their DNS answer. */
    static final int NAME_CACHE = 65_536;
    /** 2 s rate window: a probe summarises every second, so a shorter window would alternate between 0 and 2x. */
    static final long RATE_WINDOW_MILLIS = 2000;
    /**
     * 48 fields per link: the dozen fixed ones, a few protocols and probes, and some thirty service ports; past that a
     * scanned pair keeps its totals but no more ports.
     */
    static final int MAX_LINK_FIELDS = 48;
    /** 16x the per-session bound across all sessions: memory stays bounded with any number of probes. */
    static final int TOTAL_FACTOR = 16;
    /**
     * 1 s: a connection's counters are written at most once a second while it lasts (at once when it opens and
     * closes). Viewers draw links and hosts, not connections, and a conn key written every tick for every busy flow was a
     * third of all Redis writes (and of their notifications); the totals stay exact, only up to a second old.
     */
    static final long CONN_REFRESH_MILLIS = 1000;
    /**
     * 1 s: the granularity of a host's {@code last_seen} and {@code seen.PROBE} once it exists, so a busy host's key
     * changes once a second rather than with every DATA of every flow it has (another third of the writes). Links keep
     * the millisecond: their counters change every tick anyway.
     */
    static final long NODE_SEEN_MILLIS = 1000;

    /** One flow of one session, with its keys computed once and handles on them (no key lookup per DATA). */
    static final class Conn {
        final String key;
        final String link;
        final String srcNode;
        final String dstNode;
        /** src is the link's A side. */
        final boolean srcIsA;
        /** Protocol name, for the link's protocol mix (issue 5). */
        final String proto;
        /** "proto.NAME", made once per flow rather than per DATA; interned so the core finds the field by identity. */
        final String protoField;
        long srcPkts;
        long srcBytes;
        long dstPkts;
        long dstBytes;
        long lastSeenMillis;
        /** Event time of the latest traffic (ms), for the conn key's last_seen. */
        long lastEventMillis;
        /** Server time the conn key's counters were last written; they wait in {@link #connsDue} meanwhile. */
        long countersWrittenAt = Long.MIN_VALUE / 2; // never: the first traffic is written at once
        boolean countersPending;
        boolean closed;

        /** The link's rate window, cached: looked up again only once it was forgotten as quiet. */
        Rate rate;

        /** The writer the handles below came from: made again if the core ever passes another one. */
        StateWriter writer;
        KeyHandle connH;
        KeyHandle linkH;
        KeyHandle srcH;
        KeyHandle dstH;

        Conn(String key, FlowKey f) {
            // interned: every conn of a link or host passes the same String, so the core's key lookups end on
            // identity instead of comparing text (the JVM's string table is weak: nothing leaks)
            this.key = key;
            this.link = NetworkKeys.link(f.src(), f.dst()).intern();
            this.srcNode = NetworkKeys.node(f.src()).intern();
            this.dstNode = NetworkKeys.node(f.dst()).intern();
            this.srcIsA = NetworkKeys.ordered(f.src(), f.dst());
            this.proto = NetworkModule.protoName(f.proto());
            this.protoField = ("proto." + proto).intern();
        }

        /** The handles on this flow's four keys, from {@code out}; they stay valid across the keys' expiry. */
        Conn handles(StateWriter out) {
            if (writer != out) {
                writer = out;
                connH = out.handle(key);
                linkH = out.handle(link);
                srcH = out.handle(srcNode);
                dstH = out.handle(dstNode);
            }
            return this;
        }
    }

    /** The per-session state: connection id to flow. */
    static final class SessionConns {
        final HashMap<Long, Conn> conns = new HashMap<>();
        /** "seen.PROBE", made once per session rather than twice per DATA event. */
        final String seenField;

        SessionConns(long probeId) {
            this.seenField = ("seen." + probeId).intern();
        }
    }

    /** Bytes of one link in the current rate window. */
    private static final class Rate {
        long ab;
        long ba;
        boolean wroteZero;
        boolean forgotten;
    }

    private ServerSettings settings = ServerSettings.defaults();
    private final Set<SessionConns> sessions = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    private final HashMap<String, Rate> rates = new HashMap<>();
    private final LinkedHashMap<InetAddress, String> latestName = new LinkedHashMap<>(1024, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<InetAddress, String> e) {
            return size() > NAME_CACHE;
        }
    };
    private int totalConns;
    /** Connections whose latest counters wait for {@link #CONN_REFRESH_MILLIS}, oldest first. */
    private final java.util.ArrayDeque<Conn> connsDue = new java.util.ArrayDeque<>();
    private long now;
    private long rateWindowStart;
    private long lastSweep;

    private volatile long unknownConn;
    private volatile long connsRefused;
    private volatile long connsExpired;
    private volatile long namesRefused;
    private volatile long duplicateConn;

    @Override
    public void start(ServerSettings s) {
        this.settings = s;
    }

    @Override
    public Object openSession(ProbeContext probe) {
        SessionConns s = new SessionConns(probe.probeId());
        sessions.add(s);
        return s;
    }

    @Override
    public void closeSession(ProbeContext probe, StateWriter out) {
        if (probe.state() instanceof SessionConns s && sessions.remove(s)) {
            totalConns -= s.conns.size();
            s.conns.values().forEach(c -> c.closed = true); // nothing more of theirs is written
            s.conns.clear();
        }
    }

    @Override
    public void onEvent(ProbeContext probe, long timeMicros, Event event, StateWriter out) {
        SessionConns s = (SessionConns) probe.state();
        long t = timeMicros / 1000;
        if (event instanceof Data d) {
            onData(s, d, t, out);
        } else if (event instanceof NewConn n) {
            onNewConn(probe, s, n, t, out);
        } else if (event instanceof DelConn d) {
            onDelConn(s, d, t, out);
        } else if (event instanceof Name n) {
            onName(n, out);
        } else if (event instanceof Trace tr) {
            onTrace(tr, probe.probeId(), out);
        }
    }

    private void onNewConn(ProbeContext probe, SessionConns s, NewConn n, long t, StateWriter out) {
        Long id = n.conn();
        FlowKey f = n.flow();
        Conn old = s.conns.get(id);
        if (old == null && (s.conns.size() >= settings.maxConnsPerSession()
                || totalConns >= settings.maxConnsPerSession() * TOTAL_FACTOR)) {
            connsRefused++;
            return;
        }
        if (old != null) {
            old.closed = true;
            duplicateConn++; // the probe reused an id: the new flow wins
        } else {
            totalConns++;
        }
        Conn c = new Conn(NetworkKeys.conn(probe.probeId(), probe.sessionId(), n.conn()), f);
        c.lastSeenMillis = now;
        s.conns.put(id, c);
        c.handles(out);
        KeyHandle k = c.connH;
        k.hset("proto", c.proto);
        k.hset("src", NetworkKeys.text(f.src()));
        k.hset("sport", f.sport());
        k.hset("dst", NetworkKeys.text(f.dst()));
        k.hset("dport", f.dport());
        k.hset("probe", probe.probeId());
        k.hset("state", "open");
        k.hsetIfAbsent("first_seen", t);
        k.hmax("last_seen", t);
        k.expire(settings.connTtlSeconds());
        touchNode(c.srcH, f.src(), t, s.seenField);
        touchNode(c.dstH, f.dst(), t, s.seenField);
        InetAddress a = c.srcIsA ? f.src() : f.dst();
        InetAddress b = c.srcIsA ? f.dst() : f.src();
        KeyHandle l = c.linkH;
        l.hset("a", NetworkKeys.text(a));
        l.hset("b", NetworkKeys.text(b));
        l.hsetIfAbsent("first_seen", t);
        l.hmax("last_seen", t);
        l.hincrBy("conns", 1);
        // for viewers (issue 5): which services a host pair uses, bounded so a port scan cannot grow the hash
        if (f.dport() != 0 && l.fieldCount() < MAX_LINK_FIELDS) {
            l.hincrBy("port." + f.dport(), 1);
        }
        l.hmax(s.seenField, t);
        l.expire(settings.linkTtlSeconds());
    }

    private void touchNode(KeyHandle node, InetAddress addr, long t, String seenField) {
        if (!node.exists()) {
            node.hset("addr", NetworkKeys.text(addr));
            node.hsetIfAbsent("first_seen", t);
            String name = latestName.get(addr);
            if (name != null) {
                node.hset("name", name);
            }
        }
        node.hmax("last_seen", t);
        node.hmax(seenField, t);
        node.expire(settings.nodeTtlSeconds());
    }

    private void onData(SessionConns s, Data d, long t, StateWriter out) {
        Conn c = s.conns.get(d.conn());
        if (c == null) {
            unknownConn++;
            return;
        }
        add(c.handles(out), d.srcPkts(), d.srcBytes(), d.dstPkts(), d.dstBytes(), t, s.seenField, false);
        c.connH.expire(settings.connTtlSeconds());
    }

    /** Adds traffic of one connection to its conn, link and node keys. */
    private void add(Conn c, long sp, long sb, long dp, long db, long t, String seenField, boolean closing) {
        c.srcPkts += sp;
        c.srcBytes += sb;
        c.dstPkts += dp;
        c.dstBytes += db;
        c.lastSeenMillis = now;
        c.lastEventMillis = Math.max(c.lastEventMillis, t);
        if (closing || now - c.countersWrittenAt >= CONN_REFRESH_MILLIS) {
            writeCounters(c);
        } else if (!c.countersPending) {
            c.countersPending = true;
            connsDue.add(c);
        }
        KeyHandle l = c.linkH;
        long abP = c.srcIsA ? sp : dp;
        long abB = c.srcIsA ? sb : db;
        long baP = c.srcIsA ? dp : sp;
        long baB = c.srcIsA ? db : sb;
        if (abP != 0 || abB != 0) {
            l.hincrBy("pkts_ab", abP);
            l.hincrBy("bytes_ab", abB);
        }
        if (baP != 0 || baB != 0) {
            l.hincrBy("pkts_ba", baP);
            l.hincrBy("bytes_ba", baB);
        }
        if (abB + baB != 0) {
            l.hincrBy(c.protoField, abB + baB); // the protocol mix, in bytes (issue 5)
        }
        l.hmax("last_seen", t);
        l.expire(settings.linkTtlSeconds());
        Rate r = c.rate;
        if (r == null || r.forgotten) {
            r = rates.get(c.link);
            if (r == null) {
                r = new Rate();
                rates.put(c.link, r);
            }
            c.rate = r;
        }
        r.ab += abB;
        r.ba += baB;
        long coarse = t - Math.floorMod(t, NODE_SEEN_MILLIS);
        c.srcH.hmax("last_seen", coarse);
        c.srcH.hmax(seenField, coarse);
        c.srcH.expire(settings.nodeTtlSeconds());
        c.dstH.hmax("last_seen", coarse);
        c.dstH.hmax(seenField, coarse);
        c.dstH.expire(settings.nodeTtlSeconds());
    }

    /** The conn key's counters and last_seen, as absolute values (a skipped write loses nothing). */
    private void writeCounters(Conn c) {
        c.countersWrittenAt = now;
        c.countersPending = false;
        KeyHandle k = c.connH;
        k.hset("src_pkts", c.srcPkts);
        k.hset("src_bytes", c.srcBytes);
        k.hset("dst_pkts", c.dstPkts);
        k.hset("dst_bytes", c.dstBytes);
        if (c.lastEventMillis != 0) {
            k.hmax("last_seen", c.lastEventMillis);
        }
    }

    private void onDelConn(SessionConns s, DelConn d, long t, StateWriter out) {
        Conn c = s.conns.remove(d.conn());
        if (c == null) {
            unknownConn++;
            return;
        }
        totalConns--;
        // what DATA did not carry: the last partial tick, or DATA lost in transit
        long sp = Math.max(0, d.srcPkts() - c.srcPkts);
        long sb = Math.max(0, d.srcBytes() - c.srcBytes);
        long dp = Math.max(0, d.dstPkts() - c.dstPkts);
        long db = Math.max(0, d.dstBytes() - c.dstBytes);
        add(c.handles(out), sp, sb, dp, db, t, s.seenField, true);
        c.closed = true;
        c.connH.hset("state", "closed");
        c.connH.hset("reason", d.reason().label);
        c.connH.expire(settings.closedConnTtlSeconds());
    }

    private void onName(Name n, StateWriter out) {
        String k = NetworkKeys.name(n.addr());
        if (out.fieldCount(k) >= MAX_NAMES) {
            namesRefused++;
            return;
        }
        out.hset(k, n.name(), n.source().label);
        out.expire(k, settings.nameTtlSeconds());
        latestName.put(n.addr(), n.name());
        String node = NetworkKeys.node(n.addr());
        if (out.exists(node)) {
            out.hset(node, "name", n.name());
        }
    }

    private void onTrace(Trace tr, long probeId, StateWriter out) {
        String node = NetworkKeys.node(tr.addr());
        if (!out.exists(node)) {
            return; // a distance alone does not make a host: the graph shows hosts that talk
        }
        out.hset(node, "hops", tr.hops());
        out.hset(node, "hops_method", tr.method().label);
        out.hset(node, "hops_probe", probeId);
        if (!tr.path().isEmpty()) {
            out.hset(node, "path", tr.path().stream().map(NetworkKeys::text).collect(Collectors.joining(",")));
        }
    }

    @Override
    public void onTick(long nowMillis, StateWriter out) {
        now = nowMillis;
        // counters held back by CONN_REFRESH_MILLIS: written once they are due (a flow that went quiet too)
        Conn due;
        while ((due = connsDue.peek()) != null && (due.closed || !due.countersPending
                || nowMillis - due.countersWrittenAt >= CONN_REFRESH_MILLIS)) {
            connsDue.poll();
            if (!due.closed && due.countersPending) {
                due.handles(out);
                writeCounters(due);
            }
        }
        if (rateWindowStart == 0) {
            rateWindowStart = nowMillis;
        }
        long elapsed = nowMillis - rateWindowStart;
        if (elapsed >= RATE_WINDOW_MILLIS) {
            rateWindowStart = nowMillis;
            Iterator<Map.Entry<String, Rate>> it = rates.entrySet().iterator();
            while (it.hasNext()) {
                Map.Entry<String, Rate> e = it.next();
                Rate r = e.getValue();
                if (r.ab == 0 && r.ba == 0) {
                    if (r.wroteZero || !out.exists(e.getKey())) {
                        r.forgotten = true;
                        it.remove(); // quiet for two windows: forget it until it moves again
                        continue;
                    }
                    r.wroteZero = true;
                } else {
                    r.wroteZero = false;
                }
                out.hset(e.getKey(), "rate_ab", r.ab * 1000 / elapsed);
                out.hset(e.getKey(), "rate_ba", r.ba * 1000 / elapsed);
                r.ab = 0;
                r.ba = 0;
            }
        }
        if (nowMillis - lastSweep >= 1000) {
            lastSweep = nowMillis;
            sweep(nowMillis);
        }
    }

    /** Forgets connections idle beyond their TTL: their keys have expired, their ids will not come back. */
    private void sweep(long nowMillis) {
        long idle = settings.connTtlSeconds() * 1000;
        for (SessionConns s : sessions) {
            Iterator<Conn> it = s.conns.values().iterator();
            while (it.hasNext()) {
                Conn c = it.next();
                if (c.lastSeenMillis == 0) {
                    c.lastSeenMillis = nowMillis; // opened before the first tick told us the time
                } else if (nowMillis - c.lastSeenMillis > idle) {
                    it.remove();
                    c.closed = true;
                    totalConns--;
                    connsExpired++;
                }
            }
        }
    }

    @Override
    public Map<String, Long> counters() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("unknown_conn", unknownConn);
        m.put("conns_refused", connsRefused);
        m.put("conns_expired", connsExpired);
        m.put("duplicate_conn", duplicateConn);
        m.put("names_refused", namesRefused);
        return m;
    }

    /** Live connections across sessions (tests). */
    int totalConns() {
        return totalConns;
    }

    List<SessionConns> sessionsForTest() {
        return new ArrayList<>(sessions);
    }
}
