package org.glouglou.viz.client;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.glouglou.viewer.ViewerTrust;
import picocli.CommandLine.Option;

/**
 * Where the server is, how to trust it and how to log in: the options both viewers share (issue 6), a picocli mixin.
 * Secrets never come from the command line itself (other users see it in ps): from a file or an environment variable.
 */
public final class ConnectOptions {
    /** 4431: the server's default viewer port. */
    public static final int DEFAULT_PORT = 4431;
    public static final String PASSWORD_ENV = "GLOUGLOU_VIEWER_PASSWORD";
    public static final String TOKEN_ENV = "GLOUGLOU_VIEWER_TOKEN";

    @Option(names = {"-s", "--server"}, paramLabel = "HOST[:PORT]", description = "the server's viewer address"
            + " (default: ${DEFAULT-VALUE})")
    public String server = "127.0.0.1:" + DEFAULT_PORT;

    @Option(names = {"-u", "--user"}, paramLabel = "NAME", description = "viewer name, with a password from"
            + " --password-file or $" + PASSWORD_ENV)
    public String user;

    @Option(names = "--password-file", paramLabel = "FILE", description = "file whose first line is the password")
    public Path passwordFile;

    @Option(names = "--token-file", paramLabel = "FILE", description = "file holding the NAME:SECRET token that"
            + " 'server --add-viewer' printed (or $" + TOKEN_ENV + ")")
    public Path tokenFile;

    @Option(names = "--pin", paramLabel = "SHA256", description = "accept only the server certificate with this"
            + " SHA-256 fingerprint (the server logs it at start)")
    public String pin;

    @Option(names = "--trust-on-first-use", description = "first connection to this server: accept its certificate"
            + " and remember its fingerprint in --known-servers; later connections require the same one")
    public boolean trustOnFirstUse;

    @Option(names = "--known-servers", paramLabel = "FILE", description = "remembered fingerprints, 'HOST:PORT"
            + " SHA256' per line (default: ${DEFAULT-VALUE})")
    public Path knownServers = Path.of(System.getProperty("user.home"), ".config", "glouglou", "known_servers");

    @Option(names = "--ca", paramLabel = "FILE", description = "trust a server certificate signed by this CA (PEM)"
            + " for the host name in --server")
    public Path ca;

    @Option(names = "--plain", description = "no TLS: only for a server started with --plain-viewers (tests)")
    public boolean plain;

    /** 10 s: a server across the world answers in well under a second; a dead address is given up in time. */
    @Option(names = "--connect-timeout", paramLabel = "SECONDS", description = "give up connecting after this long"
            + " (--snapshot, --screenshot; default: ${DEFAULT-VALUE})")
    public int connectTimeoutSeconds = 10;

    public String host() throws UsageException {
        return split()[0];
    }

    public int port() throws UsageException {
        String p = split()[1];
        try {
            int n = Integer.parseInt(p);
            if (n < 1 || n > 65535) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new UsageException("--server " + server + ": '" + p + "' is not a port number (1-65535)");
        }
    }

    private String[] split() throws UsageException {
        String s = server.strip();
        if (s.isEmpty()) {
            throw new UsageException("--server is empty: give HOST or HOST:PORT");
        }
        if (s.startsWith("[")) { // [2001:db8::1]:4431
            int end = s.indexOf(']');
            if (end < 0) {
                throw new UsageException("--server " + server + ": missing ']' after the IPv6 address");
            }
            String rest = s.substring(end + 1);
            return new String[]{s.substring(1, end), rest.startsWith(":")
                    ? rest.substring(1)
                    : String.valueOf(
                            DEFAULT_PORT)};
        }
        int colon = s.lastIndexOf(':');
        if (colon < 0 || s.indexOf(':') != colon) { // no port, or a bare IPv6 address
            return new String[]{s, String.valueOf(DEFAULT_PORT)};
        }
        return new String[]{s.substring(0, colon), s.substring(colon + 1)};
    }

    /** How to trust the server; a server neither pinned nor known needs an explicit choice. */
    public ViewerTrust trust() throws UsageException {
        int ways = (pin != null ? 1 : 0) + (ca != null ? 1 : 0) + (plain ? 1 : 0) + (trustOnFirstUse ? 1 : 0);
        if (ways > 1) {
            throw new UsageException("give one of --pin, --ca, --trust-on-first-use or --plain");
        }
        if (plain) {
            return ViewerTrust.plain();
        }
        if (pin != null) {
            String p = pin.replace(":", "");
            if (!p.matches("[0-9A-Fa-f]{64}")) {
                throw new UsageException("--pin " + pin + ": expected a SHA-256 fingerprint, 64 hex digits (':'"
                        + " between pairs allowed), as the server logs it");
            }
            return ViewerTrust.pin(pin);
        }
        if (ca != null) {
            if (!Files.isReadable(ca)) {
                throw new UsageException("--ca " + ca + ": cannot read the file");
            }
            return ViewerTrust.ca(ca);
        }
        String hostPort = host() + ":" + port();
        if (!trustOnFirstUse && !known(hostPort)) {
            throw new UsageException("server " + hostPort + " is not in " + knownServers + ": give --pin SHA256 (the"
                    + " fingerprint the server logs at start) or --trust-on-first-use");
        }
        try {
            Path dir = knownServers.toAbsolutePath().getParent();
            if (dir != null) {
                Files.createDirectories(dir);
            }
        } catch (IOException e) {
            throw new UsageException("--known-servers " + knownServers + ": cannot create its folder: " + e
                    .getMessage());
        }
        return ViewerTrust.trustOnFirstUse(knownServers);
    }

    private boolean known(String hostPort) {
        try {
            return Files.exists(knownServers) && Files.readAllLines(knownServers, StandardCharsets.UTF_8).stream()
                    .map(String::strip).anyMatch(l -> l.startsWith(hostPort + " "));
        } catch (IOException e) {
            return false;
        }
    }

    /** Who logs in: a token, or a user with a password. */
    public Credentials credentials() throws UsageException {
        String token = null;
        if (tokenFile != null) {
            token = firstLine(tokenFile, "--token-file");
        } else if (user == null && System.getenv(TOKEN_ENV) != null) {
            token = System.getenv(TOKEN_ENV).strip();
        }
        if (token != null) {
            int colon = token.indexOf(':');
            if (colon <= 0) {
                throw new UsageException("the token must be NAME:SECRET, as 'server --add-viewer' printed it");
            }
            return new Credentials(token.substring(0, colon), token, true);
        }
        if (user == null) {
            throw new UsageException("who are you? give --user NAME with --password-file (or $" + PASSWORD_ENV
                    + "), or --token-file (or $" + TOKEN_ENV + ")");
        }
        String pw = passwordFile != null ? firstLine(passwordFile, "--password-file") : System.getenv(PASSWORD_ENV);
        if (pw == null || pw.isEmpty()) {
            throw new UsageException("--user " + user + " needs a password: --password-file FILE or $"
                    + PASSWORD_ENV);
        }
        return new Credentials(user, pw, false);
    }

    private static String firstLine(Path f, String option) throws UsageException {
        try {
            String s = Files.readString(f, StandardCharsets.UTF_8);
            int nl = s.indexOf('\n');
            return (nl < 0 ? s : s.substring(0, nl)).strip();
        } catch (IOException e) {
            throw new UsageException(option + " " + f + ": cannot read it (" + e.getMessage() + ")");
        }
    }

    /** A login: {@code secret} is the whole NAME:SECRET token when {@code token}, else the password. */
    public record Credentials(String user, String secret, boolean token) {
    }
}
