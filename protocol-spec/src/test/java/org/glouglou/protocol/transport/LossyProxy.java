package org.glouglou.protocol.transport;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A bad path for tests, on loopback: a UDP relay between one sender and one receiver that drops, duplicates and
 * reorders datagrams each way, from a seed. The sender sends to {@link #address()}; the receiver sees the proxy's
 * other socket as the sender. Two threads, one a direction, each with its own seeded generator.
 */
public final class LossyProxy implements AutoCloseable {
    private final DatagramSocket front;
    private final DatagramSocket back;
    private final InetSocketAddress target;
    private final double drop;
    private final double duplicate;
    private final double reorder;
    private volatile InetSocketAddress sender;
    private volatile boolean running = true;
    private final Thread up;
    private final Thread down;
    public final AtomicLong dropped = new AtomicLong();
    public final AtomicLong duplicated = new AtomicLong();
    public final AtomicLong reordered = new AtomicLong();
    public final AtomicLong forwarded = new AtomicLong();

    /**
     * @param drop      probability that a datagram is lost
     * @param duplicate probability that it is sent twice
     * @param reorder   probability that it is held back and sent after the next one (or after 20 ms)
     */
    public LossyProxy(InetSocketAddress target, long seed, double drop, double duplicate, double reorder)
            throws IOException {
        this.target = target;
        this.drop = drop;
        this.duplicate = duplicate;
        this.reorder = reorder;
        InetAddress lo = InetAddress.getLoopbackAddress();
        front = new DatagramSocket(new InetSocketAddress(lo, 0));
        back = new DatagramSocket(new InetSocketAddress(lo, 0));
        front.setSoTimeout(20);
        back.setSoTimeout(20);
        up = new Thread(() -> pump(front, back, true, new Random(seed)), "lossy-up");
        down = new Thread(() -> pump(back, front, false, new Random(seed * 31 + 7)), "lossy-down");
        up.setDaemon(true);
        down.setDaemon(true);
        up.start();
        down.start();
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) front.getLocalSocketAddress();
    }

    private void pump(DatagramSocket in, DatagramSocket out, boolean upward, Random r) {
        byte[] buf = new byte[65535];
        byte[] held = null;
        while (running) {
            DatagramPacket p = new DatagramPacket(buf, buf.length);
            try {
                in.receive(p);
            } catch (SocketTimeoutException e) {
                if (held != null) {
                    forward(out, held, upward); // nothing came to overtake it
                    held = null;
                }
                continue;
            } catch (IOException e) {
                return;
            }
            if (upward) {
                sender = (InetSocketAddress) p.getSocketAddress();
            }
            byte[] d = java.util.Arrays.copyOf(buf, p.getLength());
            if (r.nextDouble() < drop) {
                dropped.incrementAndGet();
                continue;
            }
            if (held == null && r.nextDouble() < reorder) {
                held = d;
                reordered.incrementAndGet();
                continue;
            }
            forward(out, d, upward);
            if (r.nextDouble() < duplicate) {
                duplicated.incrementAndGet();
                forward(out, d, upward);
            }
            if (held != null) {
                forward(out, held, upward);
                held = null;
            }
        }
    }

    private void forward(DatagramSocket out, byte[] d, boolean upward) {
        InetSocketAddress to = upward ? target : sender;
        if (to == null) {
            return;
        }
        try {
            out.send(new DatagramPacket(d, d.length, to));
            forwarded.incrementAndGet();
        } catch (IOException e) {
            // closed
        }
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        up.join(1000);
        down.join(1000);
        front.close();
        back.close();
    }
}
