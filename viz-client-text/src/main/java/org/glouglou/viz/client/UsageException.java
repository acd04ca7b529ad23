package org.glouglou.viz.client;

/** A wrong option or value: its message is the one line the user reads before exit code 2. */
public final class UsageException extends Exception {
    public UsageException(String message) {
        super(message);
    }
}
