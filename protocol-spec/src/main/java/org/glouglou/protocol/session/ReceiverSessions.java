package org.glouglou.protocol.session;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.glouglou.protocol.DatagramHeader;
import org.glouglou.protocol.DropReason;
import org.glouglou.protocol.PayloadBuilder;
import org.glouglou.protocol.ProtocolConstants;
import org.glouglou.protocol.ProtocolException;
import org.glouglou.protocol.RecordDecoder;
import org.glouglou.protocol.crypto.HandshakeCrypto;
import org.glouglou.protocol.crypto.HandshakeCrypto.Transcript;
import org.glouglou.protocol.crypto.ReplayWindow;
import org.glouglou.protocol.crypto.SessionCipher;
import org.glouglou.protocol.internal.InternalEvents;
import org.glouglou.protocol.internal.InternalEvents.Auth;
import org.glouglou.protocol.internal.InternalEvents.AuthFail;
import org.glouglou.protocol.internal.InternalEvents.AuthOk;
import org.glouglou.protocol.internal.InternalEvents.Challenge;
import org.glouglou.protocol.internal.InternalEvents.Hello;
import org.glouglou.spi.Event;

/**
 * The receiving side of every probe session (server and relay): the handshake of spec 5.2, opening and anti-replay
 * of sealed datagrams, loss per session. Transport-free: one datagram in, events and replies out. Every drop is
 * reported with its reason; no state is kept from a datagram that is dropped. Not thread-safe: one instance per I/O
 * thread (a UDP channel has one).
 */
public final class ReceiverSessions {

    /**
     * @param allowPlain        accept unsealed, unauthenticated datagrams (tests only)
     * @param maxSessions       established sessions kept; the least recently active is closed beyond
     * @param maxPending        handshakes in progress; more are refused with BUSY
     * @param handshakeMillis   a CHALLENGE not answered within this is forgotten
     * @param keepaliveSeconds  told to probes in AUTH_OK: ping at least this often
     * @param sessionIdleMillis a session silent this long is closed (its probe re-handshakes)
     */
    public record Config(boolean allowPlain, int maxSessions, int maxPending, long handshakeMillis,
            int keepaliveSeconds, long sessionIdleMillis) {
        /** 4096 sessions: far more probes than one server serves; 10 s: several round trips on any WAN. */
        public static Config defaults() {
            return new Config(false, 4096, 1024, 10_000, 10, 60_000);
        }

        public Config withAllowPlain(boolean allow) {
            return new Config(allow, maxSessions, maxPending, handshakeMillis, keepaliveSeconds, sessionIdleMillis);
        }
    }

    /** Where the results of {@link #receive} go. */
    public interface Handler {
        void onEvent(Session session, long timeMicros, Event event);

        void onDrop(DropReason reason, long probeId, String detail);

        default void onSessionEstablished(Session session) {
        }

        /**
         * The records of an authenticated, in-window datagram of {@code session}, in clear, before they are decoded
         * and delivered through {@link #onEvent}: a relay forwards them verbatim (spec 5.6). Called for every such
         * datagram, also one that holds only a PING, so that a relay can pass every sequence number on. The buffer is
         * valid only during the call; its indexes must not be changed.
         */
        default void onPayload(Session session, DatagramHeader header, ByteBuf records) {
        }

        default void onSessionClosed(Session session, String why) {
        }

        /**
         * Events to send with the PONG that answers a PING of {@code session} (acknowledgements, spec 5.8), or an
         * empty list. Called on the receive thread, after the datagram's events were delivered.
         */
        default List<Event> onPing(Session session) {
            return List.of();
        }

        /** A datagram to send back to {@code to}. */
        void reply(ByteBuf datagram, InetSocketAddress to);
    }

    /** One established session. Counters are read by other threads (metrics), hence volatile. */
    public static final class Session {
        private final long probeId;
        private final long sessionId;
        private final String probeName;
        private final Hello hello;
        private final SessionCipher up;
        private final SessionCipher down;
        private final ReplayWindow window = new ReplayWindow();
        private final long establishedMillis;
        private volatile InetSocketAddress remote;
        private volatile long lastSeenMillis;
        private volatile long datagrams;
        private volatile long events;
        private long downSequence;

        Session(long probeId, long sessionId, String probeName, Hello hello, SessionCipher up, SessionCipher down,
                InetSocketAddress remote, long now) {
            this.probeId = probeId;
            this.sessionId = sessionId;
            this.probeName = probeName;
            this.hello = hello;
            this.up = up;
            this.down = down;
            this.remote = remote;
            this.establishedMillis = now;
            this.lastSeenMillis = now;
        }

        public long probeId() {
            return probeId;
        }

        public long sessionId() {
            return sessionId;
        }

        /** The name in the receiver's secrets file (never the one the probe claims). */
        public String probeName() {
            return probeName;
        }

        /**
         * The sender's boot from its HELLO (spec 5.8): with the probe id, what names its connection ids and sequence
         * numbers across sessions. In plain mode (no HELLO) the session id stands for it.
         */
        public long boot() {
            return hello != null ? hello.boot() : sessionId;
        }

        /** The probe's HELLO: the name it claims, its software and modules. Null in plain mode. */
        public Hello hello() {
            return hello;
        }

        public InetSocketAddress remote() {
            return remote;
        }

        public long establishedMillis() {
            return establishedMillis;
        }

        public long lastSeenMillis() {
            return lastSeenMillis;
        }

        public long datagrams() {
            return datagrams;
        }

        public long events() {
            return events;
        }

        /** Datagrams lost in transit on this session, from sequence gaps. */
        public synchronized long lost() {
            return window.lost();
        }

        public synchronized long highestSequence() {
            return window.highest();
        }

        boolean plain() {
            return up == null;
        }

        /** Seals a payload for this probe (PONG, NOTICE): the caller owns the result. */
        synchronized ByteBuf sealDown(PayloadBuilder b) {
            return b.finish(probeId, sessionId, ++downSequence, down);
        }
    }

    private record Pending(long probeId, long sessionId, byte[] clientNonce, byte[] serverNonce, byte[] helloHash,
            Hello hello, long createdMillis) {
    }

    private record Key(long probeId, long sessionId) {
    }

    private final RecordDecoder decoder;
    private final ProbeSecrets secrets;
    private final Config config;
    private final PayloadBuilder replyBuilder;
    private final Map<Key, Pending> pending = new LinkedHashMap<>();
    private final Map<Key, Session> sessions = new ConcurrentHashMap<>();
    private final Map<Long, Session> current = new ConcurrentHashMap<>();

    public ReceiverSessions(RecordDecoder decoder, ProbeSecrets secrets, Config config) {
        this.decoder = decoder;
        this.secrets = secrets;
        this.config = config;
        this.replyBuilder = new PayloadBuilder(decoder.registry(), ProtocolConstants.DEFAULT_MAX_DATAGRAM, 1000);
    }

    /** Established sessions (the newest per probe first is not guaranteed). Safe from other threads. */
    public Collection<Session> sessions() {
        return sessions.values();
    }

    /**
     * A sealed datagram of {@code events} down {@code session} (unsolicited acknowledgements, notices), for
     * {@link Handler#reply}; null for a plain session, which gets no replies. Events that do not fit one datagram are
     * left out: send fewer.
     */
    public ByteBuf seal(Session session, List<Event> events, long nowMillis) {
        if (session.plain() || events.isEmpty()) {
            return null;
        }
        for (Event e : events) {
            if (!replyBuilder.add(nowMillis * 1000, e)) {
                break;
            }
        }
        return session.sealDown(replyBuilder);
    }

    /** The newest established session of a probe, or null. */
    public Session current(long probeId) {
        return current.get(probeId);
    }

    /**
     * Handles one datagram from {@code from}. The buffer's readable bytes are the datagram; it is modified (opened
     * in place) and not released here.
     */
    public void receive(ByteBuf datagram, InetSocketAddress from, long nowMillis, Handler handler) {
        long probe = 0;
        try {
            if (!datagram.hasArray()) {
                ByteBuf heap = Unpooled.buffer(datagram.readableBytes());
                heap.writeBytes(datagram, datagram.readerIndex(), datagram.readableBytes());
                datagram = heap;
            }
            DatagramHeader h = DatagramHeader.read(datagram.duplicate());
            probe = h.probeId();
            if (h.sealed()) {
                receiveSealed(h, datagram, from, nowMillis, handler);
            } else {
                receiveUnsealed(h, datagram, from, nowMillis, handler);
            }
        } catch (ProtocolException e) {
            handler.onDrop(e.reason(), probe, e.getMessage());
        }
    }

    private void receiveSealed(DatagramHeader h, ByteBuf d, InetSocketAddress from, long now, Handler handler)
            throws ProtocolException {
        Session s = sessions.get(new Key(h.probeId(), h.sessionId()));
        if (s == null || s.plain()) {
            if (secrets.get(h.probeId()) != null) {
                // a hint so that a probe whose server restarted re-handshakes at once instead of after a timeout
                replyFail(h.probeId(), h.sessionId(), AuthFail.EXPIRED, "unknown session, authenticate again", from,
                        handler);
            }
            throw new ProtocolException(DropReason.UNKNOWN_SESSION, "probe " + h.probeId() + " session "
                    + h.sessionId());
        }
        synchronized (s) {
            if (!s.window.check(h.sequence())) {
                throw new ProtocolException(DropReason.REPLAYED, "sequence " + h.sequence()
                        + " already seen or older than the window (highest " + s.window.highest() + ")");
            }
            s.up.open(d);
            s.window.update(h.sequence());
        }
        deliver(s, h, d, from, now, handler);
    }

    private void deliver(Session s, DatagramHeader h, ByteBuf d, InetSocketAddress from, long now, Handler handler) {
        s.remote = from;
        s.lastSeenMillis = now;
        s.datagrams++;
        d.skipBytes(ProtocolConstants.HEADER_LENGTH);
        handler.onPayload(s, h, d.slice());
        List<Event> replies = new ArrayList<>(0);
        boolean[] bye = new boolean[1];
        boolean[] ping = new boolean[1];
        int n = decoder.decode(d, h.baseTimeMicros(), new RecordDecoder.Listener() {
            @Override
            public void onEvent(long t, Event e) {
                if (bye[0]) {
                    // spec 5.7: nothing after a BYE is delivered; the session is closed (found by fuzzing:
                    // ReceiverSessionsFuzzTest, "events after BYE delivered to a closed session")
                    return;
                }
                if (e instanceof InternalEvents.Ping p) {
                    replies.add(new InternalEvents.Pong(p.nonce()));
                    ping[0] = true;
                } else if (e instanceof InternalEvents.Bye) {
                    bye[0] = true;
                    close(s, "probe said BYE", handler);
                } else if (isHandshake(e)) {
                    handler.onDrop(DropReason.MALFORMED_RECORD, s.probeId, e.type().name() + " inside a session");
                } else {
                    handler.onEvent(s, t, e);
                }
            }

            @Override
            public void onSkipped(DropReason r, String detail) {
                handler.onDrop(r, s.probeId, detail);
            }
        });
        s.events += n;
        if (ping[0] && !s.plain() && !bye[0]) {
            replies.addAll(handler.onPing(s));
        }
        if (!replies.isEmpty() && !s.plain() && !bye[0]) {
            for (Event e : replies) {
                replyBuilder.add(now * 1000, e);
            }
            handler.reply(s.sealDown(replyBuilder), from);
        }
    }

    private static boolean isHandshake(Event e) {
        return e instanceof Hello || e instanceof Challenge || e instanceof Auth || e instanceof AuthOk
                || e instanceof AuthFail;
    }

    private void receiveUnsealed(DatagramHeader h, ByteBuf d, InetSocketAddress from, long now, Handler handler)
            throws ProtocolException {
        ByteBuf payload = d.duplicate().skipBytes(ProtocolConstants.HEADER_LENGTH);
        Event only = singleHandshakeRecord(payload.duplicate(), h);
        if (only == null) {
            if (!config.allowPlain()) {
                throw new ProtocolException(DropReason.UNSEALED_REFUSED, "unsealed datagram from probe "
                        + h.probeId() + " (plain mode is off)");
            }
            Session s = sessions.computeIfAbsent(new Key(h.probeId(), h.sessionId()), k -> {
                Session n = new Session(k.probeId(), k.sessionId(), "probe-" + k.probeId(), null, null, null, from,
                        now);
                current.put(k.probeId(), n);
                handler.onSessionEstablished(n);
                return n;
            });
            synchronized (s) {
                if (!s.window.check(h.sequence())) {
                    throw new ProtocolException(DropReason.REPLAYED, "sequence " + h.sequence());
                }
                s.window.update(h.sequence());
            }
            deliver(s, h, d, from, now, handler);
            return;
        }
        if (only instanceof Hello hello) {
            onHello(h, hello, ProbeSession.payloadOf(d), from, now, handler);
        } else if (only instanceof Auth auth) {
            onAuth(h, auth, from, now, handler);
        } else {
            throw new ProtocolException(DropReason.UNSEALED_REFUSED, "a receiver does not take "
                    + only.type().name());
        }
    }

    /** The handshake event if the payload is exactly one handshake record; null if it holds anything else. */
    private Event singleHandshakeRecord(ByteBuf payload, DatagramHeader h) throws ProtocolException {
        List<Event> events = new ArrayList<>(1);
        ProtocolException[] bad = new ProtocolException[1];
        decoder.decode(payload, h.baseTimeMicros(), new RecordDecoder.Listener() {
            @Override
            public void onEvent(long t, Event e) {
                events.add(e);
            }

            @Override
            public void onSkipped(DropReason r, String detail) {
                if (bad[0] == null) {
                    bad[0] = new ProtocolException(r, detail);
                }
            }
        });
        boolean handshake = events.size() == 1 && isHandshake(events.get(0));
        if (handshake && bad[0] != null) {
            throw bad[0];
        }
        if (!handshake && events.stream().anyMatch(ReceiverSessions::isHandshake)) {
            throw new ProtocolException(DropReason.MALFORMED_RECORD, "a handshake record must travel alone");
        }
        return handshake ? events.get(0) : null;
    }

    private void onHello(DatagramHeader h, Hello hello, byte[] payload, InetSocketAddress from, long now,
            Handler handler) throws ProtocolException {
        ProbeSecrets.Entry entry = secrets.get(h.probeId());
        if (entry == null) {
            replyFail(h.probeId(), 0, AuthFail.UNKNOWN_PROBE, "probe " + h.probeId() + " is not known here", from,
                    handler);
            throw new ProtocolException(DropReason.UNKNOWN_PROBE, "HELLO from unknown probe " + h.probeId() + " at "
                    + from);
        }
        expirePending(now);
        if (pending.size() >= config.maxPending()) {
            replyFail(h.probeId(), 0, AuthFail.BUSY, "too many handshakes in progress, retry later", from, handler);
            throw new ProtocolException(DropReason.RATE_LIMITED, "pending handshakes at limit " + config.maxPending());
        }
        long sid;
        do {
            sid = HandshakeCrypto.sessionId();
        } while (sessions.containsKey(new Key(h.probeId(), sid)));
        Pending p = new Pending(h.probeId(), sid, hello.clientNonce(), HandshakeCrypto.nonce(),
                HandshakeCrypto.sha256(payload), hello, now);
        pending.put(new Key(h.probeId(), sid), p);
        replyBuilder.add(now * 1000, new Challenge(p.serverNonce(), sid, Challenge.tagOf(hello.clientNonce())));
        handler.reply(replyBuilder.finish(h.probeId(), sid, 0, null), from);
    }

    private void onAuth(DatagramHeader h, Auth auth, InetSocketAddress from, long now, Handler handler)
            throws ProtocolException {
        Key key = new Key(h.probeId(), h.sessionId());
        Pending p = pending.get(key);
        if (p == null || now - p.createdMillis() > config.handshakeMillis()) {
            pending.remove(key);
            replyFail(h.probeId(), h.sessionId(), AuthFail.EXPIRED, "no handshake in progress, send HELLO", from,
                    handler);
            throw new ProtocolException(DropReason.UNKNOWN_SESSION, "AUTH without a pending CHALLENGE, probe "
                    + h.probeId());
        }
        ProbeSecrets.Entry entry = secrets.get(h.probeId());
        Transcript t = new Transcript(p.probeId(), p.sessionId(), p.clientNonce(), p.serverNonce(), p.helloHash());
        if (!HandshakeCrypto.verify(HandshakeCrypto.probeProof(entry.secret(), t), auth.proof())) {
            pending.remove(key);
            replyFail(h.probeId(), h.sessionId(), AuthFail.BAD_PROOF, "proof does not verify: wrong secret", from,
                    handler);
            throw new ProtocolException(DropReason.BAD_PROOF, "probe " + h.probeId() + " at " + from);
        }
        pending.remove(key);
        HandshakeCrypto.SessionKeys keys = HandshakeCrypto.keys(entry.secret(), t);
        Session s = new Session(p.probeId(), p.sessionId(), entry.name(), p.hello(), new SessionCipher(keys.up()),
                new SessionCipher(keys.down()), from, now);
        evictIfFull(handler);
        sessions.put(key, s);
        Session old = current.put(s.probeId, s);
        if (old != null) {
            close(old, "replaced by a new session", handler);
        }
        handler.onSessionEstablished(s);
        replyBuilder.add(now * 1000, new AuthOk(HandshakeCrypto.receiverProof(entry.secret(), t),
                config.keepaliveSeconds()));
        handler.reply(s.sealDown(replyBuilder), from);
    }

    private void replyFail(long probeId, long sessionId, int code, String message, InetSocketAddress to,
            Handler handler) {
        replyBuilder.add(System.currentTimeMillis() * 1000, new AuthFail(code, message));
        handler.reply(replyBuilder.finish(probeId, sessionId, 0, null), to);
    }

    private void expirePending(long now) {
        Iterator<Pending> it = pending.values().iterator();
        while (it.hasNext()) {
            if (now - it.next().createdMillis() > config.handshakeMillis()) {
                it.remove();
            } else {
                break; // insertion order: the rest are younger
            }
        }
    }

    private void evictIfFull(Handler handler) {
        while (sessions.size() >= config.maxSessions()) {
            Session oldest = null;
            for (Session s : sessions.values()) {
                if (oldest == null || s.lastSeenMillis < oldest.lastSeenMillis) {
                    oldest = s;
                }
            }
            close(oldest, "session table full", handler);
        }
    }

    private void close(Session s, String why, Handler handler) {
        if (sessions.remove(new Key(s.probeId, s.sessionId)) != null) {
            current.remove(s.probeId, s);
            handler.onSessionClosed(s, why);
        }
    }

    /** Closes sessions silent for longer than the configured idle time and forgets stale handshakes. */
    public void expire(long nowMillis, Handler handler) {
        expirePending(nowMillis);
        for (Session s : new ArrayList<>(sessions.values())) {
            if (nowMillis - s.lastSeenMillis > config.sessionIdleMillis()) {
                close(s, "idle for " + (nowMillis - s.lastSeenMillis) + " ms", handler);
            }
        }
    }
}
