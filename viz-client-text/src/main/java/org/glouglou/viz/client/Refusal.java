package org.glouglou.viz.client;

import java.security.cert.CertificateException;
import org.glouglou.viewer.ViewerRefusedException;

/**
 * Why a connection ended for good, sorted into the exit code a script checks and the one line a person reads
 * (issue 6). The server's reasons are its own words; the certificate case names both fingerprints.
 */
public record Refusal(int exitCode, String message) {
    /** The server's words for a wrong secret (ViewerHandler): authentication is the only refusal that says so. */
    static final String AUTH_PREFIX = "authentication failed";
    /** ViewerConnection's words for a handshake the trust manager (pin, known server, CA) refused. */
    static final String TLS_PREFIX = "TLS handshake failed";

    public static Refusal of(ViewerRefusedException e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof CertificateException) {
                return new Refusal(ExitCodes.CERTIFICATE_MISMATCH, "certificate refused, not connecting: " + e
                        .getMessage());
            }
        }
        String m = e.getMessage() == null ? "refused" : e.getMessage();
        if (m.startsWith(TLS_PREFIX)) { // the reason alone, as ViewerClient reports it: the cause is gone
            return new Refusal(ExitCodes.CERTIFICATE_MISMATCH, "certificate refused, not connecting: " + m);
        }
        if (m.startsWith(AUTH_PREFIX)) {
            return new Refusal(ExitCodes.AUTH_REFUSED, "server refused the login: " + m);
        }
        if (m.startsWith("config") || m.contains("config.")) {
            return new Refusal(ExitCodes.USAGE, "server refused the configuration: " + m);
        }
        return new Refusal(ExitCodes.CANNOT_CONNECT, "server refused the connection: " + m);
    }
}
