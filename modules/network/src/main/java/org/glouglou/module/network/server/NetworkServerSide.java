package org.glouglou.module.network.server;

import java.net.InetAddress;
import java.net.UnknownHostException;
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
 * The network module's Redis representation (spec 4.1, 5.8; docs/architecture.txt 6.2): NEWCONN, DATA, DELCONN, NAME
 * and TRACE become the node, link, connection and name hashes of {@link NetworkKeys}, with idempotent merges only.
 * DATA and DELCONN carry a flow's cumulative counts; each flow contributes them to its link (contributor
 * probe:boot:conn), so Redis adds only their growth and a copy of an event, or an event applied by two servers, counts
 * once. Flows are kept per probe boot (connection ids are unique within a boot, across sessions) in a bounded table;
 * a DATA or DELCONN for a connection this process never saw is resolved from its conn key in Redis while the event
 * asks to be sent again. Single-threaded (the server's ingest thread); counters are read by the metrics thread.
 */
public final class NetworkServerSide implements ServerSide {
    /** 32 names per address: a CDN address shared by many sites still fits; beyond, new names are counted, not kept. */
    static final int MAX_NAMES = 32;
    /** 65536 latest names remembered to name hosts that appear after their DNS answer. */
    static final int NAME_CACHE = 65_536;
    /**
     * 48 fields per link: the dozen fixed ones, five per probe that saw it, a few protocols, and some twenty service
     * ports; past that a flow adds its traffic to the totals but to no port field (a scanned pair stays bounded).
     */
    static final int MAX_LINK_FIELDS = 48;
    /** 16x the per-boot bound across all boots: memory stays bounded with any number of probes. */
    static final int TOTAL_FACTOR = 16;
    /**
     * 1 s: a connection's counters are written at most once a second while it lasts (at once when it opens and
     * closes). Viewers draw links and hosts, not connections, and a conn key written every tick for every busy flow was a
     * third of all Redis writes; its counters are only what another server reads to resolve the flow.
     */
    static final long CONN_REFRESH_MILLIS = 1000;
    /**
     * 1 s: the granularity of a host's {@code last_seen} and {@code seen.PROBE} once it exists, so a busy host's key
     * changes once a second rather than with every DATA of every flow it has. Links keep the millisecond.
     */
    static final long NODE_SEEN_MILLIS = 1000;
    /**
     * 120 s a closed flow stays in the table: twice the probes' 60 s resend horizon, so a copy of its DELCONN finds it
     * without reading Redis.
     */
    static final long CLOSED_KEEP_MILLIS = 120_000;
    /** 2 s before a connection id Redis did not know is read again: the probe resends within 1-4 s. */
    static final long UNKNOWN_REREAD_MILLIS = 2_000;
    /** 4096 unknown connection ids being resolved per boot at most; more wait for a later copy of their events. */
    static final int MAX_UNKNOWN = 4096;
    private static final long PENDING = Long.MIN_VALUE;

    static final String[] TOTALS = {"pkts_ab", "bytes_ab", "pkts_ba", "bytes_ba"};

    /** One flow of one boot, with its keys computed once and handles on them (no key lookup per DATA). */
    static final class Conn {
        final FlowKey flow;
        final String key;
        final String link;
        final String srcNode;
        final String dstNode;
        final String contributor;
        /** src is the link's A side. */
        final boolean srcIsA;
        final String proto;
        /** What the flow contributes to on its link (see {@link BootConns#fields}). */
        final String[] fields;
        /** It counts in its port's field (the link had room when the flow started here). */
        final boolean portField;
        long srcPkts;
        long srcBytes;
        long dstPkts;
        long dstBytes;
        /** Server time of its latest event. */
        long lastSeenMillis;
        /** Event time of the latest traffic (ms), for the conn key's last_seen. */
        long lastEventMillis;
        /** Server time the conn key's counters were last written; they wait in {@link #connsDue} meanwhile. */
        long countersWrittenAt = Long.MIN_VALUE / 2; // never: the first traffic is written at once
        boolean countersPending;
        boolean closed;
        boolean gone;

        /** The writer the handles below came from: made again if the core ever passes another one. */
        StateWriter writer;
        KeyHandle connH;
        KeyHandle linkH;
        KeyHandle srcH;
        KeyHandle dstH;

        Conn(BootConns b, long id, FlowKey f, boolean portField) {
            this.flow = f;
            this.key = NetworkKeys.conn(b.probeId, b.boot, id);
            // interned: every conn of a link or host passes the same String, so the core's key lookups end on
            // identity instead of comparing text (the JVM's string table is weak: nothing leaks)
            this.link = NetworkKeys.link(f.src(), f.dst()).intern();
            this.srcNode = NetworkKeys.node(f.src()).intern();
            this.dstNode = NetworkKeys.node(f.dst()).intern();
            this.contributor = NetworkKeys.contributor(b.probeId, b.boot, id);
            this.srcIsA = NetworkKeys.ordered(f.src(), f.dst());
            this.proto = NetworkModule.protoName(f.proto());
            this.portField = portField && f.dport() != 0;
            this.fields = b.fields(proto, this.portField ? f.dport() : 0);
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

    /** The per-boot state: connection id to flow. */
    static final class BootConns {
        final long probeId;
        final long boot;
        final HashMap<Long, Conn> conns = new HashMap<>();
        /** Connection ids being read from Redis (PENDING) or read and absent (when). */
        final HashMap<Long, Long> unknown = new HashMap<>();
        /** "seen.PROBE", made once per boot rather than twice per DATA event. */
        final String seenField;
        /** The contribution fields, shared by the flows of one protocol and port. */
        final HashMap<String, String[]> fieldSets = new HashMap<>();
        final String[] perProbe;
        boolean ended;

        BootConns(long probeId, long boot) {
            this.probeId = probeId;
            this.boot = boot;
            this.seenField = ("seen." + probeId).intern();
            this.perProbe = new String[4];
            for (int i = 0; i < 4; i++) {
                perProbe[i] = (TOTALS[i] + "." + probeId).intern();
            }
        }

        /**
         * A flow's contribution to its link: the four totals, the same per probe, its bytes to the protocol mix, 1 to
         * the flow count, and 1 to its service port's field when it has one.
         */
        String[] fields(String proto, int port) {
            String k = proto + "/" + port;
            String[] f = fieldSets.get(k);
            if (f == null) {
                f = new String[port != 0 ? 11 : 10];
                System.arraycopy(TOTALS, 0, f, 0, 4);
                System.arraycopy(perProbe, 0, f, 4, 4);
                f[8] = ("proto." + proto).intern();
                f[9] = "conns";
                if (port != 0) {
                    f[10] = ("port." + port).intern();
                }
                fieldSets.put(k, f);
            }
            return f;
        }
    }

    private ServerSettings settings = ServerSettings.defaults();
    private final Set<BootConns> boots = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    private final LinkedHashMap<InetAddress, String> latestName = new LinkedHashMap<>(1024, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<InetAddress, String> e) {
            return size() > NAME_CACHE;
        }
    };
    private int totalConns;
    /** Connections whose latest counters wait for {@link #CONN_REFRESH_MILLIS}, oldest first. */
    private final java.util.ArrayDeque<Conn> connsDue = new java.util.ArrayDeque<>();
    /** The values of one contribution, with and without a port field, filled per event (the writer copies them). */
    private final long[] scratch11 = new long[11];
    private final long[] scratch10 = new long[10];
    private long now;
    private long lastSweep;

    private volatile long unknownConn;
    private volatile long resolvedConn;
    private volatile long absentConn;
    private volatile long connsRefused;
    private volatile long connsExpired;
    private volatile long namesRefused;
    private volatile long duplicateConn;

    @Override
    public void start(ServerSettings s) {
        this.settings = s;
    }

    @Override
    public Object openStream(ProbeContext probe) {
        BootConns b = new BootConns(probe.probeId(), probe.boot());
        boots.add(b);
        return b;
    }

    @Override
    public void closeStream(ProbeContext probe, StateWriter out) {
        if (probe.state() instanceof BootConns b && boots.remove(b)) {
            b.ended = true;
            totalConns -= b.conns.size();
            b.conns.values().forEach(c -> c.gone = true); // nothing more of theirs is written
            b.conns.clear();
            b.unknown.clear();
        }
    }

    @Override
    public void onEvent(ProbeContext probe, long timeMicros, Event event, StateWriter out) {
        BootConns b = (BootConns) probe.state();
        long t = timeMicros / 1000;
        if (event instanceof Data d) {
            Conn c = known(probe, b, d.conn(), out);
            if (c != null) {
                traffic(b, c.handles(out), d.srcPkts(), d.srcBytes(), d.dstPkts(), d.dstBytes(), t, false);
            }
        } else if (event instanceof NewConn n) {
            onNewConn(b, n, t, out);
        } else if (event instanceof DelConn d) {
            Conn c = known(probe, b, d.conn(), out);
            if (c != null) {
                c.handles(out);
                c.closed = true;
                traffic(b, c, d.srcPkts(), d.srcBytes(), d.dstPkts(), d.dstBytes(), t, true);
                c.connH.hset("state", "closed");
                c.connH.hset("reason", d.reason().label);
                // kept as long as the flow's mark: a copy of its events still finds it closed
                c.connH.expire(settings.markHorizonSeconds());
            }
        } else if (event instanceof Name n) {
            onName(n, out);
        } else if (event instanceof Trace tr) {
            onTrace(tr, probe.probeId(), out);
        }
    }

    private boolean fits(BootConns b) {
        return b.conns.size() < settings.maxConnsPerBoot() && totalConns < settings.maxConnsPerBoot()
                * TOTAL_FACTOR;
    }

    private void onNewConn(BootConns b, NewConn n, long t, StateWriter out) {
        Long id = n.conn();
        FlowKey f = n.flow();
        Conn c = b.conns.get(id);
        if (c != null && !c.flow.equals(f)) {
            duplicateConn++; // the probe reused an id within its boot: the new flow wins
            c.gone = true;
            b.conns.remove(id);
            totalConns--;
            c = null;
        }
        if (c == null) {
            if (!fits(b)) {
                connsRefused++;
                return;
            }
            String link = NetworkKeys.link(f.src(), f.dst());
            c = new Conn(b, id, f, out.fieldCount(link) < MAX_LINK_FIELDS);
            c.lastSeenMillis = now;
            b.conns.put(id, c);
            b.unknown.remove(id);
            totalConns++;
        }
        // a copy of a NEWCONN writes the same again: every write here is idempotent
        c.handles(out);
        KeyHandle k = c.connH;
        k.hset("proto", c.proto);
        k.hset("ipproto", f.proto());
        k.hset("src", NetworkKeys.text(f.src()));
        k.hset("sport", f.sport());
        k.hset("dst", NetworkKeys.text(f.dst()));
        k.hset("dport", f.dport());
        k.hset("probe", b.probeId);
        k.hset("boot", Long.toUnsignedString(b.boot));
        k.hsetIfAbsent("state", "open"); // never reopens a flow whose DELCONN is applied
        k.hmin("first_seen", t);
        k.hmax("last_seen", t);
        if (!c.closed) {
            k.expire(settings.connTtlSeconds());
        }
        touchNode(c.srcH, f.src(), t, b.seenField);
        touchNode(c.dstH, f.dst(), t, b.seenField);
        InetAddress a = c.srcIsA ? f.src() : f.dst();
        InetAddress z = c.srcIsA ? f.dst() : f.src();
        KeyHandle l = c.linkH;
        l.hset("a", NetworkKeys.text(a));
        l.hset("b", NetworkKeys.text(z));
        l.hmin("first_seen", t);
        l.hmax("last_seen", t);
        l.hmax(b.seenField, t);
        contribute(b, c);
        l.expire(settings.linkTtlSeconds());
    }

    private void touchNode(KeyHandle node, InetAddress addr, long t, String seenField) {
        if (!node.exists()) {
            node.hset("addr", NetworkKeys.text(addr));
            String name = latestName.get(addr);
            if (name != null) {
                node.hset("name", name);
            }
        }
        node.hmin("first_seen", t);
        node.hmax("last_seen", t);
        node.hmax(seenField, t);
        node.expire(settings.nodeTtlSeconds());
    }

    /** The flow's contribution to its link, from its largest counts so far. */
    private void contribute(BootConns b, Conn c) {
        long[] v = c.fields.length == 11 ? scratch11 : scratch10;
        long abP = c.srcIsA ? c.srcPkts : c.dstPkts;
        long abB = c.srcIsA ? c.srcBytes : c.dstBytes;
        long baP = c.srcIsA ? c.dstPkts : c.srcPkts;
        long baB = c.srcIsA ? c.dstBytes : c.srcBytes;
        v[0] = abP;
        v[1] = abB;
        v[2] = baP;
        v[3] = baB;
        v[4] = abP;
        v[5] = abB;
        v[6] = baP;
        v[7] = baB;
        v[8] = abB + baB; // the protocol mix, in bytes
        v[9] = 1; // the flow count
        if (v.length == 11) {
            v[10] = 1; // its service port
        }
        KeyHandle l = c.linkH;
        l.contribute(c.contributor, c.fields, v, c.closed);
        l.rate("rate_ab", "bytes_ab");
        l.rate("rate_ba", "bytes_ba");
    }

    /**
     * The flow's cumulative counts (a DATA, or DELCONN's totals): the largest seen so far are contributed to its link;
     * its hosts and its conn key follow.
     */
    private void traffic(BootConns b, Conn c, long sp, long sb, long dp, long db, long t, boolean closing) {
        c.srcPkts = Math.max(c.srcPkts, sp);
        c.srcBytes = Math.max(c.srcBytes, sb);
        c.dstPkts = Math.max(c.dstPkts, dp);
        c.dstBytes = Math.max(c.dstBytes, db);
        c.lastSeenMillis = now;
        c.lastEventMillis = Math.max(c.lastEventMillis, t);
        if (closing || now - c.countersWrittenAt >= CONN_REFRESH_MILLIS) {
            writeCounters(c);
        } else if (!c.countersPending) {
            c.countersPending = true;
            connsDue.add(c);
        }
        contribute(b, c);
        KeyHandle l = c.linkH;
        l.hmax("last_seen", t);
        l.hmax(b.seenField, t);
        l.expire(settings.linkTtlSeconds());
        long coarse = t - Math.floorMod(t, NODE_SEEN_MILLIS);
        c.srcH.hmax("last_seen", coarse);
        c.srcH.hmax(b.seenField, coarse);
        c.srcH.expire(settings.nodeTtlSeconds());
        c.dstH.hmax("last_seen", coarse);
        c.dstH.hmax(b.seenField, coarse);
        c.dstH.expire(settings.nodeTtlSeconds());
    }

    /** The conn key's counters and last_seen, as maxima (a skipped write loses nothing). */
    private void writeCounters(Conn c) {
        c.countersWrittenAt = now;
        c.countersPending = false;
        KeyHandle k = c.connH;
        k.hmax("src_pkts", c.srcPkts);
        k.hmax("src_bytes", c.srcBytes);
        k.hmax("dst_pkts", c.dstPkts);
        k.hmax("dst_bytes", c.dstBytes);
        if (c.lastEventMillis != 0) {
            k.hmax("last_seen", c.lastEventMillis);
        }
        if (!c.closed) {
            k.expire(settings.connTtlSeconds());
        }
    }

    /**
     * The flow of connection id {@code id}, or null: then it is read from Redis (its conn key, written with its
     * NEWCONN by whichever server took it) and the event asks to be sent again, by when the flow is known.
     */
    private Conn known(ProbeContext probe, BootConns b, long id, StateWriter out) {
        Conn c = b.conns.get(id);
        if (c != null) {
            return c;
        }
        unknownConn++;
        Long since = b.unknown.get(id);
        if (since == null ? b.unknown.size() < MAX_UNKNOWN : since != PENDING && now - since >= UNKNOWN_REREAD_MILLIS) {
            b.unknown.put(id, PENDING);
            out.read(NetworkKeys.conn(b.probeId, b.boot, id), fields -> resolved(b, id, fields, out));
        }
        probe.retryLater("unknown_conn");
        return null;
    }

    /** The answer to a read of an unknown connection's key. */
    private void resolved(BootConns b, long id, Map<String, String> h, StateWriter out) {
        if (b.ended || b.conns.containsKey(id)) {
            b.unknown.remove(id);
            return;
        }
        if (h == null) {
            b.unknown.remove(id); // Redis did not answer: read again with the next copy of the event
            return;
        }
        FlowKey f = flow(h);
        if (f == null) {
            absentConn++;
            b.unknown.put(id, now); // not (or no longer) in Redis: the NEWCONN may still come
            return;
        }
        b.unknown.remove(id);
        if (!fits(b)) {
            connsRefused++;
            return;
        }
        String link = NetworkKeys.link(f.src(), f.dst());
        Conn c = new Conn(b, id, f, out.fieldCount(link) < MAX_LINK_FIELDS);
        c.srcPkts = num(h, "src_pkts");
        c.srcBytes = num(h, "src_bytes");
        c.dstPkts = num(h, "dst_pkts");
        c.dstBytes = num(h, "dst_bytes");
        c.closed = "closed".equals(h.get("state"));
        c.lastSeenMillis = now;
        b.conns.put(id, c);
        totalConns++;
        resolvedConn++;
    }

    /** The 5-tuple a conn key holds, or null when it holds none (absent, or not a flow's key). */
    static FlowKey flow(Map<String, String> h) {
        try {
            String src = h.get("src");
            String dst = h.get("dst");
            if (src == null || dst == null || h.get("ipproto") == null) {
                return null;
            }
            return new FlowKey(Integer.parseInt(h.get("ipproto")), address(src), Integer.parseInt(h.getOrDefault(
                    "sport", "0")), address(dst), Integer.parseInt(h.getOrDefault("dport", "0")));
        } catch (NumberFormatException | UnknownHostException e) {
            return null;
        }
    }

    /** A literal address only: never a name lookup. */
    private static InetAddress address(String text) throws UnknownHostException {
        if (text.isEmpty() || !(Character.digit(text.charAt(0), 16) >= 0 || text.charAt(0) == ':')) {
            throw new UnknownHostException(text);
        }
        return InetAddress.getByName(text);
    }

    private static long num(Map<String, String> h, String f) {
        try {
            String v = h.get(f);
            return v == null ? 0 : Long.parseLong(v);
        } catch (NumberFormatException e) {
            return 0;
        }
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
        while ((due = connsDue.peek()) != null && (due.gone || !due.countersPending
                || nowMillis - due.countersWrittenAt >= CONN_REFRESH_MILLIS)) {
            connsDue.poll();
            if (!due.gone && due.countersPending) {
                due.handles(out);
                writeCounters(due);
            }
        }
        if (nowMillis - lastSweep >= 1000) {
            lastSweep = nowMillis;
            sweep(nowMillis);
        }
    }

    /**
     * Forgets open connections idle beyond their TTL (their keys have expired), closed ones past
     * {@link #CLOSED_KEEP_MILLIS}, and unknown ids due a new read.
     */
    private void sweep(long nowMillis) {
        long idle = settings.connTtlSeconds() * 1000;
        for (BootConns b : boots) {
            Iterator<Conn> it = b.conns.values().iterator();
            while (it.hasNext()) {
                Conn c = it.next();
                if (c.lastSeenMillis == 0) {
                    c.lastSeenMillis = nowMillis; // opened before the first tick told us the time
                } else if (nowMillis - c.lastSeenMillis > (c.closed ? CLOSED_KEEP_MILLIS : idle)) {
                    it.remove();
                    c.gone = true;
                    totalConns--;
                    if (!c.closed) {
                        connsExpired++;
                    }
                }
            }
            b.unknown.values().removeIf(since -> since != PENDING && nowMillis - since >= UNKNOWN_REREAD_MILLIS);
        }
    }

    @Override
    public Map<String, Long> counters() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("unknown_conn", unknownConn);
        m.put("resolved_conn", resolvedConn);
        m.put("absent_conn", absentConn);
        m.put("conns_refused", connsRefused);
        m.put("conns_expired", connsExpired);
        m.put("duplicate_conn", duplicateConn);
        m.put("names_refused", namesRefused);
        return m;
    }

    /** Live connections across boots (tests). */
    int totalConns() {
        return totalConns;
    }

    List<BootConns> bootsForTest() {
        return new ArrayList<>(boots);
    }
}
