package org.glouglou.viewer;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.Locale;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * How a viewer trusts the server (issue 5): a pinned SHA-256 certificate fingerprint (as the server prints it at
 * start), trust on first use with a known-servers file (like ssh), a CA certificate (PEM), or no TLS at all.
 */
public final class ViewerTrust {
    enum Mode {
        PIN, TOFU, CA, PLAIN
    }

    final Mode mode;
    private final String pin;
    private final Path file;

    private ViewerTrust(Mode mode, String pin, Path file) {
        this.mode = mode;
        this.pin = pin;
        this.file = file;
    }

    /** Accept only the certificate with this SHA-256 fingerprint (hex, ':' optional). */
    public static ViewerTrust pin(String sha256) {
        return new ViewerTrust(Mode.PIN, normalize(sha256), null);
    }

    /** First connection: accept and remember the fingerprint in {@code knownServers}; later: require it. */
    public static ViewerTrust trustOnFirstUse(Path knownServers) {
        return new ViewerTrust(Mode.TOFU, null, knownServers);
    }

    /** A server certificate signed by this CA (PEM), for the host name connected to. */
    public static ViewerTrust ca(Path pem) {
        return new ViewerTrust(Mode.CA, null, pem);
    }

    /** No TLS: only for a server started with --plain-viewers. */
    public static ViewerTrust plain() {
        return new ViewerTrust(Mode.PLAIN, null, null);
    }

    static String normalize(String fp) {
        return fp.replace(":", "").strip().toUpperCase(Locale.ROOT);
    }

    public static String fingerprint(Certificate c) throws CertificateException {
        try {
            return HexFormat.ofDelimiter(":").withUpperCase().formatHex(MessageDigest.getInstance("SHA-256").digest(c
                    .getEncoded()));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new CertificateException(e);
        }
    }

    SSLContext context(String hostPort) throws Exception {
        SSLContext ctx = SSLContext.getInstance("TLSv1.3");
        TrustManager tm;
        if (mode == Mode.CA) {
            KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
            ks.load(null, null);
            try (InputStream in = Files.newInputStream(file)) {
                int i = 0;
                for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                    ks.setCertificateEntry("ca" + i++, c);
                }
            }
            TrustManagerFactory f = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            f.init(ks);
            tm = f.getTrustManagers()[0];
        } else {
            tm = new Pinning(hostPort);
        }
        ctx.init(null, new TrustManager[]{tm}, null);
        return ctx;
    }

    private final class Pinning implements X509TrustManager {
        private final String hostPort;

        Pinning(String hostPort) {
            this.hostPort = hostPort;
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            if (chain == null || chain.length == 0) {
                throw new CertificateException("the server sent no certificate");
            }
            String got = fingerprint(chain[0]);
            String want = pin;
            if (mode == Mode.TOFU) {
                want = known();
                if (want == null) {
                    remember(got);
                    return;
                }
            }
            if (!normalize(got).equals(want)) {
                throw new CertificateException("server certificate fingerprint " + got + " does not match the pinned "
                        + want + (mode == Mode.TOFU ? " in " + file : "")
                        + ": another server, or its key changed (check with the operator)");
            }
        }

        private String known() throws CertificateException {
            try {
                if (!Files.exists(file)) {
                    return null;
                }
                for (String l : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                    String[] f = l.strip().split("\\s+");
                    if (f.length == 2 && f[0].equals(hostPort)) {
                        return normalize(f[1]);
                    }
                }
                return null;
            } catch (IOException e) {
                throw new CertificateException("cannot read known servers " + file + ": " + e.getMessage());
            }
        }

        private void remember(String fp) throws CertificateException {
            try {
                Files.writeString(file, hostPort + " " + fp + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                        StandardOpenOption.APPEND);
            } catch (IOException e) {
                throw new CertificateException("cannot write known servers " + file + ": " + e.getMessage());
            }
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("viewers do not accept connections");
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
