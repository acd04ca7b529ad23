package org.glouglou.server.ingest;

import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import org.glouglou.protocol.crypto.ReplayWindow;
import org.glouglou.protocol.session.AckWindow;
import org.glouglou.protocol.session.ReceiverSessions.Session;

/**
 * One run of a probe as the server sees it: (probe id, boot), spec 5.8. Its module state, its acknowledgements and
 * its status belong here, not to a session, so a new session of the same boot, a rekey, a failover from a direct
 * session to a relay or back continue it. Made by a direct session's HELLO boot or by a FORWARD's origin boot; ended
 * by BYE shutdown (direct or inside a FORWARD) or after a long silence. Ingest thread only, except the counters read
 * by the metrics thread (volatile).
 */
public final class ProbeStream {
    /** A datagram of this stream waiting to be acknowledged durable: its sequence number and generation. */
    static final class Pending {
        final long seq;
        long gen;
        boolean retry;
        final long acceptedMillis;

        Pending(long seq, long gen, boolean retry, long acceptedMillis) {
            this.seq = seq;
            this.gen = gen;
            this.retry = retry;
            this.acceptedMillis = acceptedMillis;
        }
    }

    final long probeId;
    final long boot;
    final String name;
    final IngestCore.StreamContext[] contexts = new IngestCore.StreamContext[256];
    final AckWindow acks = new AckWindow();
    /** Accepted datagrams not yet durable, by generation. */
    final ArrayDeque<Pending> pending = new ArrayDeque<>();
    /**
     * Origin datagrams that came through relays since the last tick, by origin sequence: the parts of a split FORWARD
     * share their origin's sequence number and are acknowledged together.
     */
    final LinkedHashMap<Long, Pending> relayed = new LinkedHashMap<>();
    /** The highest sequence number accepted: older than the acknowledgement window is never acknowledged. */
    long highestSeq;
    /** The current direct session, or null. */
    Session direct;
    /** The relay session the latest FORWARD of this stream came in, or null. */
    Session via;
    long viaId;
    volatile String path = "";
    String remote = "";
    String software = "";
    long sessionId;
    final long establishedMillis;
    volatile long lastSeenMillis;
    volatile long datagrams;
    volatile long events;
    /** Gaps of this stream's direct sessions that closed. */
    long closedSessionGaps;
    /** Origin sequence numbers through relays (split parts counted once): gaps on the relayed path. */
    final ReplayWindow relayWindow = new ReplayWindow();
    String state = "open";
    long statusDatagrams = -1;
    long statusMillis;
    String statusState;
    boolean ended;

    ProbeStream(long probeId, long boot, String name, long now) {
        this.probeId = probeId;
        this.boot = boot;
        this.name = name;
        this.establishedMillis = now;
        this.lastSeenMillis = now;
    }

    public long probeId() {
        return probeId;
    }

    public long boot() {
        return boot;
    }

    public String name() {
        return name;
    }

    /** Relay ids the latest FORWARD went through, nearest the origin first, comma-separated; empty when direct. */
    public String path() {
        return path;
    }

    /** Datagrams received (the parts of a split origin datagram counted once). */
    public long datagrams() {
        return datagrams;
    }

    public long events() {
        return events;
    }

    /**
     * Datagrams lost in transit: sequence gaps of its direct sessions plus gaps of its origin sequence numbers through
     * relays. A payload sent again travels under a new number, so gaps measure the path, not data lost (spec 5.4).
     */
    public long lost() {
        Session d = direct;
        return closedSessionGaps + (d == null ? 0 : d.lost()) + relayWindow.lost();
    }

    public String state() {
        return state;
    }
}
