package org.glouglou.protocol.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.glouglou.protocol.DatagramHeader;
import org.glouglou.protocol.DropReason;
import org.glouglou.protocol.RecordDecoder;
import org.glouglou.protocol.internal.InternalEvents;
import org.glouglou.protocol.session.AckWindow;
import org.glouglou.protocol.session.ProbeSecrets;
import org.glouglou.protocol.session.ReceiverSessions;
import org.glouglou.spi.Event;
import org.glouglou.spi.ModuleRegistry;

/**
 * A receiver for tests, built from the real parts (spec 5.8): {@link ReceiverSessions} behind a real UDP socket on
 * loopback, an {@link AckWindow} per sender boot, acknowledgements on every PONG and on their own when 16 wait. Its
 * "store" makes a datagram durable after a configurable delay, or never. FORWARDs from relays are opened: their events
 * are delivered as the origin's, and acknowledged per origin boot in FORWARD_ACKs to the relay they came through (spec
 * 5.6). It can fall silent (a dead receiver) and restart (new sessions and acknowledgement state on the same port).
 * One thread.
 */
public final class TestReceiver implements AutoCloseable {
    /** Acknowledge durable at once. */
    public static final long AT_ONCE = 0;
    /** Never durable: only RECEIVED acknowledgements, after 500 ms, as a slow store would give. */
    public static final long NEVER = -1;
    /** A datagram not durable after this long is acknowledged received (spec 5.8). */
    static final long RECEIVED_AFTER_MILLIS = 500;
    /** Durable datagrams waiting that make an ACK worth sending on its own. */
    static final int UNSOLICITED_AT = 16;

    /** An event as delivered, with who sent it. */
    public record Delivered(long probeId, long boot, long sessionId, long sequence, Event event) {
    }

    private final ModuleRegistry registry;
    private final ProbeSecrets secrets;
    private final DatagramSocket socket;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile boolean silent;
    private volatile boolean restart;
    private volatile long durableAfterMillis;
    private ReceiverSessions sessions;
    private final Map<String, AckWindow> windows = new HashMap<>();
    /** Per origin boot behind a relay: its window, and the relay its FORWARDs came through. */
    private final Map<List<Long>, AckWindow> originWindows = new HashMap<>();
    private final Map<List<Long>, Long> originRoutes = new HashMap<>();
    private final RecordDecoder decoder;
    /** {time due, probe, boot, sequence} of datagrams to make durable. */
    private final List<long[]> pendingDurable = new ArrayList<>();
    private final ConcurrentLinkedQueue<byte[]> toSend = new ConcurrentLinkedQueue<>();
    public final List<Delivered> delivered = new CopyOnWriteArrayList<>();
    public final List<ReceiverSessions.Session> established = new CopyOnWriteArrayList<>();
    /** Why each session closed, in order ("probe said BYE" for a BYE). */
    public final List<String> closed = new CopyOnWriteArrayList<>();
    public final AtomicLong datagrams = new AtomicLong();
    public final AtomicLong acksSent = new AtomicLong();
    public final AtomicLong unsolicitedAcks = new AtomicLong();
    private volatile InetSocketAddress lastPeer;
    /** The sequence number of the datagram being delivered (receive thread only). */
    private final long[] current = new long[1];

    public TestReceiver(ModuleRegistry registry, ProbeSecrets secrets, int port, long durableAfterMillis)
            throws IOException {
        this.registry = registry;
        this.secrets = secrets;
        this.durableAfterMillis = durableAfterMillis;
        this.sessions = newSessions();
        this.decoder = new RecordDecoder(registry);
        this.socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        this.socket.setSoTimeout(10);
        this.thread = new Thread(this::loop, "test-receiver-" + socket.getLocalPort());
        this.thread.setDaemon(true);
        this.thread.start();
    }

    private ReceiverSessions newSessions() {
        return new ReceiverSessions(new RecordDecoder(registry), secrets, ReceiverSessions.Config.defaults());
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) socket.getLocalSocketAddress();
    }

    /** Drops everything from now on and answers nothing: a receiver that died (or lost its network). */
    public void silence(boolean s) {
        this.silent = s;
    }

    /** Loses every session and what it was going to acknowledge, as a restarted process does. */
    public void restart() {
        this.restart = true;
    }

    public void durableAfter(long millis) {
        this.durableAfterMillis = millis;
    }

    /** Sends raw bytes to the last peer from the receiver's own address (a forger on the path). */
    public void sendRaw(ByteBuf d) {
        byte[] b = new byte[d.readableBytes()];
        d.readBytes(b);
        toSend.add(b);
    }

    /** The texts of the NOTICE events delivered, in order of arrival (repeats included). */
    public List<String> notices() {
        List<String> out = new ArrayList<>();
        for (Delivered d : delivered) {
            if (d.event() instanceof InternalEvents.Notice n) {
                out.add(n.text());
            }
        }
        return out;
    }

    public long count(Class<? extends Event> type) {
        return delivered.stream().filter(d -> type.isInstance(d.event())).count();
    }

    /** A relay's FORWARD: the origin's events are delivered as its own, its sequence number acknowledged per boot. */
    private void forwarded(ReceiverSessions.Session relay, InternalEvents.Forward f) {
        List<Long> origin = List.of(f.originProbe(), f.originBoot());
        originRoutes.put(origin, relay.probeId());
        long now = System.currentTimeMillis();
        originWindows.computeIfAbsent(origin, k -> new AckWindow()).accepted(f.originSequence(), now);
        long after = durableAfterMillis;
        if (after >= 0) {
            pendingDurable.add(new long[]{now + after, -f.originProbe(), f.originBoot(), f.originSequence()});
        }
        decoder.decode(Unpooled.wrappedBuffer(f.records()), f.originBaseTime(), new RecordDecoder.Listener() {
            @Override
            public void onEvent(long t, Event e) {
                delivered.add(new Delivered(f.originProbe(), f.originBoot(), -1, f.originSequence(), e));
            }

            @Override
            public void onSkipped(DropReason r, String detail) {
            }
        });
    }

    private AckWindow window(long probe, long boot) {
        return windows.computeIfAbsent(probe + ":" + boot, k -> new AckWindow());
    }

    private void loop() {
        byte[] b = new byte[65535];
        ReceiverSessions.Handler h = new ReceiverSessions.Handler() {
            @Override
            public void onEvent(ReceiverSessions.Session s, long t, Event e) {
                delivered.add(new Delivered(s.probeId(), s.boot(), s.sessionId(), current[0], e));
                if (e instanceof InternalEvents.Forward f) {
                    forwarded(s, f);
                }
            }

            @Override
            public void onPayload(ReceiverSessions.Session s, DatagramHeader header, ByteBuf records) {
                long now = System.currentTimeMillis();
                current[0] = header.sequence();
                window(s.probeId(), s.boot()).accepted(header.sequence(), now);
                long after = durableAfterMillis;
                if (after >= 0) {
                    pendingDurable.add(new long[]{now + after, s.probeId(), s.boot(), header.sequence()});
                }
            }

            @Override
            public void onSessionEstablished(ReceiverSessions.Session s) {
                established.add(s);
            }

            @Override
            public void onSessionClosed(ReceiverSessions.Session s, String why) {
                closed.add(why);
            }

            @Override
            public List<Event> onPing(ReceiverSessions.Session s) {
                makeDurable(System.currentTimeMillis());
                return acks(s, System.currentTimeMillis());
            }

            @Override
            public void onDrop(DropReason reason, long probeId, String detail) {
            }

            @Override
            public void reply(ByteBuf d, InetSocketAddress to) {
                send(d, to);
            }
        };
        while (running) {
            if (restart) {
                restart = false;
                sessions = newSessions();
                windows.clear();
                originWindows.clear();
                originRoutes.clear();
                pendingDurable.clear();
            }
            byte[] raw;
            while ((raw = toSend.poll()) != null) {
                if (lastPeer != null) {
                    send(Unpooled.wrappedBuffer(raw), lastPeer);
                }
            }
            DatagramPacket p = new DatagramPacket(b, b.length);
            try {
                socket.receive(p);
                if (silent) {
                    continue;
                }
                datagrams.incrementAndGet();
                lastPeer = (InetSocketAddress) p.getSocketAddress();
                sessions.receive(Unpooled.wrappedBuffer(b, 0, p.getLength()).copy(), lastPeer, System
                        .currentTimeMillis(), h);
            } catch (SocketTimeoutException e) {
                // go on: durable writes and unsolicited ACKs below
            } catch (IOException e) {
                return;
            }
            if (!silent) {
                unsolicited(System.currentTimeMillis());
            }
        }
    }

    private void makeDurable(long now) {
        for (var it = pendingDurable.iterator(); it.hasNext();) {
            long[] d = it.next();
            if (d[0] <= now) {
                if (d[1] < 0) {
                    originWindows.get(List.of(-d[1], d[2])).durable(d[3]);
                } else {
                    window(d[1], d[2]).durable(d[3]);
                }
                it.remove();
            }
        }
    }

    /** The ACK events for a session's sender now: durable ones, then the slow ones as received. */
    private List<Event> acks(ReceiverSessions.Session s, long now) {
        AckWindow w = window(s.probeId(), s.boot());
        List<Event> out = new ArrayList<>(2);
        InternalEvents.Ack d = w.durableAck();
        if (d != null) {
            out.add(d);
        }
        InternalEvents.Ack r = w.receivedAck(now - RECEIVED_AFTER_MILLIS);
        if (r != null) {
            out.add(r);
        }
        // the origins whose FORWARDs came through this session
        for (Map.Entry<List<Long>, AckWindow> o : originWindows.entrySet()) {
            if (originRoutes.get(o.getKey()) != s.probeId()) {
                continue;
            }
            InternalEvents.Ack od = o.getValue().durableAck();
            if (od != null) {
                out.add(new InternalEvents.ForwardAck(o.getKey().get(0), o.getKey().get(1), od.kind(), od.ranges()));
            }
            InternalEvents.Ack or = o.getValue().receivedAck(now - RECEIVED_AFTER_MILLIS);
            if (or != null) {
                out.add(new InternalEvents.ForwardAck(o.getKey().get(0), o.getKey().get(1), or.kind(), or.ranges()));
            }
        }
        acksSent.addAndGet(out.size());
        return out;
    }

    /** An ACK on its own for every session with 16 or more durable datagrams not yet acknowledged. */
    private void unsolicited(long now) {
        makeDurable(now);
        for (ReceiverSessions.Session s : sessions.sessions()) {
            AckWindow w = windows.get(s.probeId() + ":" + s.boot());
            int unsent = w == null ? 0 : w.unsent();
            for (Map.Entry<List<Long>, AckWindow> o : originWindows.entrySet()) {
                if (originRoutes.get(o.getKey()) == s.probeId()) {
                    unsent += o.getValue().unsent();
                }
            }
            if (unsent >= UNSOLICITED_AT && s.remote() != null) {
                ByteBuf d = sessions.seal(s, acks(s, now), now);
                if (d != null) {
                    unsolicitedAcks.incrementAndGet();
                    send(d, s.remote());
                }
            }
        }
    }

    private void send(ByteBuf d, InetSocketAddress to) {
        byte[] out = new byte[d.readableBytes()];
        d.readBytes(out);
        try {
            socket.send(new DatagramPacket(out, out.length, to));
        } catch (IOException e) {
            // closed
        }
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.join(2000);
        socket.close();
    }

    /** Waits for a condition, at most {@code millis}; fails with {@code what} when it does not come. */
    public static void await(BooleanSupplier c, long millis, java.util.function.Supplier<String> what)
            throws InterruptedException {
        long end = System.currentTimeMillis() + millis;
        while (!c.getAsBoolean()) {
            if (System.currentTimeMillis() > end) {
                throw new AssertionError("after " + millis + " ms: " + what.get());
            }
            Thread.sleep(5);
        }
    }
}
