package org.glouglou.protocol.internal;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.glouglou.spi.Event;
import org.glouglou.spi.EventType;

/** Events of module 0, the protocol's own (spec section 5). */
public final class InternalEvents {
    public static final EventType HELLO = new EventType(0, 1, "HELLO");
    public static final EventType CHALLENGE = new EventType(0, 2, "CHALLENGE");
    public static final EventType AUTH = new EventType(0, 3, "AUTH");
    public static final EventType AUTH_OK = new EventType(0, 4, "AUTH_OK");
    public static final EventType AUTH_FAIL = new EventType(0, 5, "AUTH_FAIL");
    public static final EventType PING = new EventType(0, 6, "PING");
    public static final EventType PONG = new EventType(0, 7, "PONG");
    public static final EventType NOTICE = new EventType(0, 8, "NOTICE");
    public static final EventType STATS = new EventType(0, 9, "STATS");
    public static final EventType FORWARD = new EventType(0, 10, "FORWARD");
    public static final EventType CLOCK = new EventType(0, 11, "CLOCK");
    public static final EventType BYE = new EventType(0, 12, "BYE");
    public static final EventType ACK = new EventType(0, 13, "ACK");
    public static final EventType FORWARD_ACK = new EventType(0, 14, "FORWARD_ACK");

    private InternalEvents() {
    }

    /** A module the probe runs, announced in HELLO. */
    public record ModuleInfo(int id, String name, String version) {
    }

    /**
     * Probe to receiver, unsealed: opens a session. {@code boot} names this run of the probe (its start time in
     * microseconds): sequence numbers and connection ids are unique within a boot, across all its sessions (spec 5.8).
     */
    public record Hello(byte[] clientNonce, long boot, String probeName, String software, List<ModuleInfo> modules)
            implements
                Event {
        @Override
        public EventType type() {
            return HELLO;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Hello h && Arrays.equals(clientNonce, h.clientNonce) && boot == h.boot
                    && probeName.equals(h.probeName) && software.equals(h.software) && modules.equals(h.modules);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(clientNonce) * 31 + probeName.hashCode();
        }
    }

    /**
     * Receiver to probe, unsealed: the receiver's nonce, the session id it assigns, and the first 8 bytes of the
     * HELLO's client nonce, so that the probe answers only the CHALLENGE of its latest HELLO.
     */
    public record Challenge(byte[] serverNonce, long sessionId, long helloTag) implements Event {
        /** The tag a CHALLENGE must echo for a HELLO with this client nonce. */
        public static long tagOf(byte[] clientNonce) {
            long t = 0;
            for (int i = 0; i < 8; i++) {
                t = t << 8 | (clientNonce[i] & 0xFF);
            }
            return t;
        }

        @Override
        public EventType type() {
            return CHALLENGE;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Challenge c && Arrays.equals(serverNonce, c.serverNonce) && sessionId == c.sessionId
                    && helloTag == c.helloTag;
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(serverNonce) * 31 + Long.hashCode(sessionId);
        }
    }

    /** Probe to receiver, unsealed: proof that the probe knows its secret. */
    public record Auth(byte[] proof) implements Event {
        @Override
        public EventType type() {
            return AUTH;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Auth a && Arrays.equals(proof, a.proof);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(proof);
        }
    }

    /** Receiver to probe, sealed: proof that the receiver knows the secret too; the session is established. */
    public record AuthOk(byte[] proof, int keepaliveSeconds) implements Event {
        @Override
        public EventType type() {
            return AUTH_OK;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof AuthOk a && Arrays.equals(proof, a.proof) && keepaliveSeconds == a.keepaliveSeconds;
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(proof);
        }
    }

    /**
     * Receiver to probe, unsealed, so only a hint: the probe must not trust it beyond retrying later (spec 5.2).
     */
    public record AuthFail(int code, String message) implements Event {
        public static final int UNKNOWN_PROBE = 1;
        public static final int BAD_PROOF = 2;
        public static final int EXPIRED = 3;
        public static final int BUSY = 4;

        @Override
        public EventType type() {
            return AUTH_FAIL;
        }
    }

    public record Ping(long nonce) implements Event {
        @Override
        public EventType type() {
            return PING;
        }
    }

    public record Pong(long nonce) implements Event {
        @Override
        public EventType type() {
            return PONG;
        }
    }

    /** Free text for the operator, with a syslog-like severity (0 emergency .. 7 debug). */
    public record Notice(int severity, String text) implements Event {
        @Override
        public EventType type() {
            return NOTICE;
        }
    }

    /**
     * Counters of the sender, cumulative since it started, by stable name (spec 5.5): e.g. packets_captured,
     * kernel_dropped, datagrams_sent, events_suppressed, events_dropped.
     */
    public record Stats(Map<String, Long> counters) implements Event {
        @Override
        public EventType type() {
            return STATS;
        }
    }

    /**
     * Events of another probe carried by a relay (spec 5.6): the origin's identity (probe and boot) and datagram
     * coordinates, the relays it went through (nearest the origin first), and the origin's records as they were in its
     * payload.
     */
    public record Forward(long originProbe, long originBoot, long originSequence, long originBaseTime, long[] path,
            byte[] records) implements Event {
        @Override
        public EventType type() {
            return FORWARD;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Forward f && originProbe == f.originProbe && originBoot == f.originBoot
                    && originSequence == f.originSequence && originBaseTime == f.originBaseTime
                    && Arrays.equals(path, f.path) && Arrays.equals(records, f.records);
        }

        @Override
        public int hashCode() {
            return Long.hashCode(originProbe) * 31 + Long.hashCode(originSequence);
        }

        @Override
        public String toString() {
            return "Forward[origin=" + originProbe + "/" + originBoot + "/" + originSequence + ", path="
                    + Arrays.toString(path) + ", " + records.length + " bytes]";
        }
    }

    /** Sets the time of the records that follow in this payload: base time plus this offset. */
    public record Clock(long offsetMicros) implements Event {
        @Override
        public EventType type() {
            return CLOCK;
        }
    }

    /** The sender closes its session (shutdown, rekey). */
    public record Bye(int reason) implements Event {
        public static final int SHUTDOWN = 0;
        public static final int REKEY = 1;

        @Override
        public EventType type() {
            return BYE;
        }
    }

    /**
     * Sequence numbers of one sender's boot, as ascending, disjoint, inclusive ranges {@code [first, last]} (spec 5.8).
     * {@code bounds} holds first0, last0, first1, last1, ...
     */
    public record SeqRanges(long[] bounds) {
        /** 32 ranges: the acknowledgement of a window of 1024 sequence numbers with up to 31 holes. */
        public static final int MAX_RANGES = 32;

        public SeqRanges {
            if (bounds.length == 0 || bounds.length % 2 != 0 || bounds.length / 2 > MAX_RANGES) {
                throw new IllegalArgumentException(bounds.length / 2 + " ranges: need 1.." + MAX_RANGES);
            }
            for (int i = 0; i < bounds.length; i += 2) {
                if (bounds[i] < 1 || bounds[i + 1] < bounds[i] || i > 0 && bounds[i] <= bounds[i - 1] + 1) {
                    throw new IllegalArgumentException("ranges must be ascending, disjoint, not adjacent, from 1: "
                            + Arrays.toString(bounds));
                }
            }
        }

        /** One range. */
        public static SeqRanges of(long first, long last) {
            return new SeqRanges(new long[]{first, last});
        }

        public int count() {
            return bounds.length / 2;
        }

        public long first(int i) {
            return bounds[2 * i];
        }

        public long last(int i) {
            return bounds[2 * i + 1];
        }

        public boolean contains(long seq) {
            for (int i = 0; i < bounds.length; i += 2) {
                if (seq >= bounds[i] && seq <= bounds[i + 1]) {
                    return true;
                }
            }
            return false;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof SeqRanges r && Arrays.equals(bounds, r.bounds);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(bounds);
        }

        @Override
        public String toString() {
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < bounds.length; i += 2) {
                b.append(i == 0 ? "" : ",").append(bounds[i]).append('-').append(bounds[i + 1]);
            }
            return b.toString();
        }
    }

    /**
     * Receiver to sender, sealed (spec 5.8): these datagrams of the session's sender (its sequence numbers) were
     * {@link #RECEIVED} (stop resending on timeout) or are {@link #DURABLE} (every write their events caused is
     * confirmed by the store: forget them).
     */
    public record Ack(int kind, SeqRanges ranges) implements Event {
        public static final int RECEIVED = 1;
        public static final int DURABLE = 2;

        @Override
        public EventType type() {
            return ACK;
        }
    }

    /**
     * Upstream to relay, sealed (spec 5.8): an {@link Ack} for datagrams of the origin probe's boot that a relay
     * forwarded; each relay on the way back routes it towards the origin.
     */
    public record ForwardAck(long originProbe, long originBoot, int kind, SeqRanges ranges) implements Event {
        @Override
        public EventType type() {
            return FORWARD_ACK;
        }
    }
}
