package org.glouglou.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.List;
import org.glouglou.protocol.DropReason;
import org.glouglou.protocol.PayloadBuilder;
import org.glouglou.protocol.ProtocolConstants;
import org.glouglou.protocol.RecordDecoder;
import org.glouglou.protocol.session.ProbeSession;
import org.glouglou.spi.Event;
import org.glouglou.spi.ModuleRegistry;

/**
 * A probe for tests and the bench: real {@link ProbeSession} handshake and sealing over a real UDP socket, events
 * packed by {@link PayloadBuilder} as the probe daemon does. Keeps every datagram it sent so tests can replay them.
 */
public final class FakeProbe implements AutoCloseable {
    final ProbeSession session;
    final DatagramSocket socket;
    final InetSocketAddress server;
    final PayloadBuilder builder;
    final List<byte[]> sent = new ArrayList<>();
    boolean keep = true;

    public FakeProbe(ModuleRegistry registry, long probeId, byte[] secret, InetSocketAddress server) throws Exception {
        this.session = new ProbeSession(registry, probeId, secret, "fake-" + probeId, "test", secret == null);
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

    /** Keep sent datagrams for replay tests (default) or not (the bench). */
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
            sendRaw(session.seal(builder));
        }
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
