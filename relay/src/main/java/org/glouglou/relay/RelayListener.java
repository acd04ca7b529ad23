package org.glouglou.relay;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import org.glouglou.protocol.ProtocolConstants;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The relay's listening UDP socket (spec 5.6): one thread receives every datagram and runs {@link RelayCore} on it, so
 * the receiver sessions need no locks; replies, and the acknowledgements routed down from upstream, leave through the
 * same socket.
 */
final class RelayListener implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RelayListener.class);

    /** 8 MiB, as on the server: absorbs bursts while the thread is busy; Linux caps it at net.core.rmem_max. */
    static final int RECEIVE_BUFFER = 8 << 20;
    /**
     * 50 ms: how long a quiet socket waits before the thread looks at the acknowledgements from upstream; those that
     * leave on their own (16 waiting) are so at most 50 ms late, and a quiet relay wakes 20 times a second.
     */
    static final int IDLE_MILLIS = 50;

    private final RelayCore core;
    private DatagramSocket socket;
    private Thread thread;
    private volatile boolean running = true;

    RelayListener(RelayCore core) {
        this.core = core;
    }

    /** Binds (a port below 1024 needs privileges: call before the drop). */
    InetSocketAddress bind(InetSocketAddress at) throws IOException {
        socket = new DatagramSocket(null);
        socket.setReceiveBufferSize(RECEIVE_BUFFER);
        socket.bind(at);
        socket.setSoTimeout(IDLE_MILLIS);
        core.replier(this::send);
        return (InetSocketAddress) socket.getLocalSocketAddress();
    }

    void start() {
        thread = new Thread(this::run, "glouglou-relay-listen");
        thread.setDaemon(true);
        thread.start();
        LOG.info("listening for probes on udp {}", socket.getLocalSocketAddress());
    }

    private void run() {
        byte[] buf = new byte[ProtocolConstants.MAX_DATAGRAM];
        DatagramPacket p = new DatagramPacket(buf, buf.length);
        long lastExpiry = System.currentTimeMillis();
        while (running) {
            try {
                p.setLength(buf.length);
                socket.receive(p);
                // the receiver opens sealed datagrams in place: each gets its own heap copy
                ByteBuf d = Unpooled.wrappedBuffer(buf, 0, p.getLength()).copy();
                core.receive(d, (InetSocketAddress) p.getSocketAddress(), System.currentTimeMillis(), System
                        .nanoTime());
            } catch (SocketTimeoutException e) {
                // quiet: loop on to expire sessions and notice close()
            } catch (IOException e) {
                if (running) {
                    LOG.debug("relay receive: {}", e.toString());
                }
            } catch (RuntimeException e) {
                LOG.warn("relay receive: {}", e.toString());
            }
            long now = System.currentTimeMillis();
            core.routeAcks(now);
            if (now - lastExpiry >= 1000) {
                lastExpiry = now;
                core.expire(now);
            }
        }
    }

    private void send(ByteBuf d, InetSocketAddress to) {
        try {
            byte[] b = new byte[d.readableBytes()];
            d.readBytes(b);
            socket.send(new DatagramPacket(b, b.length, to));
        } catch (IOException e) {
            LOG.debug("reply to {}: {}", to, e.toString());
        } finally {
            d.release();
        }
    }

    @Override
    public void close() {
        running = false;
        if (socket != null) {
            socket.close();
        }
        if (thread != null) {
            try {
                thread.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
