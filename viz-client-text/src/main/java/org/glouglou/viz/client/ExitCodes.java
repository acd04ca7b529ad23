package org.glouglou.viz.client;

/**
 * Exit codes of both viewers, for scripts (issue 6). They are part of the command-line interface: README.md lists
 * them and the integration tests check them, so never renumber one.
 */
public final class ExitCodes {
    /** Done: the snapshot was printed, the screenshot saved, or the user closed the viewer. */
    public static final int OK = 0;
    /** Failed while running for another reason (cannot write the output file, internal error). */
    public static final int FAILURE = 1;
    /** Wrong option or value, or a configuration the server refused as malformed. */
    public static final int USAGE = 2;
    /** Could not reach the server, or lost it, within --connect-timeout. */
    public static final int CANNOT_CONNECT = 3;
    /** The server refused the user, password or token. */
    public static final int AUTH_REFUSED = 4;
    /** The server's certificate is not the pinned or known one, or does not chain to --ca. */
    public static final int CERTIFICATE_MISMATCH = 5;

    private ExitCodes() {
    }
}
