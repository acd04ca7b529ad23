package org.glouglou.server.viz;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.glouglou.spi.ConfigException;
import picocli.CommandLine.Option;

/**
 * The viewer options of {@code glouglou server} (issue 5), a picocli mixin so the server's command line gains them
 * without this package touching it further. The viewer listener runs when a viewers file is given (no file, no one
 * could log in) unless {@code --viewers off}.
 */
public final class ViewerOptions {
    /** Parses ADDRESS:PORT the way the rest of the command line does. */
    public interface AddressParser {
        InetSocketAddress parse(String option, String value) throws ConfigException;
    }

    @Option(names = "--viewers", paramLabel = "ADDR:PORT", description = "TCP address for viewers, 'off' for none"
            + " (default: ${DEFAULT-VALUE})")
    String listen = "0.0.0.0:" + ViewerServerConfig.DEFAULT_PORT;

    @Option(names = "--viewer-users", paramLabel = "FILE", description = "viewers allowed in: 'NAME ARGON2-HASH'"
            + " per line (see --add-viewer)")
    Path users;

    @Option(names = "--tls-cert", paramLabel = "FILE", description = "viewer TLS certificate chain (PEM); default:"
            + " a self-signed one made in --state-dir")
    Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "FILE", description = "private key of --tls-cert (PEM)")
    Path tlsKey;

    @Option(names = "--tls-keystore", paramLabel = "FILE", description = "viewer TLS key and certificate (PKCS12;"
            + " password in GLOUGLOU_KEYSTORE_PASSWORD)")
    Path keystore;

    @Option(names = "--state-dir", paramLabel = "DIR", description = "where the generated viewer key and"
            + " certificate are kept (default: ${DEFAULT-VALUE})")
    Path stateDir = Path.of(System.getProperty("user.home"), ".glouglou");

    @Option(names = "--plain-viewers", description = "viewers without TLS (passwords in clear: tests and loopback"
            + " only)")
    boolean plain;

    @Option(names = "--max-viewers", paramLabel = "N", description = "viewer connections at most (default:"
            + " ${DEFAULT-VALUE})")
    int maxViewers = ViewerServerConfig.DEFAULT_MAX_VIEWERS;

    @Option(names = "--add-viewer", paramLabel = "NAME", description = "add a viewer with a new token to"
            + " --viewer-users, print the token, exit")
    String addViewer;

    @Option(names = "--hash-password", paramLabel = "NAME", description = "read a password on stdin, print the"
            + " viewers-file line for NAME, exit")
    String hashPassword;

    /** Runs --add-viewer or --hash-password; false when neither was given. */
    public boolean runCommand() throws ConfigException {
        if (addViewer != null) {
            if (users == null) {
                throw new ConfigException("--add-viewer needs --viewer-users FILE (the file to add the viewer to)");
            }
            String token = ViewerUsers.addViewer(users, addViewer);
            System.out.println("viewer " + addViewer + " added to " + users + "; its token (shown once): " + token);
            return true;
        }
        if (hashPassword != null) {
            ViewerUsers.checkName(hashPassword);
            String pw;
            try {
                pw = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
            } catch (IOException e) {
                pw = null;
            }
            if (pw == null || pw.isEmpty()) {
                throw new ConfigException("--hash-password: give the password as one line on stdin");
            }
            System.out.println(hashPassword + " " + ViewerUsers.hash(pw));
            return true;
        }
        return false;
    }

    /** The checked listener settings, or null when viewers are off. */
    public ViewerServerConfig config(AddressParser parse) throws ConfigException {
        if ("off".equals(listen)) {
            return null;
        }
        InetSocketAddress a = parse.parse("--viewers", listen);
        if (maxViewers <= 0) {
            throw new ConfigException("--max-viewers " + maxViewers + ": must be greater than 0");
        }
        if ((tlsCert == null) != (tlsKey == null)) {
            throw new ConfigException("--tls-cert and --tls-key go together (or use --tls-keystore)");
        }
        if (keystore != null && tlsCert != null) {
            throw new ConfigException("--tls-keystore or --tls-cert/--tls-key, not both");
        }
        if (plain && (keystore != null || tlsCert != null)) {
            throw new ConfigException("--plain-viewers with a TLS certificate: drop one of them");
        }
        if (users == null) {
            return null;
        }
        String pw = System.getenv("GLOUGLOU_KEYSTORE_PASSWORD");
        return new ViewerServerConfig(a, users, tlsCert, tlsKey, keystore, pw == null
                ? new char[0]
                : pw
                        .toCharArray(),
                stateDir, plain, maxViewers, ViewerServerConfig.DEFAULT_MAX_MESSAGE,
                ViewerServerConfig.DEFAULT_HELLO_TIMEOUT);
    }
}
