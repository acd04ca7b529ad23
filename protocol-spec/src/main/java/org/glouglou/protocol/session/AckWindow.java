package org.glouglou.protocol.session;

import org.glouglou.protocol.ProtocolConstants;
import org.glouglou.protocol.internal.InternalEvents.Ack;
import org.glouglou.protocol.internal.InternalEvents.SeqRanges;

/**
 * What a receiver acknowledges for one sender's boot (spec 5.8): the sequence numbers it accepted in the last
 * {@value ProtocolConstants#REPLAY_WINDOW}, which of them are durable, and since when the others wait. Durable ones are
 * acknowledged again in every ACK while they stay in the window, so an ACK lost on the way is made good by the next;
 * accepted ones still not durable after a while are acknowledged {@link Ack#RECEIVED}, so that the sender does not
 * resend what is only slow. Not thread-safe: one receive thread.
 */
public final class AckWindow {
    private static final int SIZE = ProtocolConstants.REPLAY_WINDOW;

    private final long[] seqs = new long[SIZE];
    private final long[] acceptedAt = new long[SIZE];
    private final boolean[] durable = new boolean[SIZE];
    private long highest;
    /** Durable sequence numbers not yet in an ACK: what makes an ACK worth sending on its own. */
    private int unsent;

    /** {@code seq} was accepted (authenticated, in the replay window) at {@code nowMillis}. */
    public void accepted(long seq, long nowMillis) {
        int i = slot(seq);
        if (seqs[i] == seq) {
            return;
        }
        seqs[i] = seq;
        acceptedAt[i] = nowMillis;
        durable[i] = false;
        highest = Math.max(highest, seq);
    }

    /** Every write caused by {@code seq}'s events is confirmed: acknowledge it durable. Ignored when out of window. */
    public void durable(long seq) {
        int i = slot(seq);
        if (seqs[i] == seq && !durable[i]) {
            durable[i] = true;
            unsent++;
        }
    }

    /** Durable sequence numbers not acknowledged yet: a receiver sends an ACK on its own from some number (16). */
    public int unsent() {
        return unsent;
    }

    /**
     * The durable sequence numbers of the window as an ACK, or null when there is none. Marks them sent (they are
     * still repeated in later ACKs while in the window).
     */
    public Ack durableAck() {
        SeqRanges r = ranges(true, Long.MAX_VALUE);
        unsent = 0;
        return r == null ? null : new Ack(Ack.DURABLE, r);
    }

    /**
     * The accepted sequence numbers accepted at or before {@code acceptedBefore} and not durable, as a RECEIVED ACK, or
     * null when there is none.
     */
    public Ack receivedAck(long acceptedBefore) {
        SeqRanges r = ranges(false, acceptedBefore);
        return r == null ? null : new Ack(Ack.RECEIVED, r);
    }

    /** Ranges over the window, ascending; at most {@link SeqRanges#MAX_RANGES}, keeping the newest. */
    private SeqRanges ranges(boolean wantDurable, long acceptedBefore) {
        long[] b = new long[2 * SeqRanges.MAX_RANGES];
        int n = 0;
        long start = -1;
        long prev = -1;
        // newest first, so that when there are too many ranges the newest are the ones kept
        for (long s = highest; s > 0 && s > highest - SIZE; s--) {
            int i = slot(s);
            boolean in = seqs[i] == s && durable[i] == wantDurable && (wantDurable || acceptedAt[i] <= acceptedBefore);
            if (in) {
                if (start < 0) {
                    start = s;
                }
                prev = s;
            } else if (start >= 0) {
                if (n == SeqRanges.MAX_RANGES) {
                    break;
                }
                b[2 * n] = prev;
                b[2 * n + 1] = start;
                n++;
                start = -1;
            }
        }
        if (start >= 0 && n < SeqRanges.MAX_RANGES) {
            b[2 * n] = prev;
            b[2 * n + 1] = start;
            n++;
        }
        if (n == 0) {
            return null;
        }
        long[] asc = new long[2 * n];
        for (int k = 0; k < n; k++) {
            asc[2 * k] = b[2 * (n - 1 - k)];
            asc[2 * k + 1] = b[2 * (n - 1 - k) + 1];
        }
        return new SeqRanges(asc);
    }

    private static int slot(long seq) {
        return (int) Math.floorMod(seq, (long) SIZE);
    }
}
