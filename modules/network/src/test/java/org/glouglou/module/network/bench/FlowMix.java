package org.glouglou.module.network.bench;

import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import org.glouglou.module.network.FlowKey;
import org.glouglou.module.network.NetworkEvents.Data;
import org.glouglou.module.network.NetworkEvents.DelConn;
import org.glouglou.module.network.NetworkEvents.NewConn;
import org.glouglou.module.network.NetworkEvents.Reason;
import org.glouglou.module.network.NetworkModule;
import org.glouglou.protocol.PayloadBuilder;
import org.glouglou.protocol.ProtocolConstants;
import org.glouglou.protocol.crypto.SessionCipher;
import org.glouglou.protocol.session.AckWindow;
import org.glouglou.spi.Event;
import org.glouglou.spi.ModuleRegistry;
import org.glouglou.spi.TimedEvent;

/**
 * Event streams for measuring the wire cost of spec section 9: synthetic connection lives, and the event stream a
 * probe's flow table would emit for a ground-truth flow list (per-flow packets, bytes, first and last times), with
 * each flow's packets spread evenly over its duration and DATA per 100 ms tick carrying the totals so far (spec 4.1);
 * and the acknowledgements a receiver sends back for them (spec 5.8).
 */
public final class FlowMix {
    /** The probe's default tick: DATA is per flow per tick. */
    public static final long TICK_MICROS = 100_000;
    /** A UDP or ICMP flow ends by idle timeout: the probe's default. */
    static final long IDLE_MICROS = 30_000_000;

    public static final ModuleRegistry REGISTRY = new ModuleRegistry(List.of(new NetworkModule()));

    private FlowMix() {
    }

    /** One row of a ground-truth {@code *.flows.tsv}. */
    public record Flow(int proto, InetAddress a, int aport, InetAddress b, int bport, long pktsAb, long bytesAb,
            long pktsBa, long bytesBa, long firstMicros, long lastMicros) {
    }

    public static List<Flow> readTsv(Path tsv) throws IOException {
        List<Flow> flows = new ArrayList<>();
        for (String line : Files.readAllLines(tsv)) {
            if (line.isBlank() || line.startsWith("proto")) {
                continue;
            }
            String[] f = line.split("\t");
            flows.add(new Flow(Integer.parseInt(f[0]), InetAddress.getByName(f[1]), parsePort(f[2]), InetAddress
                    .getByName(f[3]), parsePort(f[4]), Long.parseLong(f[5]), Long.parseLong(f[6]),
                    Long.parseLong(
                            f[7]),
                    Long.parseLong(f[8]), micros(f[9]), micros(f[10])));
        }
        return flows;
    }

    private static int parsePort(String s) {
        return s.isEmpty() ? 0 : Integer.parseInt(s);
    }

    private static long micros(String epochSeconds) {
        return new java.math.BigDecimal(epochSeconds).movePointRight(6).longValue();
    }

    /**
     * What a flow table emits for these flows, in time order: NEWCONN and DATA at the end of the tick of the first
     * packet, DATA at the end of every tick with packets, DELCONN at the end of the last packet's tick (TCP: FIN) or
     * an idle timeout later (others). Connection ids count from {@code firstConn}.
     */
    public static List<TimedEvent> events(List<Flow> flows, long firstConn) {
        return events(flows, firstConn, false);
    }

    /**
     * As {@link #events(List, long)}; with {@code foldClosingTick}, a probe policy that needs no wire change: no DATA
     * in the tick that sends the flow's DELCONN, whose totals already tell the receiver that tick's traffic.
     */
    public static List<TimedEvent> events(List<Flow> flows, long firstConn, boolean foldClosingTick) {
        List<Flow> sorted = new ArrayList<>(flows);
        sorted.sort(Comparator.comparingLong(Flow::firstMicros));
        long t0 = sorted.isEmpty() ? 0 : sorted.get(0).firstMicros() / TICK_MICROS * TICK_MICROS;
        List<TimedEvent> out = new ArrayList<>();
        long conn = firstConn;
        for (Flow f : sorted) {
            FlowKey key = new FlowKey(f.proto(), f.a(), f.aport(), f.b(), f.bport());
            long first = tickEnd(f.firstMicros(), t0);
            out.add(new TimedEvent(1, first, new NewConn(conn, key)));
            boolean tcp = f.proto() == 6;
            long end = tcp ? tickEnd(f.lastMicros(), t0) : tickEnd(f.lastMicros() + IDLE_MICROS, t0);
            long[] total = new long[5];
            for (long[] t : spread(f, t0)) {
                for (int i = 1; i < 5; i++) {
                    total[i] += t[i];
                }
                if (!(foldClosingTick && t[0] == end)) {
                    out.add(new TimedEvent(1, t[0], new Data(conn, total[1], total[2], total[3], total[4], key)));
                }
            }
            out.add(new TimedEvent(1, end, new DelConn(conn, tcp ? Reason.FIN : Reason.IDLE, f.pktsAb(), f
                    .bytesAb(), f.pktsBa(), f.bytesBa(), key)));
            conn++;
        }
        // stable: within a tick, a flow's NEWCONN stays before its DATA
        out.sort(Comparator.comparingLong(TimedEvent::timeMicros));
        return out;
    }

    static long tickEnd(long micros, long t0) {
        return t0 + ((micros - t0) / TICK_MICROS + 1) * TICK_MICROS;
    }

    /** Per tick with traffic: {tick end, a-to-b packets, bytes, b-to-a packets, bytes}. */
    static long[][] spread(Flow f, long t0) {
        java.util.TreeMap<Long, long[]> byTick = new java.util.TreeMap<>();
        place(byTick, f, f.pktsAb(), f.bytesAb(), 1, t0);
        place(byTick, f, f.pktsBa(), f.bytesBa(), 3, t0);
        return byTick.values().toArray(new long[0][]);
    }

    private static void place(java.util.TreeMap<Long, long[]> byTick, Flow f, long pkts, long bytes, int slot,
            long t0) {
        long dur = f.lastMicros() - f.firstMicros();
        for (long i = 0; i < pkts; i++) {
            long t = f.firstMicros() + (pkts == 1 ? 0 : dur * i / (pkts - 1));
            long size = bytes / pkts + (i < bytes % pkts ? 1 : 0);
            long[] row = byTick.computeIfAbsent(tickEnd(t, t0), k -> new long[]{k, 0, 0, 0, 0});
            row[slot]++;
            row[slot + 1] += size;
        }
    }

    /** A connection's life: NEWCONN, {@code dataTicks} DATA a tick apart, DELCONN; IPv4 or IPv6. */
    public static List<TimedEvent> connectionLives(int flows, int dataTicks, boolean ipv6, long t0) {
        List<TimedEvent> out = new ArrayList<>();
        java.util.Random rnd = new java.util.Random(42);
        for (int c = 1; c <= flows; c++) {
            FlowKey key = new FlowKey(6, address(rnd, ipv6), 32768 + rnd.nextInt(28000), address(rnd, ipv6), 443);
            long start = t0 + (c % 10) * TICK_MICROS;
            out.add(new TimedEvent(1, start, new NewConn(c, key)));
            long sp = 0, sb = 0, dp = 0, db = 0;
            for (int i = 0; i < dataTicks; i++) {
                // a download: small requests up, full segments down
                long p1 = 1 + rnd.nextInt(4), b1 = p1 * (52 + rnd.nextInt(100));
                long p2 = 1 + rnd.nextInt(12), b2 = p2 * 1420 + rnd.nextInt(1400);
                sp += p1;
                sb += b1;
                dp += p2;
                db += b2;
                out.add(new TimedEvent(1, start + i * TICK_MICROS, new Data(c, sp, sb, dp, db, key)));
            }
            out.add(new TimedEvent(1, start + dataTicks * TICK_MICROS, new DelConn(c, Reason.FIN, sp, sb, dp, db,
                    key)));
        }
        out.sort(Comparator.comparingLong(TimedEvent::timeMicros));
        return out;
    }

    private static InetAddress address(java.util.Random rnd, boolean ipv6) {
        byte[] b = new byte[ipv6 ? 16 : 4];
        rnd.nextBytes(b);
        b[0] = (byte) (ipv6 ? 0x20 : 10);
        try {
            return InetAddress.getByAddress(b);
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * Encodes events into datagrams of {@code maxDatagram} bytes, sealed when {@code key} is not null; when
     * {@code flushEveryTick}, a datagram also ends at each tick boundary, as a probe that never holds events back
     * does. Each datagram goes to {@code sink}.
     */
    public static void encode(List<TimedEvent> events, int maxDatagram, byte[] key, boolean flushEveryTick,
            Consumer<ByteBuf> sink) {
        encode(events, maxDatagram, key, flushEveryTick, (d, t) -> sink.accept(d));
    }

    /** As {@link #encode(List, int, byte[], boolean, Consumer)}, with the time each datagram leaves (its last event's). */
    public static void encode(List<TimedEvent> events, int maxDatagram, byte[] key, boolean flushEveryTick,
            BiConsumer<ByteBuf, Long> sink) {
        PayloadBuilder b = new PayloadBuilder(REGISTRY, maxDatagram, 1000);
        SessionCipher cipher = key == null ? null : new SessionCipher(key);
        long seq = 0;
        long tick = Long.MIN_VALUE;
        long last = 0;
        for (TimedEvent te : events) {
            long t = te.timeMicros() / TICK_MICROS;
            if (flushEveryTick && t != tick && !b.isEmpty()) {
                sink.accept(b.finish(1, 1, ++seq, cipher), last);
            }
            tick = t;
            Event e = te.event();
            if (!b.add(te.timeMicros(), e)) {
                sink.accept(b.finish(1, 1, ++seq, cipher), last);
                b.add(te.timeMicros(), e);
            }
            last = te.timeMicros();
        }
        if (!b.isEmpty()) {
            sink.accept(b.finish(1, 1, ++seq, cipher), last);
        }
    }

    /**
     * Bytes on the wire (UDP payload) and datagrams for a stream; {@code ackBytes}: of the acknowledgements coming back
     * (spec 5.8), counted in {@code bytes} too.
     */
    public record Cost(long bytes, long datagrams, long events, long ackBytes) {
        public Cost(long bytes, long datagrams, long events) {
            this(bytes, datagrams, events, 0);
        }
    }

    public static Cost cost(List<TimedEvent> events, byte[] key, boolean flushEveryTick) {
        long[] c = new long[2];
        encode(events, ProtocolConstants.DEFAULT_MAX_DATAGRAM, key, flushEveryTick, d -> {
            c[0] += d.readableBytes();
            c[1]++;
        });
        return new Cost(c[0], c[1], events.size());
    }

    /** As {@link #cost}, plus the acknowledgements of its datagrams ({@link #ackBytes}). */
    public static Cost costWithAcks(List<TimedEvent> events, byte[] key, boolean flushEveryTick) {
        long[] c = new long[2];
        List<Long> sent = new ArrayList<>();
        encode(events, ProtocolConstants.DEFAULT_MAX_DATAGRAM, key, flushEveryTick, (d, t) -> {
            c[0] += d.readableBytes();
            c[1]++;
            sent.add(t);
        });
        long acks = ackBytes(sent, key);
        return new Cost(c[0] + acks, c[1], events.size(), acks);
    }

    /** The probe's PING interval: the receiver's acknowledgements ride on the PONGs (spec 5.7). */
    static final long PING_MICROS = 500_000;
    /** Datagram to durable at the receiver: a store tick and a Redis round trip (spec 5.8, typically 100-250 ms). */
    static final long DURABLE_AFTER_MICROS = 150_000;
    /** Durable datagrams waiting that make the receiver send an ACK on its own. */
    static final int UNSOLICITED_AT = 16;

    /**
     * Bytes of the acknowledgements a receiver sends back for datagrams sent at these times (spec 5.8), simulated with
     * the receivers' real {@link AckWindow}: the probe PINGs every 500 ms from its first datagram until the last is
     * acknowledged (its PINGs take sequence numbers too), each datagram is durable 150 ms after it arrives, each PING's
     * PONG carries the ACK records (durable, and received for what waited over 500 ms), and an ACK leaves on its own
     * when 16 durable datagrams wait. Counted: the ACK records' bytes in the PONGs (the PONGs themselves are the
     * liveness check, paid whatever is sent), whole unsolicited datagrams.
     */
    public static long ackBytes(List<Long> sentMicros, byte[] key) {
        if (sentMicros.isEmpty()) {
            return 0;
        }
        SessionCipher cipher = key == null ? null : new SessionCipher(key);
        PayloadBuilder b = new PayloadBuilder(REGISTRY, ProtocolConstants.DEFAULT_MAX_DATAGRAM, 1000);
        AckWindow w = new AckWindow();
        // the sends in time order, PINGs (-1) among the datagrams (+1)
        java.util.TreeMap<Long, Integer> sends = new java.util.TreeMap<>();
        long first = sentMicros.get(0);
        long end = sentMicros.get(sentMicros.size() - 1) + 2 * PING_MICROS;
        for (long t : sentMicros) {
            sends.merge(t, 1, Integer::sum);
        }
        java.util.List<long[]> durable = new java.util.ArrayList<>(); // {time, seq}
        long seq = 0;
        long bytes = 0;
        long nextPing = first;
        int d = 0;
        var it = sends.entrySet().iterator();
        var nextSend = it.hasNext() ? it.next() : null;
        while (nextPing <= end || nextSend != null) {
            boolean ping = nextSend == null || nextPing <= nextSend.getKey();
            long now = ping ? nextPing : nextSend.getKey();
            while (d < durable.size() && durable.get(d)[0] <= now) {
                w.durable(durable.get(d++)[1]);
                if (w.unsent() >= UNSOLICITED_AT) {
                    bytes += datagram(b, cipher, acks(w, durable.get(d - 1)[0]), durable.get(d - 1)[0]);
                }
            }
            if (ping) {
                w.accepted(++seq, now);
                durable.add(new long[]{now, seq}); // a PING causes no write: durable at once
                List<Event> a = acks(w, now);
                if (!a.isEmpty()) {
                    List<Event> pong = new ArrayList<>(a);
                    pong.add(0, new org.glouglou.protocol.internal.InternalEvents.Pong(seq));
                    bytes += datagram(b, cipher, pong, now) - datagram(b, cipher, List.of(pong.get(0)), now);
                }
                nextPing += PING_MICROS;
            } else {
                for (int i = 0; i < nextSend.getValue(); i++) {
                    w.accepted(++seq, now);
                    durable.add(new long[]{now + DURABLE_AFTER_MICROS, seq});
                }
                durable.sort(java.util.Comparator.comparingLong(x -> x[0]));
                nextSend = it.hasNext() ? it.next() : null;
            }
        }
        return bytes;
    }

    private static List<Event> acks(AckWindow w, long nowMicros) {
        List<Event> out = new ArrayList<>(2);
        var durable = w.durableAck();
        if (durable != null) {
            out.add(durable);
        }
        var received = w.receivedAck(nowMicros - PING_MICROS);
        if (received != null) {
            out.add(received);
        }
        return out;
    }

    private static long downSequence;

    /** The size of a sealed receiver-to-probe datagram of these events (a fresh sequence number: a fresh nonce). */
    private static long datagram(PayloadBuilder b, SessionCipher cipher, List<Event> events, long nowMicros) {
        for (Event e : events) {
            b.add(nowMicros, e);
        }
        return b.finish(1, 1, ++downSequence, cipher).readableBytes();
    }
}
