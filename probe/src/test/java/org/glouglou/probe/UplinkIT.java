package org.glouglou.probe;

import static org.junit.jupiter.api.Assertions.*;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.glouglou.protocol.transport.ExportPipeline;
import org.glouglou.protocol.transport.Uplink;
import org.glouglou.protocol.DropReason;
import org.glouglou.protocol.RecordDecoder;
import org.glouglou.protocol.internal.InternalEvents;
import org.glouglou.protocol.session.ProbeSecrets;
import org.glouglou.protocol.session.ProbeSession;
import org.glouglou.protocol.session.ReceiverSessions;
import org.glouglou.spi.Event;
import org.glouglou.spi.ModuleRegistry;
import org.junit.jupiter.api.Test;

/**
 * The probe's uplink against real receivers on loopback (ReceiverSessions behind real UDP sockets): sealed
 * delivery, failover to the second receiver within 2 s when the first goes away, and a new session after the
 * receiver restarts, with what was lost in between counted rather than hidden.
 */
class UplinkIT {
    static final byte[] SECRET = new byte[32];
    final ModuleRegistry registry = ModuleRegistry.internalOnly();

    /** A receiver: a socket, ReceiverSessions, and the notices it got, in order. */
    final class Receiver implements AutoCloseable {
        final DatagramSocket socket;
        final ReceiverSessions sessions = new ReceiverSessions(new RecordDecoder(registry), new ProbeSecrets(Map.of(
                9L, new ProbeSecrets.Entry(9, SECRET, "p9"))), ReceiverSessions.Config.defaults());
        final ConcurrentLinkedQueue<String> notices = new ConcurrentLinkedQueue<>();
        final AtomicBoolean running = new AtomicBoolean(true);
        final Thread thread;

        Receiver(int port) throws IOException {
            socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            socket.setSoTimeout(50);
            thread = new Thread(this::loop);
            thread.setDaemon(true);
            thread.start();
        }

        InetSocketAddress address() {
            return (InetSocketAddress) socket.getLocalSocketAddress();
        }

        void loop() {
            byte[] b = new byte[65535];
            ReceiverSessions.Handler h = new ReceiverSessions.Handler() {
                @Override
                public void onEvent(ReceiverSessions.Session s, long t, Event e) {
                    if (e instanceof InternalEvents.Notice n) {
                        notices.add(n.text());
                    }
                }

                @Override
                public void onDrop(DropReason reason, long probeId, String detail) {
                }

                @Override
                public void reply(ByteBuf d, InetSocketAddress to) {
                    byte[] out = new byte[d.readableBytes()];
                    d.readBytes(out);
                    try {
                        socket.send(new DatagramPacket(out, out.length, to));
                    } catch (IOException e) {
                        // closed
                    }
                }
            };
            while (running.get()) {
                DatagramPacket p = new DatagramPacket(b, b.length);
                try {
                    socket.receive(p);
                    sessions.receive(Unpooled.wrappedBuffer(b, 0, p.getLength()).copy(), (InetSocketAddress) p
                            .getSocketAddress(), System.currentTimeMillis(), h);
                } catch (SocketTimeoutException e) {
                    // poll running
                } catch (IOException e) {
                    return;
                }
            }
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            thread.join(2000);
            socket.close();
        }
    }

    static boolean waitFor(java.util.function.BooleanSupplier c, long millis) throws InterruptedException {
        long end = System.currentTimeMillis() + millis;
        while (!c.getAsBoolean()) {
            if (System.currentTimeMillis() > end) {
                return false;
            }
            Thread.sleep(10);
        }
        return true;
    }

    Uplink uplink(List<InetSocketAddress> to, ExportPipeline pipeline) throws IOException {
        ProbeSession s = new ProbeSession(registry, 9, SECRET, "p9", "test", false);
        return new Uplink(to, s, registry, pipeline, Uplink.Config.defaults());
    }

    @Test
    void failsOverToTheSecondReceiverWithinTwoSeconds() throws Exception {
        Receiver first = new Receiver(0);
        try (Receiver second = new Receiver(0)) {
            ExportPipeline pipeline = new ExportPipeline(registry, 1200, 64, false);
            try (Uplink u = uplink(List.of(first.address(), second.address()), pipeline)) {
                u.start();
                pipeline.emit(1, new InternalEvents.Notice(6, "one"));
                pipeline.flush();
                assertTrue(waitFor(() -> first.notices.contains("one"), 3000), "delivered to the first receiver");
                first.close();
                long down = System.currentTimeMillis();
                // no PONG for three 500 ms PINGs: the session is lost and the next receiver takes over
                for (int i = 0; !second.notices.contains("two") && i < 400; i++) {
                    pipeline.emit(2, new InternalEvents.Notice(6, "two"));
                    pipeline.flush();
                    Thread.sleep(10);
                }
                assertTrue(second.notices.contains("two"), "delivered to the second receiver");
                long took = System.currentTimeMillis() - down;
                assertTrue(took < 2000, "failover took " + took + " ms");
                assertEquals(second.address(), u.currentServer());
                assertTrue(u.failovers() >= 1);
            }
        }
    }

    @Test
    void newSessionAfterReceiverRestartAndLossIsCounted() throws Exception {
        Receiver r = new Receiver(0);
        int port = r.address().getPort();
        ExportPipeline pipeline = new ExportPipeline(registry, 1200, 4, false);
        try (Uplink u = uplink(List.of(r.address()), pipeline)) {
            u.start();
            pipeline.emit(1, new InternalEvents.Notice(6, "before"));
            pipeline.flush();
            assertTrue(waitFor(() -> r.notices.contains("before"), 3000));
            r.close();
            // while it is down the bounded queue (4 payloads) overflows: those events are counted as dropped
            for (int i = 0; i < 20; i++) {
                pipeline.emit(2, new InternalEvents.Notice(6, "down " + i));
                pipeline.flush();
            }
            Receiver restarted = new Receiver(port);
            try {
                for (int i = 0; !restarted.notices.contains("after") && i < 300; i++) {
                    pipeline.emit(3, new InternalEvents.Notice(6, "after"));
                    pipeline.flush();
                    Thread.sleep(10);
                }
                assertTrue(restarted.notices.contains("after"), "a new session carries events after the restart");
                assertTrue(u.handshakes() >= 2, "re-authenticated: " + u.handshakes());
                assertTrue(pipeline.eventsDropped() > 0, "what did not fit while the receiver was down is counted");
            } finally {
                restarted.close();
            }
        }
    }
}
