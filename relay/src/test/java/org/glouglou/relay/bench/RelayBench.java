package org.glouglou.relay.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.glouglou.protocol.DropReason;
import org.glouglou.protocol.PayloadBuilder;
import org.glouglou.protocol.ProtocolConstants;
import org.glouglou.protocol.internal.InternalEvents;
import org.glouglou.protocol.session.ProbeSecrets;
import org.glouglou.protocol.session.ProbeSession;
import org.glouglou.protocol.session.ReceiverSessions;
import org.glouglou.protocol.session.ReceiverSessions.Session;
import org.glouglou.protocol.transport.ExportPipeline;
import org.glouglou.protocol.transport.Uplink;
import org.glouglou.relay.Relay;
import org.glouglou.spi.Event;
import org.glouglou.spi.ModuleRegistry;

/**
 * Relay figures (spec 5.6): forwarding throughput of one relay (datagrams/s and events/s reaching its upstream) and the latency
 * one hop adds. A probe's uplink sends full datagrams of NOTICE events (about 20 per datagram) as fast as the relay
 * takes them; the upstream is a bare receiver (ReceiverSessions on its own socket) that counts what arrives.
 * Latency: one-event datagrams at 200/s, probe -> upstream direct vs through the relay; each event carries its send
 * time. Bounded: a few seconds per phase. Usage: RelayBench [--seconds N] [--flush MS]
 */
public final class RelayBench {
    static final ModuleRegistry REGISTRY = ModuleRegistry.load();
    /** The bench's sink acknowledges nothing: its probes send each payload once. */
    static final Uplink.Config SEND_ONCE = Uplink.Config.defaults().withResend(null);

    /** The upstream: counts events inside FORWARDs, and one-way latency of timestamped notices. */
    static final class Sink implements ReceiverSessions.Handler, AutoCloseable {
        final DatagramSocket socket;
        final ReceiverSessions sessions;
        final AtomicLong datagrams = new AtomicLong();
        final AtomicLong events = new AtomicLong();
        final List<Long> latenciesMicros = new ArrayList<>();
        volatile boolean running = true;
        final Thread thread;

        Sink(ProbeSecrets secrets) throws Exception {
            socket = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
            socket.setReceiveBufferSize(8 << 20);
            sessions = new ReceiverSessions(new org.glouglou.protocol.RecordDecoder(REGISTRY), secrets,
                    ReceiverSessions.Config.defaults());
            thread = new Thread(this::run, "sink");
            thread.setDaemon(true);
            thread.start();
        }

        InetSocketAddress address() {
            return (InetSocketAddress) socket.getLocalSocketAddress();
        }

        void run() {
            byte[] buf = new byte[65535];
            DatagramPacket p = new DatagramPacket(buf, buf.length);
            while (running) {
                try {
                    p.setLength(buf.length);
                    socket.receive(p);
                    sessions.receive(Unpooled.wrappedBuffer(buf, 0, p.getLength()).copy(), (InetSocketAddress) p
                            .getSocketAddress(), System.currentTimeMillis(), this);
                } catch (Exception e) {
                    // closed
                }
            }
        }

        @Override
        public void onEvent(Session s, long t, Event e) {
            if (e instanceof InternalEvents.Forward f) {
                datagrams.incrementAndGet();
                new org.glouglou.protocol.RecordDecoder(REGISTRY).decode(Unpooled.wrappedBuffer(f.records()), f
                        .originBaseTime(), new org.glouglou.protocol.RecordDecoder.Listener() {
                            @Override
                            public void onEvent(long t2, Event inner) {
                                count(inner);
                            }

                            @Override
                            public void onSkipped(DropReason r, String d) {
                            }
                        });
            } else {
                count(e);
            }
        }

        void count(Event e) {
            events.incrementAndGet();
            if (e instanceof InternalEvents.Notice n && n.text().startsWith("t=")) {
                long sent = Long.parseLong(n.text().substring(2));
                synchronized (latenciesMicros) {
                    latenciesMicros.add(System.nanoTime() / 1000 - sent);
                }
            }
        }

        @Override
        public void onDrop(DropReason reason, long probeId, String detail) {
        }

        @Override
        public void reply(ByteBuf d, InetSocketAddress to) {
            try {
                byte[] b = new byte[d.readableBytes()];
                d.readBytes(b);
                socket.send(new DatagramPacket(b, b.length, to));
            } catch (Exception e) {
                // ignore
            }
        }

        @Override
        public void close() {
            running = false;
            socket.close();
        }
    }

    record Id(long id, String line) {
        byte[] secret() {
            return Base64.getDecoder().decode(line.split(" ")[1]);
        }
    }

    static ProbeSecrets secrets(Id... ids) throws Exception {
        Path f = Files.createTempFile("gg-bench", ".secrets");
        StringBuilder b = new StringBuilder();
        for (Id i : ids) {
            b.append(i.line).append('\n');
        }
        Files.writeString(f, b);
        ProbeSecrets s = ProbeSecrets.load(f);
        Files.delete(f);
        return s;
    }

    public static void main(String[] args) throws Exception {
        int seconds = 5;
        long flush = 10;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--seconds")) {
                seconds = Integer.parseInt(args[++i]);
            } else if (args[i].equals("--flush")) {
                flush = Long.parseLong(args[++i]);
            }
        }
        Id probe = new Id(7, ProbeSecrets.newLine(7, "bench-probe"));
        Id relayId = new Id(101, ProbeSecrets.newLine(101, "bench-relay"));
        try (Sink sink = new Sink(secrets(probe, relayId))) {
            ExportPipeline relayPipe = new ExportPipeline(REGISTRY, ProtocolConstants.DEFAULT_MAX_DATAGRAM, 4096,
                    false);
            Uplink relayUp = new Uplink(List.of(sink.address()), new ProbeSession(REGISTRY, relayId.id, relayId
                    .secret(), "relay", "bench", false), REGISTRY, relayPipe, Relay.uplinkConfig());
            try (Relay relay = new Relay(REGISTRY, new Relay.Settings(new InetSocketAddress("127.0.0.1", 0), secrets(
                    probe), ProtocolConstants.DEFAULT_MAX_DATAGRAM, 1e9, flush, 3600, Relay.DEFAULT_QUEUE), relayId.id,
                    relayPipe,
                    relayUp)) {
                relay.bind();
                relay.start();
                Thread.sleep(300);

                // throughput: full datagrams, as fast as the probe's uplink sends (blocking queue: never dropped)
                ExportPipeline pipe = new ExportPipeline(REGISTRY, ProtocolConstants.DEFAULT_MAX_DATAGRAM, 256, true);
                ProbeSession ps = new ProbeSession(REGISTRY, probe.id, probe.secret(), "probe", "bench", false);
                // the sink does not acknowledge: the probes send once (forwarding is measured, not resending)
                try (Uplink up = new Uplink(List.of(relay.address()), ps, REGISTRY, pipe, SEND_ONCE)) {
                    up.start();
                    while (!up.established()) {
                        Thread.sleep(10);
                    }
                    // warm-up, then measure
                    run(pipe, sink, 1, false);
                    long d0 = sink.datagrams.get();
                    long e0 = sink.events.get();
                    long in0 = relay.counters().get("forward_datagrams_in");
                    long t0 = System.nanoTime();
                    run(pipe, sink, seconds, false);
                    double s = (System.nanoTime() - t0) / 1e9;
                    Thread.sleep(200);
                    long in = relay.counters().get("forward_datagrams_in") - in0;
                    System.out.printf("throughput (flush %d ms, %d s): relay took %.0f probe datagrams/s; upstream got"
                            + " %.0f FORWARDs/s, %.0f events/s; relay drops %s%n", flush, seconds, in / s,
                            (sink.datagrams
                                    .get() - d0) / s,
                            (sink.events.get() - e0) / s, relay.counters());
                    latency(pipe, sink, "through the relay", seconds);
                }
                // direct: the same probe straight to the sink
                ExportPipeline pipe2 = new ExportPipeline(REGISTRY, ProtocolConstants.DEFAULT_MAX_DATAGRAM, 256, true);
                ProbeSession ps2 = new ProbeSession(REGISTRY, probe.id, probe.secret(), "probe", "bench", false);
                try (Uplink up = new Uplink(List.of(sink.address()), ps2, REGISTRY, pipe2, SEND_ONCE)) {
                    up.start();
                    while (!up.established()) {
                        Thread.sleep(10);
                    }
                    latency(pipe2, sink, "direct", seconds);
                }
            }
        }
    }

    /** Emits full datagrams of 20 notices for {@code seconds}. */
    static void run(ExportPipeline pipe, Sink sink, int seconds, boolean unused) {
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        String text = "x".repeat(40);
        while (System.nanoTime() < end) {
            pipe.emit(System.currentTimeMillis() * 1000, new InternalEvents.Notice(6, text));
        }
        pipe.flush();
    }

    static void latency(ExportPipeline pipe, Sink sink, String label, int seconds) throws Exception {
        synchronized (sink.latenciesMicros) {
            sink.latenciesMicros.clear();
        }
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        while (System.nanoTime() < end) {
            pipe.emit(System.currentTimeMillis() * 1000, new InternalEvents.Notice(6, "t=" + System.nanoTime()
                    / 1000));
            pipe.flush();
            Thread.sleep(5);
        }
        Thread.sleep(300);
        long[] l;
        synchronized (sink.latenciesMicros) {
            l = sink.latenciesMicros.stream().mapToLong(Long::longValue).toArray();
        }
        Arrays.sort(l);
        if (l.length == 0) {
            System.out.println(label + ": nothing arrived");
            return;
        }
        System.out.printf("latency %s: %d samples, median %.2f ms, p90 %.2f ms, p99 %.2f ms%n", label, l.length,
                l[l.length / 2] / 1000.0, l[l.length * 9 / 10] / 1000.0, l[l.length * 99 / 100] / 1000.0);
    }
}
