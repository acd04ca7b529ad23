package org.glouglou.spi;

/**
 * A configuration or environment problem that stops a process before it runs: the message is one line that names
 * the problem and the fix, printed as-is to the user.
 */
public class ConfigException extends Exception {
    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
