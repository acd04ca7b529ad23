package org.glouglou.server.viz;

/**
 * A viewer's message is malformed or not allowed (issue 5). The message says what is wrong; the connection that sent
 * it is closed with it as the reason, other viewers are untouched.
 */
public final class ViewerProtocolException extends Exception {
    public ViewerProtocolException(String message) {
        super(message);
    }
}
