package org.glouglou.platform;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import org.glouglou.spi.ConfigException;

/** The {@code HOST:PORT} option values of every daemon: one parser, one set of one-line errors. */
public final class HostPort {
    private HostPort() {
    }

    /**
     * Parses and resolves {@code HOST:PORT}, {@code [V6ADDR]:PORT} or {@code HOST} alone (then {@code defaultPort}).
     *
     * @param option the option's name, for the message ("--server")
     * @param listen true for an address to bind, where port 0 (any free port) is allowed; a destination needs 1..65535
     */
    public static InetSocketAddress resolve(String option, String spec, int defaultPort, boolean listen)
            throws ConfigException {
        String host = spec;
        String port = null;
        if (spec.startsWith("[")) {
            int close = spec.indexOf(']');
            if (close < 0) {
                throw new ConfigException(option + " " + spec + ": missing ']' (give [V6ADDR]:PORT)");
            }
            host = spec.substring(1, close);
            if (close + 1 < spec.length()) {
                if (spec.charAt(close + 1) != ':') {
                    throw new ConfigException(option + " " + spec + ": expected [V6ADDR]:PORT");
                }
                port = spec.substring(close + 2);
            }
        } else if (spec.indexOf(':') > 0 && spec.indexOf(':') == spec.lastIndexOf(':')) {
            host = spec.substring(0, spec.indexOf(':'));
            port = spec.substring(spec.indexOf(':') + 1);
        }
        int p = defaultPort;
        if (port != null) {
            try {
                p = Integer.parseInt(port);
            } catch (NumberFormatException e) {
                p = -1;
            }
            int min = listen ? 0 : 1;
            if (p < min || p > 65535) {
                throw new ConfigException(option + " " + spec + ": the port must be a number from " + min
                        + " to 65535");
            }
        }
        if (host.isEmpty()) {
            throw new ConfigException(option + " " + spec + ": expected HOST:PORT");
        }
        try {
            return new InetSocketAddress(InetAddress.getByName(host), p);
        } catch (UnknownHostException e) {
            throw new ConfigException(option + " " + spec + ": cannot resolve '" + host
                    + "' (check the name or give an address)");
        }
    }
}
