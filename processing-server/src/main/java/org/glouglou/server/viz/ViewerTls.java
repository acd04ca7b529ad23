package org.glouglou.server.viz;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.io.Writer;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.Enumeration;
import java.util.HexFormat;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.glouglou.spi.ConfigException;

/**
 * The viewer listener's TLS 1.3 identity (issue 5): the operator's certificate (PEM files or a PKCS12 keystore), or
 * else a key and self-signed certificate the server makes at first start (EC P-256 with Bouncy Castle) and keeps in
 * its state directory. Viewers pin its SHA-256 fingerprint, which the server logs at start (trust on first use).
 * ECDHE key exchange (x25519 first) is TLS 1.3's own.
 */
public final class ViewerTls {
    public static final String KEY_FILE = "viewer-key.pem";
    public static final String CERT_FILE = "viewer-cert.pem";

    private final PrivateKey key;
    private final X509Certificate[] chain;
    private final boolean generated;

    private ViewerTls(PrivateKey key, X509Certificate[] chain, boolean generated) {
        this.key = key;
        this.chain = chain;
        this.generated = generated;
    }

    public SslContext serverContext() throws ConfigException {
        try {
            return SslContextBuilder.forServer(key, chain).sslProvider(SslProvider.JDK).protocols("TLSv1.3").build();
        } catch (IOException | RuntimeException e) {
            throw new ConfigException("cannot set up TLS for viewers: " + e.getMessage());
        }
    }

    public X509Certificate certificate() {
        return chain[0];
    }

    public boolean generated() {
        return generated;
    }

    /** SHA-256 of the certificate (DER), upper-case hex pairs joined by ':' as openssl prints it. */
    public String fingerprint() {
        return fingerprint(chain[0]);
    }

    public static String fingerprint(X509Certificate c) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(c.getEncoded());
            return HexFormat.ofDelimiter(":").withUpperCase().formatHex(d);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** From PEM files: a certificate chain and its private key (PKCS#8 or OpenSSL EC/RSA). */
    public static ViewerTls fromPem(Path cert, Path keyFile) throws ConfigException {
        try {
            List<X509Certificate> certs = new ArrayList<>();
            JcaX509CertificateConverter conv = new JcaX509CertificateConverter();
            try (Reader r = Files.newBufferedReader(cert); PEMParser p = new PEMParser(r)) {
                Object o;
                while ((o = p.readObject()) != null) {
                    if (o instanceof X509CertificateHolder h) {
                        certs.add(conv.getCertificate(h));
                    }
                }
            }
            if (certs.isEmpty()) {
                throw new ConfigException("--tls-cert " + cert + ": no certificate in it (expected PEM)");
            }
            PrivateKey k;
            try (Reader r = Files.newBufferedReader(keyFile); PEMParser p = new PEMParser(r)) {
                Object o = p.readObject();
                JcaPEMKeyConverter kc = new JcaPEMKeyConverter();
                if (o instanceof PEMKeyPair kp) {
                    k = kc.getKeyPair(kp).getPrivate();
                } else if (o instanceof PrivateKeyInfo pki) {
                    k = kc.getPrivateKey(pki);
                } else {
                    throw new ConfigException("--tls-key " + keyFile + ": no unencrypted private key in it (expected"
                            + " PEM)");
                }
            }
            return new ViewerTls(k, certs.toArray(X509Certificate[]::new), false);
        } catch (IOException | CertificateException e) {
            throw new ConfigException("cannot read TLS certificate/key " + cert + ", " + keyFile + ": " + e
                    .getMessage());
        }
    }

    /** From a PKCS12 keystore holding one key entry. */
    public static ViewerTls fromPkcs12(Path file, char[] password) throws ConfigException {
        try (InputStream in = Files.newInputStream(file)) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(in, password);
            Enumeration<String> aliases = ks.aliases();
            while (aliases.hasMoreElements()) {
                String a = aliases.nextElement();
                if (ks.isKeyEntry(a)) {
                    PrivateKey k = (PrivateKey) ks.getKey(a, password);
                    java.security.cert.Certificate[] c = ks.getCertificateChain(a);
                    X509Certificate[] x = new X509Certificate[c.length];
                    for (int i = 0; i < c.length; i++) {
                        x[i] = (X509Certificate) c[i];
                    }
                    return new ViewerTls(k, x, false);
                }
            }
            throw new ConfigException("--tls-keystore " + file + ": no private key entry in it");
        } catch (IOException | java.security.GeneralSecurityException e) {
            throw new ConfigException("cannot read --tls-keystore " + file + ": " + e.getMessage()
                    + " (password from GLOUGLOU_KEYSTORE_PASSWORD)");
        }
    }

    /** The key and certificate of {@code stateDir}, made there at first start. */
    public static ViewerTls selfSigned(Path stateDir) throws ConfigException {
        Path keyFile = stateDir.resolve(KEY_FILE);
        Path certFile = stateDir.resolve(CERT_FILE);
        if (Files.exists(keyFile) && Files.exists(certFile)) {
            return fromPem(certFile, keyFile);
        }
        try {
            Files.createDirectories(stateDir);
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
            KeyPair kp = g.generateKeyPair();
            X500Name name = new X500Name("CN=glouglou-server");
            Instant now = Instant.now();
            // ten years: the fingerprint is what viewers trust, and it must not change under them
            JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, new BigInteger(64,
                    new SecureRandom()), Date.from(now.minus(Duration.ofDays(1))),
                    Date.from(now.plus(Duration.ofDays(
                            3650))),
                    name, kp.getPublic());
            X509Certificate cert = new JcaX509CertificateConverter().getCertificate(b.build(
                    new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate())));
            Path tmp = Files.createTempFile(stateDir, "key", ".tmp", PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rw-------")));
            try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.US_ASCII);
                    JcaPEMWriter pw = new JcaPEMWriter(w)) {
                pw.writeObject(new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(kp.getPrivate(), null));
            }
            Files.move(tmp, keyFile, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            try (Writer w = Files.newBufferedWriter(certFile, StandardCharsets.US_ASCII);
                    JcaPEMWriter pw = new JcaPEMWriter(w)) {
                pw.writeObject(cert);
            }
            return new ViewerTls(kp.getPrivate(), new X509Certificate[]{cert}, true);
        } catch (IOException e) {
            throw new ConfigException("cannot write the viewer key and certificate into --state-dir " + stateDir
                    + ": " + e.getMessage());
        } catch (Exception e) {
            throw new ConfigException("cannot make the viewer certificate: " + e);
        }
    }
}
