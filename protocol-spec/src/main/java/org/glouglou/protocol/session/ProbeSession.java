package org.glouglou.protocol.session;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;
import org.glouglou.protocol.DatagramHeader;
import org.glouglou.protocol.DropReason;
import org.glouglou.protocol.Payload;
import org.glouglou.protocol.PayloadBuilder;
import org.glouglou.protocol.ProtocolConstants;
import org.glouglou.protocol.ProtocolException;
import org.glouglou.protocol.RecordDecoder;
import org.glouglou.protocol.crypto.HandshakeCrypto;
import org.glouglou.protocol.crypto.HandshakeCrypto.Transcript;
import org.glouglou.protocol.crypto.ReplayWindow;
import org.glouglou.protocol.crypto.SessionCipher;
import org.glouglou.protocol.internal.InternalEvents.Ack;
import org.glouglou.protocol.internal.InternalEvents.Auth;
import org.glouglou.protocol.internal.InternalEvents.AuthFail;
import org.glouglou.protocol.internal.InternalEvents.AuthOk;
import org.glouglou.protocol.internal.InternalEvents.Challenge;
import org.glouglou.protocol.internal.InternalEvents.ForwardAck;
import org.glouglou.protocol.internal.InternalEvents.Hello;
import org.glouglou.protocol.internal.InternalEvents.ModuleInfo;
import org.glouglou.spi.Event;
import org.glouglou.spi.GlouglouModule;
import org.glouglou.spi.ModuleRegistry;

/**
 * The sending side of a session (a probe, or a relay towards its upstream): the handshake state machine of spec 5.2
 * and the sealing of every datagram after it. One instance is one boot of its sender (spec 5.8): its sequence numbers
 * run on from session to session, so a new session continues the count. Once established, nothing unsealed changes
 * the session: an AUTH_FAIL is only handed to the listener as a hint. Transport-free: it makes and takes datagrams,
 * the caller moves them. Thread-safe.
 */
public final class ProbeSession {
    public enum State {
        /** Nothing sent yet, or the last attempt failed. */
        IDLE,
        /** HELLO sent, waiting for CHALLENGE. */
        HELLO_SENT,
        /** AUTH sent, waiting for AUTH_OK. */
        AUTH_SENT,
        /** Keys agreed and the receiver proved it knows the secret. */
        ESTABLISHED
    }

    private final ModuleRegistry registry;
    private final RecordDecoder decoder;
    private final long probeId;
    private final byte[] secret;
    private final String name;
    private final String software;
    private final boolean plain;
    private final long boot;

    private State state = State.IDLE;
    private byte[] clientNonce;
    private byte[] helloHash;
    private Transcript transcript;
    private HandshakeCrypto.SessionKeys keys;
    private long sessionId;
    private long sequence;
    private SessionCipher upCipher;
    private SessionCipher downCipher;
    private ReplayWindow downWindow;
    private int keepaliveSeconds;
    private String lastFailure;
    /** The session before the current one, still opened for its acknowledgements for a while (null when none). */
    private Previous previous;

    /**
     * How long after a session ends the acknowledgements sealed under its keys are still taken: 10 s, far beyond an
     * acknowledgement's delay (a PONG every 500 ms), so the payloads a receiver made durable just before a failover are
     * not sent again to the next one.
     */
    public static final long PREVIOUS_SESSION_MILLIS = 10_000;

    private record Previous(long sessionId, SessionCipher down, ReplayWindow window, long untilMillis) {
    }

    /**
     * @param plain send unsealed datagrams with no handshake: only for tests, and only a receiver configured for it
     *              accepts them
     */
    public ProbeSession(ModuleRegistry registry, long probeId, byte[] secret, String name, String software,
            boolean plain) {
        this(registry, probeId, secret, name, software, plain, newBoot());
    }

    /** @param boot this run of the sender (spec 5.8): see {@link #newBoot()} */
    public ProbeSession(ModuleRegistry registry, long probeId, byte[] secret, String name, String software,
            boolean plain, long boot) {
        this.boot = boot;
        this.registry = registry;
        this.decoder = new RecordDecoder(registry);
        this.probeId = probeId;
        this.secret = secret == null ? null : secret.clone();
        this.name = name;
        this.software = software;
        this.plain = plain;
        if (!plain && (secret == null || secret.length < ProtocolConstants.MIN_SECRET_LENGTH)) {
            throw new IllegalArgumentException("a sealed session needs a secret of at least "
                    + ProtocolConstants.MIN_SECRET_LENGTH + " bytes");
        }
        if (plain) {
            state = State.ESTABLISHED;
        }
    }

    public long probeId() {
        return probeId;
    }

    private static final java.util.concurrent.atomic.AtomicLong LAST_BOOT = new java.util.concurrent.atomic.AtomicLong();

    /**
     * A new boot id: the current time in microseconds, and above every boot made before in this JVM, so that two
     * senders started in the same microsecond (tests) still get distinct boots.
     */
    public static long newBoot() {
        long now = System.currentTimeMillis() * 1000 + System.nanoTime() / 1000 % 1000;
        return LAST_BOOT.updateAndGet(last -> Math.max(last + 1, now));
    }

    /** This run of the sender: sequence numbers and connection ids are unique within it, across sessions. */
    public long boot() {
        return boot;
    }

    public synchronized State state() {
        return state;
    }

    public synchronized boolean established() {
        return state == State.ESTABLISHED;
    }

    public synchronized long sessionId() {
        return sessionId;
    }

    public synchronized int keepaliveSeconds() {
        return keepaliveSeconds;
    }

    /** The reason of the last AUTH_FAIL or proof failure, for the operator; null if none. */
    public synchronized String lastFailure() {
        return lastFailure;
    }

    /**
     * Forgets the session (the receiver went silent or closed it): the next step is a new HELLO. Its acknowledgements
     * are still taken for {@link #PREVIOUS_SESSION_MILLIS}. The sequence count goes on.
     */
    public synchronized void reset() {
        if (!plain) {
            keepPrevious(System.currentTimeMillis());
            state = State.IDLE;
            keys = null;
            sessionId = 0;
        }
    }

    private void keepPrevious(long nowMillis) {
        if (state == State.ESTABLISHED && keys != null) {
            previous = new Previous(sessionId, downCipher, downWindow, nowMillis + PREVIOUS_SESSION_MILLIS);
        }
    }

    /** Starts (or restarts, a rekey) the handshake: returns the HELLO datagram to send. */
    public synchronized ByteBuf hello(long nowMicros) {
        if (plain) {
            throw new IllegalStateException("a plain session has no handshake");
        }
        keepPrevious(nowMicros / 1000);
        clientNonce = HandshakeCrypto.nonce();
        List<ModuleInfo> mods = new ArrayList<>();
        for (GlouglouModule m : registry.modules()) {
            if (m.id() != 0) {
                mods.add(new ModuleInfo(m.id(), m.name(), m.version()));
            }
        }
        PayloadBuilder b = new PayloadBuilder(registry, ProtocolConstants.DEFAULT_MAX_DATAGRAM, 1000);
        b.add(nowMicros, new Hello(clientNonce, boot, name, software, mods));
        ByteBuf d = b.finish(probeId, 0, 0, null);
        helloHash = HandshakeCrypto.sha256(payloadOf(d));
        state = State.HELLO_SENT;
        sessionId = 0;
        return d;
    }

    static byte[] payloadOf(ByteBuf datagram) {
        byte[] p = new byte[datagram.readableBytes() - ProtocolConstants.HEADER_LENGTH];
        datagram.getBytes(datagram.readerIndex() + ProtocolConstants.HEADER_LENGTH, p);
        return p;
    }

    /**
     * Takes a datagram from the receiver. Returns a datagram to send back (AUTH after CHALLENGE), or null. Events of
     * a sealed datagram of the current session (PONG, ACK, NOTICE, BYE, ...) go to {@code listener}; of the previous
     * session (for {@link #PREVIOUS_SESSION_MILLIS}), only its ACK and FORWARD_ACK. An AUTH_FAIL while established
     * changes nothing and goes to {@code listener} as a hint (spec 5.7: answer it with a PING); during a handshake it
     * sends the session back to IDLE. {@code listener} may be null.
     *
     * @throws ProtocolException when the datagram is dropped, with the reason
     */
    public synchronized ByteBuf receive(ByteBuf datagram, long nowMicros, RecordDecoder.Listener listener)
            throws ProtocolException {
        DatagramHeader h = DatagramHeader.read(datagram.duplicate());
        if (h.probeId() != probeId) {
            throw new ProtocolException(DropReason.UNKNOWN_PROBE, "datagram for probe " + h.probeId() + ", this is "
                    + probeId);
        }
        if (!h.sealed()) {
            return receiveHandshake(h, datagram, nowMicros, listener);
        }
        Previous prev = previous;
        if (prev != null && h.sessionId() == prev.sessionId() && h.sessionId() != sessionId) {
            receivePrevious(prev, h, datagram, nowMicros, listener);
            return null;
        }
        if (state != State.ESTABLISHED && state != State.AUTH_SENT || h.sessionId() != sessionId || keys == null) {
            throw new ProtocolException(DropReason.UNKNOWN_SESSION, "sealed datagram for session " + h.sessionId()
                    + " in state " + state);
        }
        if (!downWindow.check(h.sequence())) {
            throw new ProtocolException(DropReason.REPLAYED, "sequence " + h.sequence() + " already seen or too old");
        }
        downCipher.open(datagram);
        downWindow.update(h.sequence());
        datagram.skipBytes(ProtocolConstants.HEADER_LENGTH);
        if (state == State.AUTH_SENT) {
            return finishHandshake(h, datagram, listener);
        }
        decoder.decode(datagram, h.baseTimeMicros(), listener);
        return null;
    }

    /** A datagram of the previous session: only its acknowledgements count now (the session itself is over). */
    private void receivePrevious(Previous prev, DatagramHeader h, ByteBuf datagram, long nowMicros,
            RecordDecoder.Listener listener) throws ProtocolException {
        if (nowMicros / 1000 > prev.untilMillis()) {
            previous = null;
            throw new ProtocolException(DropReason.UNKNOWN_SESSION, "sealed datagram for the ended session "
                    + h.sessionId());
        }
        if (!prev.window().check(h.sequence())) {
            throw new ProtocolException(DropReason.REPLAYED, "sequence " + h.sequence() + " already seen or too old");
        }
        prev.down().open(datagram);
        prev.window().update(h.sequence());
        datagram.skipBytes(ProtocolConstants.HEADER_LENGTH);
        decoder.decode(datagram, h.baseTimeMicros(), new RecordDecoder.Listener() {
            @Override
            public void onEvent(long t, Event e) {
                if (listener != null && (e instanceof Ack || e instanceof ForwardAck)) {
                    listener.onEvent(t, e);
                }
            }

            @Override
            public void onSkipped(DropReason r, String detail) {
                if (listener != null) {
                    listener.onSkipped(r, detail);
                }
            }
        });
    }

    private ByteBuf receiveHandshake(DatagramHeader h, ByteBuf datagram, long nowMicros,
            RecordDecoder.Listener listener) throws ProtocolException {
        List<Event> events = new ArrayList<>();
        ProtocolException[] bad = new ProtocolException[1];
        datagram.skipBytes(ProtocolConstants.HEADER_LENGTH);
        decoder.decode(datagram, h.baseTimeMicros(), new RecordDecoder.Listener() {
            @Override
            public void onEvent(long t, Event e) {
                events.add(e);
            }

            @Override
            public void onSkipped(DropReason r, String detail) {
                bad[0] = new ProtocolException(r, detail);
            }
        });
        if (bad[0] != null) {
            throw bad[0];
        }
        if (events.size() != 1) {
            throw new ProtocolException(DropReason.UNSEALED_REFUSED, "unsealed datagram with " + events.size()
                    + " records; only a single handshake record travels unsealed");
        }
        Event e = events.get(0);
        if (e instanceof Challenge c && state == State.HELLO_SENT) {
            if (c.helloTag() != Challenge.tagOf(clientNonce)) {
                // the answer to an earlier HELLO, overtaken by a retry: answering it would fail the proof
                throw new ProtocolException(DropReason.UNKNOWN_SESSION, "CHALLENGE for an earlier HELLO");
            }
            if (c.sessionId() == 0 || c.sessionId() != h.sessionId()) {
                throw new ProtocolException(DropReason.MALFORMED_RECORD, "CHALLENGE session id " + c.sessionId()
                        + " does not match its header's " + h.sessionId());
            }
            sessionId = c.sessionId();
            transcript = new Transcript(probeId, sessionId, clientNonce, c.serverNonce(), helloHash);
            keys = HandshakeCrypto.keys(secret, transcript);
            upCipher = new SessionCipher(keys.up());
            downCipher = new SessionCipher(keys.down());
            downWindow = new ReplayWindow();
            // the sequence count goes on: numbers are per boot, never per session (spec 5.8)
            state = State.AUTH_SENT;
            PayloadBuilder b = new PayloadBuilder(registry, ProtocolConstants.DEFAULT_MAX_DATAGRAM, 1000);
            b.add(nowMicros, new Auth(HandshakeCrypto.probeProof(secret, transcript)));
            return b.finish(probeId, sessionId, 0, null);
        }
        if (e instanceof AuthFail f) {
            // unauthenticated, so only a hint, never trusted beyond logging it: an established session carries on
            // (only silence ends it, spec 5.7), a handshake starts over later
            if (state == State.ESTABLISHED) {
                if (listener != null) {
                    listener.onEvent(h.baseTimeMicros(), f);
                }
            } else if (state != State.IDLE) {
                lastFailure = f.message();
                state = State.IDLE;
            }
            return null;
        }
        throw new ProtocolException(DropReason.UNSEALED_REFUSED, "unexpected unsealed " + e.type().name()
                + " in state " + state);
    }

    private ByteBuf finishHandshake(DatagramHeader h, ByteBuf payload, RecordDecoder.Listener listener)
            throws ProtocolException {
        List<Event> events = new ArrayList<>();
        decoder.decode(payload, h.baseTimeMicros(), new RecordDecoder.Listener() {
            @Override
            public void onEvent(long t, Event e) {
                events.add(e);
            }

            @Override
            public void onSkipped(DropReason r, String detail) {
                listener.onSkipped(r, detail);
            }
        });
        if (events.isEmpty() || !(events.get(0) instanceof AuthOk ok)) {
            throw new ProtocolException(DropReason.MALFORMED_RECORD, "expected AUTH_OK first after AUTH");
        }
        if (!HandshakeCrypto.verify(HandshakeCrypto.receiverProof(secret, transcript), ok.proof())) {
            state = State.IDLE;
            lastFailure = "the receiver's proof does not verify: it does not know this probe's secret";
            throw new ProtocolException(DropReason.BAD_PROOF, lastFailure);
        }
        keepaliveSeconds = ok.keepaliveSeconds();
        state = State.ESTABLISHED;
        lastFailure = null;
        return null;
    }

    /** Finishes the builder's datagram under this session: next sequence number, sealed unless plain. */
    public synchronized ByteBuf seal(PayloadBuilder builder) {
        if (state != State.ESTABLISHED) {
            throw new IllegalStateException("session not established: " + state);
        }
        return builder.finish(probeId, sessionId, ++sequence, plain ? null : upCipher);
    }

    /** Seals a queued payload under this session: next sequence number, sealed unless plain. */
    public synchronized ByteBuf seal(Payload payload) {
        if (state != State.ESTABLISHED) {
            throw new IllegalStateException("session not established: " + state);
        }
        return payload.toDatagram(probeId, sessionId, ++sequence, plain ? null : upCipher);
    }

    /** Sequence number of the last datagram sealed: per boot, across every session so far. */
    public synchronized long sequence() {
        return sequence;
    }

    /** The sequence number in a datagram's header (the one {@link #seal} just gave it). */
    public static long sequenceOf(ByteBuf datagram) {
        return datagram.getLong(datagram.readerIndex() + 10);
    }
}
