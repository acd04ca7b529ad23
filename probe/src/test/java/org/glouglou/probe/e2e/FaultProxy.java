package org.glouglou.probe.e2e;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A seeded UDP fault proxy on loopback, between a sender (probe or relay) and its receiver: the sender is given the
 * proxy's port as its server. Each way it drops, duplicates and reorders a share of the datagrams (a reordered one is
 * held and released after the next one to three datagrams of its direction, or after 200 ms), decided by a
 * {@code Random} per direction from a fixed seed, so a run's decisions depend only on the order of the datagrams.
 * It can also black-hole everything (a dead path), inject datagrams towards the sender from its own address (an
 * attacker on the path), and it records the clear header of every datagram it sees (who handshook when, with which
 * session). Bounded: 8 held datagrams per direction, 64 senders, 200,000 records.
 */
final class FaultProxy implements AutoCloseable {
    /** Shares of datagrams, 0..1, each way. */
    record Faults(double drop, double duplicate, double reorder) {
        static final Faults NONE = new Faults(0, 0, 0);

        @Override
        public String toString() {
            return String.format("drop %.0f%%, duplicate %.0f%%, reorder %.0f%%", drop * 100, duplicate * 100,
                    reorder * 100);
        }
    }

    /** One datagram seen: when (System.nanoTime), which way, its clear header, and whether it went on. */
    record Seen(long nanos, boolean up, Datagrams.Header header, boolean forwarded) {
    }

    /** What the proxy did in one direction. */
    static final class Counters {
        final AtomicLong in = new AtomicLong();
        final AtomicLong forwarded = new AtomicLong();
        final AtomicLong dropped = new AtomicLong();
        final AtomicLong duplicated = new AtomicLong();
        final AtomicLong reordered = new AtomicLong();
        final AtomicLong blackholed = new AtomicLong();

        @Override
        public String toString() {
            return "in " + in + ", forwarded " + forwarded + ", dropped " + dropped + ", duplicated " + duplicated
                    + ", reordered " + reordered + (blackholed.get() > 0 ? ", black-holed " + blackholed : "");
        }
    }

    private static final int MAX_HELD = 8;
    private static final int MAX_CLIENTS = 64;
    private static final int MAX_SEEN = 200_000;
    private static final long HOLD_NANOS = 200_000_000L;

    final String name;
    private final DatagramSocket front;
    private final InetSocketAddress upstream;
    private final Faults faults;
    private final long seed;
    private final Direction up;
    final Counters upCounters = new Counters();
    final Counters downCounters = new Counters();
    private final Map<SocketAddress, Client> clients = Collections.synchronizedMap(new LinkedHashMap<>());
    private final List<Seen> seen = Collections.synchronizedList(new ArrayList<>());
    private final List<Thread> threads = Collections.synchronizedList(new ArrayList<>());
    private volatile boolean blackhole;
    private volatile boolean running = true;
    private volatile SocketAddress lastClient;
    private volatile long lastHelloTag = -1;

    FaultProxy(String name, int port, InetSocketAddress upstream, Faults faults, long seed) throws IOException {
        this.name = name;
        this.front = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        this.front.setSoTimeout(20);
        this.upstream = upstream;
        this.faults = faults;
        this.seed = seed;
        this.up = new Direction(true, new Random(seed), upCounters);
        Thread t = new Thread(this::frontLoop, "fault-proxy-" + name);
        t.setDaemon(true);
        threads.add(t);
        t.start();
    }

    int port() {
        return front.getLocalPort();
    }

    /** Drop everything both ways while on: to the sender, its receiver is dead. */
    void blackhole(boolean on) {
        blackhole = on;
    }

    /** Sends {@code datagram} to the last sender seen, from the proxy's own address (the sender's receiver). */
    void injectDown(byte[] datagram) throws IOException {
        SocketAddress to = lastClient;
        if (to == null) {
            throw new IllegalStateException(name + ": no sender seen yet");
        }
        front.send(new DatagramPacket(datagram, datagram.length, to));
    }

    /** The hello tag of the last HELLO the sender sent through, or -1. */
    long lastHelloTag() {
        return lastHelloTag;
    }

    /** Every datagram seen so far (a copy). */
    List<Seen> seen() {
        synchronized (seen) {
            return new ArrayList<>(seen);
        }
    }

    /** The session id of the last sealed datagram the sender sent through, or 0. */
    long currentSession() {
        List<Seen> s = seen();
        for (int i = s.size() - 1; i >= 0; i--) {
            if (s.get(i).up() && s.get(i).header().sealed()) {
                return s.get(i).header().sessionId();
            }
        }
        return 0;
    }

    String describe() {
        return name + " (" + faults + ", seed " + seed + "): up " + upCounters + "; down " + downCounters;
    }

    private void record(boolean isUp, byte[] d, int length, boolean forwarded) {
        Datagrams.Header h = Datagrams.Header.parse(d, length);
        if (h != null && seen.size() < MAX_SEEN) {
            seen.add(new Seen(System.nanoTime(), isUp, h, forwarded));
        }
    }

    private void frontLoop() {
        byte[] buf = new byte[65_535];
        DatagramPacket p = new DatagramPacket(buf, buf.length);
        while (running) {
            try {
                p.setLength(buf.length);
                front.receive(p);
                byte[] d = java.util.Arrays.copyOf(buf, p.getLength());
                SocketAddress from = p.getSocketAddress();
                lastClient = from;
                long tag = Datagrams.helloTag(d, d.length);
                if (tag != -1) {
                    lastHelloTag = tag;
                }
                Client c = client(from);
                if (c == null) {
                    continue;
                }
                up.handle(d, c.socket, upstream);
            } catch (SocketTimeoutException e) {
                try {
                    up.releaseOld(null, upstream);
                } catch (IOException ignored) {
                    // lost like on a network
                }
            } catch (IOException e) {
                // a send to a dead receiver: ICMP unreachable reported late; the datagram is lost like on a network
            }
        }
    }

    private Client client(SocketAddress from) throws IOException {
        synchronized (clients) {
            Client c = clients.get(from);
            if (c == null) {
                if (clients.size() >= MAX_CLIENTS) {
                    return null;
                }
                c = new Client(from, new Direction(false, new Random(seed ^ 0x5DEECE66DL ^ clients.size()),
                        downCounters));
                clients.put(from, c);
            }
            return c;
        }
    }

    /** One sender: its own socket towards the receiver, whose replies go back to the sender from the front. */
    private final class Client {
        final DatagramSocket socket;

        Client(SocketAddress sender, Direction down) throws IOException {
            socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            socket.setSoTimeout(20);
            Thread t = new Thread(() -> {
                byte[] buf = new byte[65_535];
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                while (running) {
                    try {
                        p.setLength(buf.length);
                        socket.receive(p);
                        down.handle(java.util.Arrays.copyOf(buf, p.getLength()), front, sender);
                    } catch (SocketTimeoutException e) {
                        try {
                            down.releaseOld(front, sender);
                        } catch (IOException ignored) {
                            // lost like on a network
                        }
                    } catch (IOException e) {
                        if (!running) {
                            return;
                        }
                        // ICMP port unreachable from a dead receiver: the next receive goes on
                    }
                }
            }, "fault-proxy-" + name + "-down");
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
    }

    /** The faults of one direction: its random sequence, its held datagrams. Used by one thread only. */
    private final class Direction {
        final boolean isUp;
        final Random random;
        final Counters counters;
        final ArrayDeque<Held> held = new ArrayDeque<>();

        Direction(boolean isUp, Random random, Counters counters) {
            this.isUp = isUp;
            this.random = random;
            this.counters = counters;
        }

        void handle(byte[] d, DatagramSocket out, SocketAddress to) throws IOException {
            counters.in.incrementAndGet();
            if (blackhole) {
                counters.blackholed.incrementAndGet();
                record(isUp, d, d.length, false);
                return;
            }
            // three draws for every datagram, so each decision depends only on the datagram's position
            boolean drop = random.nextDouble() < faults.drop();
            boolean duplicate = random.nextDouble() < faults.duplicate();
            boolean reorder = random.nextDouble() < faults.reorder();
            int after = 1 + random.nextInt(3);
            record(isUp, d, d.length, !drop);
            if (drop) {
                counters.dropped.incrementAndGet();
                return;
            }
            if (reorder) {
                counters.reordered.incrementAndGet();
                if (held.size() >= MAX_HELD) {
                    send(held.poll().data, out, to);
                }
                held.add(new Held(d, after, System.nanoTime()));
                if (duplicate) {
                    counters.duplicated.incrementAndGet();
                    send(d, out, to); // one copy now, one later
                }
                return;
            }
            send(d, out, to);
            if (duplicate) {
                counters.duplicated.incrementAndGet();
                send(d, out, to);
            }
            for (Held h : held) {
                h.after--;
            }
            held.removeIf(h -> {
                if (h.after <= 0) {
                    try {
                        send(h.data, out, to);
                    } catch (IOException ignored) {
                        // lost like on a network
                    }
                    return true;
                }
                return false;
            });
        }

        /** Releases what was held longer than 200 ms (time bound when no later datagram comes). */
        void releaseOld(DatagramSocket out, SocketAddress to) throws IOException {
            long now = System.nanoTime();
            while (!held.isEmpty() && now - held.peek().since > HOLD_NANOS) {
                Held h = held.poll();
                if (isUp) {
                    Client c = lastClient == null ? null : clients.get(lastClient);
                    if (c != null) {
                        send(h.data, c.socket, upstream);
                    }
                } else {
                    send(h.data, out, to);
                }
            }
        }

        private void send(byte[] d, DatagramSocket out, SocketAddress to) throws IOException {
            counters.forwarded.incrementAndGet();
            out.send(new DatagramPacket(d, d.length, to));
        }
    }

    private static final class Held {
        final byte[] data;
        int after;
        final long since;

        Held(byte[] data, int after, long since) {
            this.data = data;
            this.after = after;
            this.since = since;
        }
    }

    @Override
    public void close() {
        running = false;
        front.close();
        synchronized (clients) {
            clients.values().forEach(c -> c.socket.close());
        }
        for (Thread t : new ArrayList<>(threads)) {
            try {
                t.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
