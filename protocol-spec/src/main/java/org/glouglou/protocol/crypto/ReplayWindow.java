package org.glouglou.protocol.crypto;

import org.glouglou.protocol.ProtocolConstants;

/**
 * Sliding anti-replay window over sequence numbers (spec 5.4, the RFC 6479 bitmap): accepts each number once, and
 * nothing older than the window behind the highest seen. Also counts loss: numbers skipped and never filled in.
 * Not thread-safe.
 */
public final class ReplayWindow {
    // one word more than the window: the word holding the highest number is only partly inside it
    private static final int WORDS = ProtocolConstants.REPLAY_WINDOW / 64 + 1;
    private final long[] bits = new long[WORDS];
    private long highest;
    private long accepted;
    /**
     * The lowest number accepted less one: a session may start anywhere in its sender's boot (spec 5.8), so gaps count
     * from there, not from 1.
     */
    private long base = -1;

    /** True if {@code seq} may be accepted: positive, not seen, not too old. Changes nothing. */
    public boolean check(long seq) {
        if (seq <= 0) {
            return false;
        }
        if (seq > highest) {
            return true;
        }
        if (highest - seq >= ProtocolConstants.REPLAY_WINDOW) {
            return false;
        }
        return (bits[(int) ((seq >>> 6) % WORDS)] & (1L << (seq & 63))) == 0;
    }

    /** Marks {@code seq} seen; call only after {@link #check} passed and the datagram authenticated. */
    public void update(long seq) {
        if (base < 0 || seq - 1 < base) {
            base = seq - 1;
        }
        if (seq > highest) {
            long from = highest >>> 6;
            long to = seq >>> 6;
            long clear = Math.min(to - from, WORDS);
            for (long i = 1; i <= clear; i++) {
                bits[(int) ((from + i) % WORDS)] = 0;
            }
            highest = seq;
        }
        bits[(int) ((seq >>> 6) % WORDS)] |= 1L << (seq & 63);
        accepted++;
    }

    public long highest() {
        return highest;
    }

    public long accepted() {
        return accepted;
    }

    /**
     * Sequence numbers skipped in transit: from the first accepted to the highest, those that never arrived (late
     * arrivals reduce it). A datagram sent again arrives under a new number, so this counts gaps, not data lost.
     */
    public long lost() {
        return base < 0 ? 0 : highest - base - accepted;
    }
}
