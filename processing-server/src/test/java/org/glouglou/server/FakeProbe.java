package org.glouglou.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.glouglou.protocol.DropReason;
import org.glouglou.protocol.Payload;
import org.glouglou.protocol.PayloadBuilder;
import org.glouglou.protocol.ProtocolConstants;
import org.glouglou.protocol.ProtocolException;
import org.glouglou.protocol.RecordDecoder;
import org.glouglou.protocol.internal.InternalEvents;
import org.glouglou.protocol.session.ProbeSession;
import org.glouglou.spi.Event;
import org.glouglou.spi.ModuleRegistry;

/**
 * A probe for tests and the bench: real {@link ProbeSession} handshake and sealing over a real UDP socket, events
 * packed by {@link PayloadBuilder} as the probe daemon does (DATA carries cumulative counts: the caller's events).
 * Keeps every datagram it sent so tests can replay them, and every payload by sequence number so they can be sent
 * again, to this server or another one, as a probe resends what was not acknowledged durable (spec 5.8). Reads the
 * server's acknowledgements when asked ({@link #pollAcks}); it resends nothing by itself.
 */
public final class FakeProbe implements AutoCloseable {
    final ProbeSession session;
    final DatagramSocket socket;
    final InetSocketAddress server;
    final PayloadBuilder builder;
    final ModuleRegistry registry;
    final List<byte[]> sent = new ArrayList<>();
    /** Payloads by the sequence number they were last sent under (PINGs aside). */
    final Map<Long, Payload> payloads = new LinkedHashMap<>();
    final Set<Long> durable = new HashSet<>();
    final Set<Long> received = new HashSet<>();
    final List<InternalEvents.Ack> acks = new ArrayList<>();
    boolean keep = true;
    private long pingNonce;

    public FakeProbe(ModuleRegistry registry, long probeId, byte[] secret, InetSocketAddress server) throws Exception {
        this(registry, probeId, secret, server, ProbeSession.newBoot());
    }

    /** A probe of a given boot: a new session of the same run (a failover to another server). */
    public FakeProbe(ModuleRegistry registry, long probeId, byte[] secret, InetSocketAddress server, long boot)
            throws Exception {
        this.registry = registry;
        this.session = new ProbeSession(registry, probeId, secret, "fake-" + probeId, "test", secret == null, boot);
        this.socket = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
        this.socket.setSendBufferSize(4 << 20);
        this.server = server;
        this.builder = new PayloadBuilder(registry, ProtocolConstants.DEFAULT_MAX_DATAGRAM, 1000);
    }

    /** Runs the handshake; throws if it does not complete within 5 s. */
    public FakeProbe connect() throws Exception {
        socket.setSoTimeout(500);
        long deadline = System.currentTimeMillis() + 5000;
        while (!session.established() && System.currentTimeMillis() < deadline) {
            sendRaw(session.hello(now()));
            try {
                for (int i = 0; i < 2 && !session.established(); i++) {
                    ByteBuf reply = receive();
                    ByteBuf next = session.receive(reply, now(), new RecordDecoder.Listener() {
                        @Override
                        public void onEvent(long t, Event e) {
                        }

                        @Override
                        public void onSkipped(DropReason r, String d) {
                        }
                    });
                    if (next != null) {
                        sendRaw(next);
                    }
                }
            } catch (SocketTimeoutException e) {
                // retry the handshake
            }
        }
        if (!session.established()) {
            throw new IllegalStateException("handshake failed: " + session.lastFailure());
        }
        return this;
    }

    private ByteBuf receive() throws Exception {
        byte[] b = new byte[65535];
        DatagramPacket p = new DatagramPacket(b, b.length);
        socket.receive(p);
        return io.netty.buffer.Unpooled.wrappedBuffer(b, 0, p.getLength());
    }

    static long now() {
        return System.currentTimeMillis() * 1000;
    }

    public static long nowMicros() {
        return now();
    }

    public ProbeSession session() {
        return session;
    }

    /** Keep sent datagrams and payloads for replay tests (default) or not (the bench). */
    public void keepSent(boolean k) {
        keep = k;
    }

    /** Queues one event, sending the current datagram first when it is full. */
    public void add(long timeMicros, Event e) throws Exception {
        if (!builder.add(timeMicros, e)) {
            flush();
            builder.add(timeMicros, e);
        }
    }

    /** Seals and sends what is queued. */
    public void flush() throws Exception {
        if (!builder.isEmpty()) {
            send(builder.take());
        }
    }

    /** Sends a payload under the next sequence number (a new one, or one sent before: a resend). */
    public long send(Payload p) throws Exception {
        ByteBuf d = session.seal(p);
        long seq = session.sequence();
        if (keep) {
            payloads.put(seq, p);
        }
        sendRaw(d);
        return seq;
    }

    /** Sends a PING (the server answers with a PONG carrying its acknowledgements). */
    public void ping() throws Exception {
        PayloadBuilder b = new PayloadBuilder(registry, ProtocolConstants.DEFAULT_MAX_DATAGRAM, 1000);
        b.add(now(), new InternalEvents.Ping(++pingNonce));
        sendRaw(session.seal(b));
    }

    /**
     * Reads what the server sends for up to {@code millis} (or until nothing arrives for 50 ms after something did):
     * its ACKs mark sequence numbers durable or received. Returns the number of ACK events read.
     */
    public int pollAcks(long millis) throws Exception {
        long deadline = System.currentTimeMillis() + millis;
        int n = 0;
        while (System.currentTimeMillis() < deadline) {
            socket.setSoTimeout((int) Math.max(1, Math.min(50, deadline - System.currentTimeMillis())));
            ByteBuf d;
            try {
                d = receive();
            } catch (SocketTimeoutException e) {
                if (n > 0) {
                    break;
                }
                continue;
            }
            List<Event> events = new ArrayList<>();
            try {
                session.receive(d, now(), new RecordDecoder.Listener() {
                    @Override
                    public void onEvent(long t, Event e) {
                        events.add(e);
                    }

                    @Override
                    public void onSkipped(DropReason r, String detail) {
                    }
                });
            } catch (ProtocolException e) {
                continue; // not for this session (an old one's): ignored as the probe would
            }
            for (Event e : events) {
                if (e instanceof InternalEvents.Ack a) {
                    n++;
                    acks.add(a);
                    InternalEvents.SeqRanges r = a.ranges();
                    for (int i = 0; i < r.count(); i++) {
                        for (long s = r.first(i); s <= r.last(i); s++) {
                            (a.kind() == InternalEvents.Ack.DURABLE ? durable : received).add(s);
                        }
                    }
                }
            }
        }
        return n;
    }

    /** Sequence numbers of payloads sent and not acknowledged durable. */
    public List<Long> unacked() {
        return payloads.keySet().stream().filter(s -> !durable.contains(s)).toList();
    }

    /** Sends every payload not acknowledged durable again, under new sequence numbers (the probe's resend). */
    public int resendUnacked() throws Exception {
        List<Long> due = unacked();
        for (long seq : due) {
            send(payloads.remove(seq));
        }
        return due.size();
    }

    /**
     * What a probe does until its payloads are durable (spec 5.8): PINGs every 200 ms, reads acknowledgements, and
     * sends again what has no acknowledgement of either kind after a second; true when all are durable within
     * {@code millis}.
     */
    public boolean deliver(long millis) throws Exception {
        long deadline = System.currentTimeMillis() + millis;
        long lastSend = System.currentTimeMillis();
        while (!unacked().isEmpty() && System.currentTimeMillis() < deadline) {
            ping();
            pollAcks(200);
            if (System.currentTimeMillis() - lastSend >= 1000) {
                List<Long> due = unacked().stream().filter(x -> !received.contains(x)).toList();
                for (long seq : due) {
                    send(payloads.remove(seq));
                }
                lastSend = System.currentTimeMillis();
            }
        }
        return unacked().isEmpty();
    }

    /**
     * PINGs and reads acknowledgements until every payload sent is acknowledged durable, or {@code millis} passed;
     * true when all are.
     */
    public boolean awaitDurable(long millis) throws Exception {
        long deadline = System.currentTimeMillis() + millis;
        while (!unacked().isEmpty() && System.currentTimeMillis() < deadline) {
            ping();
            pollAcks(200);
        }
        return unacked().isEmpty();
    }

    public void sendRaw(ByteBuf d) throws Exception {
        byte[] bytes = ByteBufUtil.getBytes(d);
        d.release();
        sendBytes(bytes);
    }

    public void sendBytes(byte[] bytes) throws Exception {
        if (keep) {
            sent.add(bytes);
        }
        socket.send(new DatagramPacket(bytes, bytes.length, server));
    }

    @Override
    public void close() {
        socket.close();
    }
}
