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
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.glouglou.protocol.DatagramHeader;
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
 * over one UDP socket (spec 5.7, 5.8): handshake, a PING every 500 ms, failover in the order given after three silent
 * PING intervals, payloads from the export queue sealed under the current session with the boot's running sequence
 * numbers, kept in a {@link ResendBuffer} until acknowledged durable and sent again on a timeout and on every new
 * session. Nothing unsealed ends a session: an AUTH_FAIL only makes it PING at once. Two threads: one sends (it alone
 * seals and changes the session), one receives.
 */
public final class Uplink implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Uplink.class);

    /**
     * @param handshakeMillis   wait this long for an answer to HELLO or AUTH before trying again: 1 s is many round
     *                          trips on any real path, short enough for failover within 2 s
     * @param attemptsPerServer handshakes tried on one receiver before the next in the list
     * @param pingMillis        PING this often, whatever else is sent: 500 ms costs two small datagrams a second,
     *                          brings the acknowledgements (they ride on the PONGs) and finds a dead receiver fast
     * @param silentPings       the session is lost after this many PING intervals without a sealed word from the
     *                          receiver: 3 x 500 ms, so a failover takes under 2 s
     * @param drainPingMillis   PING this often while waiting for the last acknowledgements (end of a file, a stop):
     *                          100 ms, so they come within a round trip and a store write instead of half a second
     * @param hintPingMillis    at most one PING this often in answer to AUTH_FAIL hints: 250 ms, so forged hints
     *                          cost the receiver little
     * @param resend            the resend buffer, or null to send every payload once (a relay, whose origins keep
     *                          their payloads; plain mode, which has no acknowledgements)
     */
    public record Config(long handshakeMillis, int attemptsPerServer, long pingMillis, int silentPings,
            long drainPingMillis, long hintPingMillis, ResendBuffer.Config resend) {
        public static Config defaults() {
            return new Config(1000, 2, 500, 3, 100, 250, ResendBuffer.Config.defaults());
        }

        public Config withResend(ResendBuffer.Config r) {
            return new Config(handshakeMillis, attemptsPerServer, pingMillis, silentPings, drainPingMillis,
                    hintPingMillis, r);
        }
    }

    private final List<InetSocketAddress> servers;
    private final ProbeSession session;
    private final ExportPipeline pipeline;
    private final Config config;
    private final DatagramSocket socket;
    private final PayloadBuilder control;
    private final boolean plain;
    private final ResendBuffer buffer;
    private volatile Consumer<Event> eventListener = e -> {
    };
    private volatile Supplier<List<Payload>> newSessionPayloads = List::of;

    private volatile boolean running = true;
    private volatile int current;
    private volatile long lastHeardMillis;
    private volatile long firstAttemptMillis = -1;
    private volatile long fullSinceMillis = -1;
    /** The send thread has set up the current session (resends, listeners); false again once it is lost. */
    private boolean setUp;
    private volatile boolean draining;
    private volatile boolean pingNow;
    private volatile long lastHintMillis;
    private volatile boolean closedByReceiver;
    private volatile boolean byeRequested;
    private volatile boolean byeSent;
    /** Payloads taken from the export queue and sent (and kept, when resending): compared with what was queued. */
    private final AtomicLong handled = new AtomicLong();
    private final AtomicLong datagramsSent = new AtomicLong();
    private final AtomicLong bytesSent = new AtomicLong();
    private final AtomicLong eventsSent = new AtomicLong();
    private final AtomicLong handshakes = new AtomicLong();
    private final AtomicLong sessions = new AtomicLong();
    private final AtomicLong failovers = new AtomicLong();
    private final AtomicLong sendErrors = new AtomicLong();
    private final AtomicLong repliesDropped = new AtomicLong();
    private final AtomicLong hints = new AtomicLong();
    private long pingNonce;
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
        this.pipeline = pipeline;
        this.config = config;
        this.plain = session.established(); // a plain session has no handshake
        // a plain receiver never answers: nothing could ever be acknowledged
        this.buffer = config.resend() == null || plain ? null : new ResendBuffer(config.resend());
        this.socket = new DatagramSocket(new InetSocketAddress(servers.get(0).getAddress().getAddress().length == 16
                ? "::"
                : "0.0.0.0", 0));
        this.socket.setSoTimeout(200);
        this.control = new PayloadBuilder(registry, ProtocolConstants.DEFAULT_MAX_DATAGRAM, 1000);
    }

    /**
     * Where the receiver's events that the uplink does not handle itself go (a relay's FORWARD_ACKs); called on the
     * receive thread, must be quick.
     */
    public void onEvent(Consumer<Event> listener) {
        this.eventListener = listener;
    }

    /**
     * Payloads to send first on every new session, before the resend buffer's and the queue's (a relay's forwarded
     * origin payloads not yet durable, spec 5.6); each is sent once. Called on the send thread.
     */
    public void onNewSession(Supplier<List<Payload>> payloads) {
        this.newSessionPayloads = payloads;
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

    /**
     * How long the resend buffer has been full with no durable acknowledgement, in ms; 0 when it is not full. A capture
     * file waits while it is full, so this long with no progress means the receivers do not acknowledge.
     */
    public long stalledForMillis(long now) {
        long since = fullSinceMillis;
        if (since < 0 || buffer == null) {
            return 0;
        }
        return now - Math.max(since, buffer.lastAckMillis());
    }

    private void sendLoop() {
        int attempts = 0;
        int refusals = 0;
        long helloSent = 0;
        long lastPing = 0;
        while (running) {
            try {
                long now = System.currentTimeMillis();
                if (closedByReceiver) {
                    closedByReceiver = false;
                    if (session.established() && !plain) {
                        LOG.info("{} closed the session", currentServer());
                        lost();
                        next(); // it is stopping: the next receiver, if any, takes over at once
                    }
                }
                if (!session.established()) {
                    if (firstAttemptMillis < 0) {
                        firstAttemptMillis = now;
                    }
                    boolean refused = helloSent != 0 && session.state() == ProbeSession.State.IDLE;
                    // a refusal (AUTH_FAIL, a bad proof) is retried after a backoff: 125 ms, doubling to 1 s
                    long wait = refused
                            ? Math.min(config.handshakeMillis(), 125L << Math.min(refusals, 3))
                            : config.handshakeMillis();
                    if (helloSent == 0 || now - helloSent >= wait) {
                        if (refused) {
                            refusals++;
                        }
                        if (helloSent != 0 && ++attempts >= config.attemptsPerServer()) {
                            attempts = 0;
                            InetSocketAddress from = currentServer();
                            next();
                            LOG.warn("no session with {}{}; trying {}", from, session.lastFailure() == null
                                    ? ""
                                    : " (" + session.lastFailure() + ")", currentServer());
                        }
                        handshakes.incrementAndGet();
                        send(session.hello(now * 1000));
                        helloSent = now;
                    }
                    Thread.sleep(10);
                    continue;
                }
                if (!setUp) {
                    setUp = true;
                    sessions.incrementAndGet();
                    firstAttemptMillis = -1;
                    lastHeardMillis = now;
                    attempts = 0;
                    refusals = 0;
                    helloSent = 0;
                    lastPing = 0; // a PING at once: the acknowledgements of the resends come sooner
                    LOG.info("session {} with {} established", Long.toHexString(session.sessionId()),
                            currentServer());
                    if (buffer != null) {
                        buffer.newSession();
                    }
                    for (Payload p : newSessionPayloads.get()) {
                        send(session.seal(p));
                    }
                }
                if (!plain && now - lastHeardMillis > config.silentPings() * config.pingMillis()) {
                    InetSocketAddress dead = currentServer();
                    lost();
                    next();
                    LOG.warn("{} silent for {} ms; authenticating with {}", dead, now - lastHeardMillis,
                            currentServer());
                    continue;
                }
                long every = draining ? config.drainPingMillis() : config.pingMillis();
                if (!plain && (now - lastPing >= every || pingNow)) {
                    pingNow = false;
                    control.add(now * 1000, new InternalEvents.Ping(++pingNonce));
                    send(session.seal(control));
                    lastPing = now;
                }
                if (byeRequested) {
                    if (!plain) {
                        control.add(now * 1000, new InternalEvents.Bye(InternalEvents.Bye.SHUTDOWN));
                        send(session.seal(control));
                    }
                    byeRequested = false;
                    byeSent = true;
                }
                if (byeSent) {
                    Thread.sleep(10); // the session is over: nothing more leaves
                    continue;
                }
                if (buffer != null) {
                    for (ResendBuffer.Entry e : buffer.due(now)) {
                        ByteBuf d = session.seal(e.payload());
                        buffer.resent(e, ProbeSession.sequenceOf(d), now);
                        send(d);
                    }
                    if (buffer.full() && pipeline.blocks()) {
                        // a capture file waits for acknowledgements instead of giving payloads up
                        if (fullSinceMillis < 0) {
                            fullSinceMillis = now;
                        }
                        Thread.sleep(10);
                        continue;
                    }
                    fullSinceMillis = -1;
                }
                Payload p = pipeline.poll(Math.max(1, Math.min(50, lastPing + every - now)));
                if (p != null) {
                    ByteBuf d = session.seal(p);
                    if (buffer != null) {
                        buffer.sent(p, ProbeSession.sequenceOf(d), now);
                    }
                    send(d);
                    eventsSent.addAndGet(p.events());
                    handled.incrementAndGet();
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                LOG.warn("uplink: {}", e.toString());
            }
        }
    }

    private void next() {
        if (servers.size() > 1) {
            current = (current + 1) % servers.size();
            failovers.incrementAndGet();
        }
    }

    private void lost() {
        setUp = false;
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
            // unreachable network, ICMP port unreachable: counted; the PINGs notice a dead receiver
            sendErrors.incrementAndGet();
        }
    }

    private void receiveLoop() {
        byte[] buf = new byte[ProtocolConstants.MAX_DATAGRAM];
        DatagramPacket p = new DatagramPacket(buf, buf.length);
        RecordDecoder.Listener listener = new RecordDecoder.Listener() {
            @Override
            public void onEvent(long t, Event e) {
                long now = System.currentTimeMillis();
                if (e instanceof InternalEvents.Ack a) {
                    if (buffer != null) {
                        buffer.acknowledged(a, now);
                    }
                } else if (e instanceof InternalEvents.Pong) {
                    // heard: that is all a PONG says (the time is taken for every sealed datagram)
                } else if (e instanceof InternalEvents.AuthFail f) {
                    hints.incrementAndGet();
                    LOG.debug("AUTH_FAIL hint while established (code {}): a PING tells", f.code());
                    if (now - lastHintMillis >= config.hintPingMillis()) {
                        lastHintMillis = now;
                        pingNow = true;
                    }
                } else if (e instanceof InternalEvents.Notice n) {
                    LOG.info("receiver says: {}", n.text());
                } else if (e instanceof InternalEvents.Bye) {
                    closedByReceiver = true;
                } else {
                    eventListener.accept(e);
                }
            }

            @Override
            public void onSkipped(DropReason r, String detail) {
                repliesDropped.incrementAndGet();
            }
        };
        while (running) {
            try {
                p.setLength(buf.length);
                socket.receive(p);
                boolean fromCurrent = p.getSocketAddress().equals(currentServer());
                if (!fromCurrent && !servers.contains(p.getSocketAddress())) {
                    repliesDropped.incrementAndGet(); // only our receivers may answer
                    continue;
                }
                ByteBuf d = Unpooled.wrappedBuffer(buf, 0, p.getLength()).copy();
                DatagramHeader h = DatagramHeader.read(d.duplicate());
                if (!h.sealed() && !fromCurrent) {
                    repliesDropped.incrementAndGet(); // a handshake answer comes from the receiver asked
                    continue;
                }
                long sid = session.sessionId();
                ByteBuf reply = session.receive(d, System.currentTimeMillis() * 1000, listener);
                if (h.sealed() && sid != 0 && h.sessionId() == sid) {
                    // authenticated, in this session: the receiver is alive (nothing unsealed ever counts)
                    lastHeardMillis = System.currentTimeMillis();
                }
                if (reply != null) {
                    send(reply);
                }
            } catch (SocketTimeoutException e) {
                // nothing this time: loop to notice close()
            } catch (ProtocolException e) {
                repliesDropped.incrementAndGet();
            } catch (IOException e) {
                if (running) {
                    LOG.debug("uplink receive: {}", e.toString());
                }
            } catch (RuntimeException e) {
                repliesDropped.incrementAndGet();
                LOG.debug("uplink receive: {}", e.toString());
            }
        }
    }

    /**
     * Payloads not yet done with: queued, or sent and not yet acknowledged durable (without a resend buffer: queued
     * and not yet sent).
     */
    public long unacknowledged() {
        long notTaken = Math.max(0, pipeline.enqueued() - handled.get());
        return notTaken + (buffer == null ? 0 : buffer.size());
    }

    /**
     * Waits, at most {@code millis}, until every queued payload was sent and, with a resend buffer, acknowledged
     * durable, PINGing every {@link Config#drainPingMillis()} meanwhile to bring the acknowledgements sooner; then says
     * BYE (spec 5.7, 5.8). True if nothing was left unacknowledged.
     */
    public boolean drain(long millis) throws InterruptedException {
        long end = System.currentTimeMillis() + millis;
        return drain(() -> end);
    }

    /**
     * As {@link #drain(long)}, until the deadline {@code deadlineMillis} gives at each look (a stop may bring it
     * forward); BYE waits at most 200 ms more.
     */
    public boolean drain(java.util.function.LongSupplier deadlineMillis) throws InterruptedException {
        draining = true;
        while (unacknowledged() > 0 && System.currentTimeMillis() < deadlineMillis.getAsLong()) {
            Thread.sleep(5);
        }
        boolean done = unacknowledged() == 0;
        bye(200);
        return done;
    }

    /** Says BYE on the current session (the send thread sends it after what it is sending), waiting at most this. */
    public void bye(long millis) throws InterruptedException {
        if (!session.established() || byeSent) {
            return;
        }
        byeRequested = true;
        long end = System.currentTimeMillis() + millis;
        while (!byeSent && System.currentTimeMillis() < end) {
            Thread.sleep(2);
        }
    }

    /** The resend buffer, or null when payloads are sent once. */
    public ResendBuffer resendBuffer() {
        return buffer;
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

    /** Sessions established so far. */
    public long sessions() {
        return sessions.get();
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

    /** AUTH_FAIL hints received while established (each answered by at most one PING). */
    public long hints() {
        return hints.get();
    }

    @Override
    public void close() {
        running = false;
        socket.close();
    }
}
