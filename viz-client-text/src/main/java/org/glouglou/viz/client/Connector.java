package org.glouglou.viz.client;

import java.io.IOException;
import org.glouglou.viewer.ViewerConnection;
import org.glouglou.viewer.ViewerRefusedException;
import org.glouglou.viewer.ViewerTrust;

/**
 * Opens one authenticated connection with the shared options (issue 6), retrying a server that is not there yet until
 * --connect-timeout: a script that starts the server and then a viewer need not sleep. A refusal is final at once.
 */
public final class Connector {
    /** 250 ms between attempts: a starting server is up within a few, and a loop costs nothing meanwhile. */
    static final long RETRY_MILLIS = 250;

    private final ConnectOptions options;
    private final ViewerTrust trust;
    private final ConnectOptions.Credentials credentials;

    public Connector(ConnectOptions options) throws UsageException {
        this.options = options;
        this.trust = options.trust();
        this.credentials = options.credentials();
        options.host();
        options.port();
    }

    public ViewerTrust trust() {
        return trust;
    }

    public ConnectOptions.Credentials credentials() {
        return credentials;
    }

    public String address() {
        return options.server;
    }

    /** Connects, or throws the refusal, or {@link CannotConnectException} after --connect-timeout. */
    public ViewerConnection open() throws ViewerRefusedException, CannotConnectException {
        long deadline = System.currentTimeMillis() + options.connectTimeoutSeconds * 1000L;
        IOException last = null;
        do {
            int left = (int) Math.max(200, deadline - System.currentTimeMillis());
            try {
                return ViewerConnection.open(host(), port(), trust, credentials.user(), credentials.secret(),
                        credentials.token(), left);
            } catch (ViewerRefusedException e) {
                throw e;
            } catch (IOException e) {
                last = e;
            }
            try {
                Thread.sleep(RETRY_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        } while (System.currentTimeMillis() < deadline);
        throw new CannotConnectException("cannot connect to " + options.server + " within "
                + options.connectTimeoutSeconds + " s: " + (last == null ? "interrupted" : last.getMessage()));
    }

    public String host() {
        try {
            return options.host();
        } catch (UsageException e) {
            throw new IllegalStateException(e); // checked in the constructor
        }
    }

    public int port() {
        try {
            return options.port();
        } catch (UsageException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The server could not be reached in time (exit code 3). */
    public static final class CannotConnectException extends Exception {
        public CannotConnectException(String message) {
            super(message);
        }
    }
}
