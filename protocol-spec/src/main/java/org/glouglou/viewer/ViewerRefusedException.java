package org.glouglou.viewer;

import java.io.IOException;

/**
 * The server refused this viewer or the connection failed for a reason that retrying will not fix (issue 5): wrong
 * password or token, certificate fingerprint mismatch, malformed configuration. The message is the reason.
 */
public final class ViewerRefusedException extends IOException {
    public ViewerRefusedException(String reason) {
        super(reason);
    }

    public ViewerRefusedException(String reason, Throwable cause) {
        super(reason, cause);
    }
}
