package org.glouglou.protocol.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A sender's session with its receivers (a probe's towards a server or relay, or a relay's towards its upstream),
 * over one UDP socket: handshake, failover in the order given, keep-alive, re-handshake when the receiver restarts
 * or goes silent, and sending the queued payloads sealed under the current session. Two threads: one sends, one
 * receives.
 */
public final class Uplink implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Uplink.class);

    /**
     * @param handshakeMillis   wait this long for an answer to HELLO or AUTH before trying again: 1 s is many round
     *                          trips on any real path, short enough for failover within 2 s
     * @param attemptsPerServer handshakes tried on one receiver before the next in the list
     * @param pingMillis        PING this often: 500 ms costs two small datagrams a second and finds a dead receiver
     *                          fast
     * @param silentPings       the session is lost after this many PING intervals without a word from the receiver
     */
    public record Config(long handshakeMillis, int attemptsPerServer, long pingMillis, int silentPings) {
        public static Config defaults() {
            return new Config(1000, 2, 500, 3);
        }
    }

    private final List<InetSocketAddress> servers;
    private final ProbeSession session;
    private final ModuleRegistry registry;
    private final ExportPipeline pipeline;
    private final Config config;
    private final DatagramSocket socket;
    private final PayloadBuilder control;
    private final boolean plain;

    private volatile boolean running = true;
    private volatile int current;
    private volatile long lastHeardMillis;
    private volatile long establishedSinceMillis = -1;
    private volatile long firstAttemptMillis = -1;
    private volatile boolean byeRequested;
    private volatile boolean byeSent;
    private final AtomicLong datagramsSent = new AtomicLong();
    private final AtomicLong bytesSent = new AtomicLong();
    private final AtomicLong eventsSent = new AtomicLong();
    private final AtomicLong handshakes = new AtomicLong();
    private final AtomicLong failovers = new AtomicLong();
    private final AtomicLong sendErrors = new AtomicLong();
    private final AtomicLong repliesDropped = new AtomicLong();
    private Thread sender;
    private Thread receiver;

    /** Opens the socket now (before any privilege drop); nothing is sent until {@link #start()}. */
    public Uplink(List<InetSocketAddress> servers, ProbeSession session, ModuleRegistry registry,
            ExportPipeline pipeline, Config config) throws IOException {
        if (servers.isEmpty()) {
            throw new IllegalArgumentException("no receiver to send to");
        }
        this.servers = List.copyOf(servers);
        this.session = session;
        this.registry = registry;
        this.pipeline = pipeline;
        this.config = config;
        this.plain = session.established(); // a plain session has no handshake
        this.socket = new DatagramSocket(new InetSocketAddress(servers.get(0).getAddress().getAddress().length == 16
                ? "::"
                : "0.0.0.0", 0));
        this.socket.setSoTimeout(200);
        this.control = new PayloadBuilder(registry, ProtocolConstants.DEFAULT_MAX_DATAGRAM, 1000);
    }

    public void start() {
        sender = new Thread(this::sendLoop, "glouglou-uplink-send");
        receiver = new Thread(this::receiveLoop, "glouglou-uplink-receive");
        sender.setDaemon(true);
        receiver.setDaemon(true);
        receiver.start();
        sender.start();
    }

    public InetSocketAddress currentServer() {
        return servers.get(current);
    }

    public boolean established() {
        return session.established();
    }

    /** How long the uplink has been trying without a session, in ms; 0 when it has one. */
    public long downForMillis(long now) {
        return session.established() || firstAttemptMillis < 0 ? 0 : now - firstAttemptMillis;
    }

    private void sendLoop() {
        int attempts = 0;
        long helloSent = 0;
        long lastPing = 0;
        while (running) {
            try {
                long now = System.currentTimeMillis();
                if (!session.established()) {
                    if (firstAttemptMillis < 0) {
                        firstAttemptMillis = now;
                    }
                    if (helloSent == 0 || now - helloSent >= config.handshakeMillis()
                            || session.state() == ProbeSession.State.IDLE) {
                        if (helloSent != 0 && ++attempts >= config.attemptsPerServer()) {
                            attempts = 0;
                            current = (current + 1) % servers.size();
                            failovers.incrementAndGet();
                            LOG.warn("no session with {}; trying {}", servers.get((current + servers.size() - 1)
                                    % servers.size()), servers.get(current));
                        }
                        handshakes.incrementAndGet();
                        send(session.hello(now * 1000));
                        helloSent = now;
                    }
                    Thread.sleep(10);
                    continue;
                }
                if (establishedSinceMillis < 0) {
                    establishedSinceMillis = now;
                    firstAttemptMillis = -1;
                    lastHeardMillis = now;
                    attempts = 0;
                    helloSent = 0;
                    LOG.info("session {} with {} established", Long.toHexString(session.sessionId()),
                            currentServer());
                }
                if (!plain && now - lastHeardMillis > config.silentPings() * config.pingMillis()) {
                    InetSocketAddress dead = currentServer();
                    lost();
                    if (servers.size() > 1) {
                        current = (current + 1) % servers.size();
                        failovers.incrementAndGet();
                    }
                    LOG.warn("{} silent for {} ms; authenticating with {}", dead, now - lastHeardMillis,
                            currentServer());
                    continue;
                }
                if (!plain && now - lastPing >= config.pingMillis()) {
                    control.add(now * 1000, new InternalEvents.Ping(now));
                    send(session.seal(control.take()));
                    lastPing = now;
                }
                if (byeRequested) {
                    control.add(now * 1000, new InternalEvents.Bye(InternalEvents.Bye.SHUTDOWN));
                    send(session.seal(control.take()));
                    byeRequested = false;
                    byeSent = true;
                }
                Payload p = pipeline.poll(50);
                if (p != null) {
                    if (!session.established()) {
                        // lost between the check and the poll: rare, so going to the back of the queue is fine
                        pipeline.requeue(p);
                        continue;
                    }
                    send(session.seal(p));
                    eventsSent.addAndGet(p.events());
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                LOG.warn("uplink: {}", e.toString());
            }
        }
    }

    private void lost() {
        establishedSinceMillis = -1;
        session.reset();
    }

    private void send(ByteBuf d) {
        byte[] b = new byte[d.readableBytes()];
        d.readBytes(b);
        try {
            socket.send(new DatagramPacket(b, b.length, currentServer()));
            datagramsSent.incrementAndGet();
            bytesSent.addAndGet(b.length);
        } catch (IOException e) {
            // unreachable network, ICMP port unreachable: counted; the keep-alive notices a dead receiver
            sendErrors.incrementAndGet();
        }
    }

    private void receiveLoop() {
        byte[] buf = new byte[ProtocolConstants.MAX_DATAGRAM];
        DatagramPacket p = new DatagramPacket(buf, buf.length);
        while (running) {
            try {
                p.setLength(buf.length);
                socket.receive(p);
                if (!p.getSocketAddress().equals(currentServer())) {
                    repliesDropped.incrementAndGet(); // only the receiver we talk to may answer
                    continue;
                }
                ByteBuf d = Unpooled.wrappedBuffer(buf, 0, p.getLength()).copy();
                ByteBuf reply = session.receive(d, System.currentTimeMillis() * 1000, new RecordDecoder.Listener() {
                    @Override
                    public void onEvent(long t, Event e) {
                        if (e instanceof InternalEvents.Notice n) {
                            LOG.info("receiver says: {}", n.text());
                        } else if (e instanceof InternalEvents.Bye) {
                            LOG.info("receiver closed the session");
                            lost();
                        }
                    }

                    @Override
                    public void onSkipped(DropReason r, String detail) {
                        repliesDropped.incrementAndGet();
                    }
                });
                lastHeardMillis = System.currentTimeMillis();
                if (reply != null) {
                    send(reply);
                }
                if (session.state() == ProbeSession.State.IDLE && session.lastFailure() != null) {
                    LOG.warn("{} refused the session: {}", currentServer(), session.lastFailure());
                    establishedSinceMillis = -1;
                }
            } catch (SocketTimeoutException e) {
                // nothing this time: loop to notice close()
            } catch (ProtocolException e) {
                repliesDropped.incrementAndGet();
            } catch (IOException e) {
                if (running) {
                    LOG.debug("uplink receive: {}", e.toString());
                }
            }
        }
    }

    /**
     * Waits until the queue is empty and sent, at most {@code millis}; then says BYE. True if everything left.
     */
    public boolean drain(long millis) throws InterruptedException {
        long end = System.currentTimeMillis() + millis;
        while (pipeline.queued() > 0 && System.currentTimeMillis() < end) {
            Thread.sleep(10);
        }
        boolean empty = pipeline.queued() == 0;
        if (session.established() && !plain) {
            byeRequested = true; // the sender thread sends it after the payload it may still hold
            long byeEnd = System.currentTimeMillis() + 500;
            while (!byeSent && System.currentTimeMillis() < byeEnd) {
                Thread.sleep(5);
            }
        }
        return empty;
    }

    public long datagramsSent() {
        return datagramsSent.get();
    }

    public long bytesSent() {
        return bytesSent.get();
    }

    public long eventsSent() {
        return eventsSent.get();
    }

    public long handshakes() {
        return handshakes.get();
    }

    public long failovers() {
        return failovers.get();
    }

    public long sendErrors() {
        return sendErrors.get();
    }

    public long repliesDropped() {
        return repliesDropped.get();
    }

    @Override
    public void close() {
        running = false;
        socket.close();
    }
}
