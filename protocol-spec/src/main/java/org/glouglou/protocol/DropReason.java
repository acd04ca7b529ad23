package org.glouglou.protocol;

/**
 * Why a datagram or a record was dropped (spec section 7). Every receiver counts drops by these reasons, under the
 * label given here, in its metrics.
 */
public enum DropReason {
    /** Fewer bytes than a datagram header. */
    TRUNCATED_HEADER("truncated_header", true),
    /** Version byte is not 3. */
    BAD_VERSION("bad_version", true),
    /** A reserved flag bit is set. */
    BAD_FLAGS("bad_flags", true),
    /** Larger than the receiver's configured maximum. */
    TOO_LARGE("too_large", true),
    /** A record's length runs past the end of the payload: the rest of the datagram is unreadable. */
    LENGTH_PAST_END("length_past_end", true),
    /** Authentication tag did not verify: forged, corrupted, or sealed under another key. */
    BAD_TAG("bad_tag", true),
    /** Sequence number already seen or older than the anti-replay window. */
    REPLAYED("replayed", true),
    /** Probe id not in the receiver's secrets. */
    UNKNOWN_PROBE("unknown_probe", true),
    /** Session id not (or no longer) established for this probe. */
    UNKNOWN_SESSION("unknown_session", true),
    /** Handshake proof did not verify. */
    BAD_PROOF("bad_proof", true),
    /** An unsealed datagram where the receiver requires sealing, or an unsealed record that is not a handshake. */
    UNSEALED_REFUSED("unsealed_refused", true),
    /** Over the per-source rate limit. */
    RATE_LIMITED("rate_limited", true),
    /** A record of a module the receiver does not have: skipped by its length. */
    UNKNOWN_MODULE("unknown_module", false),
    /** A record of a known module with an unknown type: skipped by its length. */
    UNKNOWN_TYPE("unknown_type", false),
    /** A record whose body does not decode: skipped by its length, the following records are still read. */
    MALFORMED_RECORD("malformed_record", false);

    private final String label;
    private final boolean wholeDatagram;

    DropReason(String label, boolean wholeDatagram) {
        this.label = label;
        this.wholeDatagram = wholeDatagram;
    }

    /** Metric label: lower case, stable across releases. */
    public String label() {
        return label;
    }

    /** True when the whole datagram is dropped; false when only one record is skipped. */
    public boolean wholeDatagram() {
        return wholeDatagram;
    }
}
