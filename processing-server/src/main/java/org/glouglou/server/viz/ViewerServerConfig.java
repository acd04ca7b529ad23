package org.glouglou.server.viz;

import java.net.InetSocketAddress;
import java.nio.file.Path;

/**
 * The viewer listener's settings (issue 5), already checked.
 *
 * @param listen              TCP address for viewers
 * @param users               the viewers file (name and Argon2 hash per line)
 * @param tlsCert             operator's PEM certificate chain, or null
 * @param tlsKey              operator's PEM private key, or null
 * @param keystore            operator's PKCS12 keystore, or null
 * @param keystorePassword    its password
 * @param stateDir            where the generated key and certificate are kept
 * @param plain               no TLS (only when asked for explicitly)
 * @param maxViewers          connections at most
 * @param maxMessageBytes     a client line longer than this closes the connection
 * @param helloTimeoutSeconds a client that has not authenticated after this long is closed
 */
public record ViewerServerConfig(InetSocketAddress listen, Path users, Path tlsCert, Path tlsKey, Path keystore,
        char[] keystorePassword, Path stateDir, boolean plain, int maxViewers, int maxMessageBytes,
        int helloTimeoutSeconds) {
    /** 4431: next to the probes' 4430. */
    public static final int DEFAULT_PORT = 4431;
    /** 64 viewers: a control room's worth; each costs a copy of its view's indexes. */
    public static final int DEFAULT_MAX_VIEWERS = 64;
    /** 64 KiB per client message: a configuration with 256 filter entries of each kind fits many times. */
    public static final int DEFAULT_MAX_MESSAGE = 64 * 1024;
    /** 10 s to say hello: a person typing a password does it before connecting. */
    public static final int DEFAULT_HELLO_TIMEOUT = 10;

    public static ViewerServerConfig forTest(Path users, Path stateDir, boolean plain) {
        return new ViewerServerConfig(new InetSocketAddress("127.0.0.1", 0), users, null, null, null, new char[0],
                stateDir, plain, DEFAULT_MAX_VIEWERS, DEFAULT_MAX_MESSAGE, DEFAULT_HELLO_TIMEOUT);
    }

    public ViewerServerConfig withMaxViewers(int n) {
        return new ViewerServerConfig(listen, users, tlsCert, tlsKey, keystore, keystorePassword, stateDir, plain, n,
                maxMessageBytes, helloTimeoutSeconds);
    }
}
