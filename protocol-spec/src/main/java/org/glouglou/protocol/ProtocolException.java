package org.glouglou.protocol;

/**
 * Malformed or refused input. Carries a {@link DropReason} that the receiver counts; never escapes a decoder's
 * boundary as anything else. Stack traces are not filled in: these are expected on hostile input and must be cheap.
 */
public final class ProtocolException extends Exception {
    private final DropReason reason;

    public ProtocolException(DropReason reason, String detail) {
        super(detail, null, false, false);
        this.reason = reason;
    }

    public DropReason reason() {
        return reason;
    }

    @Override
    public String toString() {
        return reason.label() + ": " + getMessage();
    }
}
