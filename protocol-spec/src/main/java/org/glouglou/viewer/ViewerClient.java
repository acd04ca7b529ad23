package org.glouglou.viewer;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;

/**
 * A viewer that stays connected (issue 5): runs {@link ViewerConnection} on its own thread, sends the latest
 * configuration after every (re)connection, hands every item to a {@link Listener}, and reconnects with exponential
 * backoff (0.5 s doubling to 30 s) when the connection drops. A refusal (wrong secret, fingerprint mismatch, bad
 * configuration) stops it: retrying would not help.
 */
public final class ViewerClient implements AutoCloseable {
    /** 0.5 s first retry: a server restart is back quickly; 30 s at most: a long outage costs few attempts. */
    static final long FIRST_BACKOFF_MILLIS = 500;
    static final long MAX_BACKOFF_MILLIS = 30_000;

    public interface Listener {
        /** Connected and authenticated; a snapshot follows. */
        default void onConnected(JsonNode welcome) {
        }

        /** A JSON line or a NetStream frame (see {@link ViewerConnection#next}). */
        void onItem(Object item);

        /** The connection ended; {@code retrying} false means the client stopped for good. */
        default void onDisconnected(String reason, boolean retrying) {
        }
    }

    private final String host;
    private final int port;
    private final ViewerTrust trust;
    private final String user;
    private final String secret;
    private final boolean isToken;
    private final Listener listener;
    private volatile JsonNode config;
    private volatile ViewerConnection current;
    private volatile boolean closed;
    private final Thread thread;

    public ViewerClient(String host, int port, ViewerTrust trust, String user, String secret, boolean isToken,
            JsonNode config, Listener listener) {
        this.host = host;
        this.port = port;
        this.trust = trust;
        this.user = user;
        this.secret = secret;
        this.isToken = isToken;
        this.config = config;
        this.listener = listener;
        this.thread = new Thread(this::run, "viewer-client");
        this.thread.setDaemon(true);
    }

    public ViewerClient start() {
        thread.start();
        return this;
    }

    /** A new configuration: sent now when connected, and after every reconnection. */
    public void configure(JsonNode c) throws IOException {
        config = c;
        ViewerConnection v = current;
        if (v != null) {
            v.sendConfig(c);
        }
    }

    private void run() {
        long backoff = FIRST_BACKOFF_MILLIS;
        while (!closed) {
            try (ViewerConnection v = ViewerConnection.open(host, port, trust, user, secret, isToken, 10_000)) {
                current = v;
                listener.onConnected(v.welcome());
                v.sendConfig(config);
                backoff = FIRST_BACKOFF_MILLIS;
                while (!closed) {
                    listener.onItem(v.next());
                }
            } catch (ViewerRefusedException e) {
                current = null;
                listener.onDisconnected(e.getMessage(), false);
                return;
            } catch (IOException e) {
                current = null;
                if (closed) {
                    return;
                }
                listener.onDisconnected(e.getMessage(), true);
                try {
                    Thread.sleep(backoff);
                } catch (InterruptedException ie) {
                    return;
                }
                backoff = Math.min(MAX_BACKOFF_MILLIS, backoff * 2);
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        ViewerConnection v = current;
        if (v != null) {
            try {
                v.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
        thread.interrupt();
    }
}
