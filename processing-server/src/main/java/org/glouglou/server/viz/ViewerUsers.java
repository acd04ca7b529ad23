package org.glouglou.server.viz;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.params.Argon2Parameters;
import org.glouglou.spi.ConfigException;

/**
 * The viewers allowed in (issue 5): a file of {@code NAME $argon2id$v=19$m=M,t=T,p=P$SALT$HASH} lines (PHC string
 * format, base64 without padding), so the server keeps only slow salted hashes. A viewer presents its name and its
 * secret: a password the operator chose, or a token made by {@code --add-viewer NAME} (given to the viewer as
 * {@code NAME:SECRET}). Unknown names cost the same Argon2 run as known ones (no timing oracle).
 */
public final class ViewerUsers {
    /**
     * 19 MiB, 2 passes, 1 lane: OWASP's minimum for Argon2id, about 50-100 ms here; one authentication at a time, so
     * a flood of logins costs the server one core at most.
     */
    static final int MEMORY_KIB = 19 * 1024;
    static final int ITERATIONS = 2;
    static final int LANES = 1;
    private static final Pattern PHC = Pattern.compile(
            "\\$argon2id\\$v=19\\$m=(\\d{1,7}),t=(\\d{1,3}),p=(\\d{1,2})\\$([A-Za-z0-9+/]{11,64})\\$([A-Za-z0-9+/]{22,128})");
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.@-]{1,64}");
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String DUMMY = hash("dummy-password-for-unknown-users");

    private final Map<String, String> hashes;

    private ViewerUsers(Map<String, String> hashes) {
        this.hashes = hashes;
    }

    public static ViewerUsers of(Map<String, String> hashes) {
        return new ViewerUsers(Map.copyOf(hashes));
    }

    public static ViewerUsers load(Path file) throws ConfigException {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ConfigException("cannot read viewers file " + file + ": " + e.getMessage()
                    + " (make one with 'glouglou server --add-viewer NAME --viewer-users " + file + "')");
        }
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String l = lines.get(i).strip();
            if (l.isEmpty() || l.startsWith("#")) {
                continue;
            }
            String[] f = l.split("\\s+");
            if (f.length != 2 || !NAME.matcher(f[0]).matches() || !PHC.matcher(f[1]).matches()) {
                throw new ConfigException("viewers file " + file + " line " + (i + 1)
                        + ": expected 'NAME $argon2id$v=19$m=..,t=..,p=..$SALT$HASH' (make lines with --add-viewer"
                        + " or --hash-password)");
            }
            if (m.put(f[0], f[1]) != null) {
                throw new ConfigException("viewers file " + file + " line " + (i + 1) + ": viewer " + f[0]
                        + " is listed twice");
            }
        }
        return new ViewerUsers(m);
    }

    public int size() {
        return hashes.size();
    }

    /** True when {@code secret} is this viewer's password or token. Slow on purpose (Argon2). */
    public boolean verify(String name, String secret) {
        String h = hashes.get(name);
        boolean ok = matches(h == null ? DUMMY : h, secret);
        return h != null && ok;
    }

    static boolean matches(String phc, String secret) {
        Matcher m = PHC.matcher(phc);
        if (!m.matches()) {
            return false;
        }
        Base64.Decoder d = Base64.getDecoder();
        byte[] salt = d.decode(m.group(4));
        byte[] want = d.decode(m.group(5));
        byte[] got = argon2(secret, salt, Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), Integer
                .parseInt(m.group(3)), want.length);
        return MessageDigest.isEqual(want, got);
    }

    /** A PHC string for {@code secret} with a fresh 16-byte salt. */
    public static String hash(String secret) {
        byte[] salt = new byte[16];
        RANDOM.nextBytes(salt);
        byte[] h = argon2(secret, salt, MEMORY_KIB, ITERATIONS, LANES, 32);
        Base64.Encoder e = Base64.getEncoder().withoutPadding();
        return "$argon2id$v=19$m=" + MEMORY_KIB + ",t=" + ITERATIONS + ",p=" + LANES + "$" + e.encodeToString(salt)
                + "$" + e.encodeToString(h);
    }

    private static byte[] argon2(String secret, byte[] salt, int memKib, int iterations, int lanes, int len) {
        Argon2BytesGenerator g = new Argon2BytesGenerator();
        g.init(new Argon2Parameters.Builder(Argon2Parameters.ARGON2_id).withVersion(Argon2Parameters.ARGON2_VERSION_13)
                .withSalt(salt).withMemoryAsKB(memKib).withIterations(iterations).withParallelism(lanes).build());
        byte[] out = new byte[len];
        g.generateBytes(secret.getBytes(StandardCharsets.UTF_8), out);
        return out;
    }

    /** A new random token (32 bytes, URL-safe base64). */
    public static String newToken() {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    public static void checkName(String name) throws ConfigException {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new ConfigException("viewer name '" + name + "': use 1 to 64 of A-Z a-z 0-9 _ . @ -");
        }
    }

    /**
     * Appends a new viewer with a fresh token to {@code file} (created 0600 when absent) and returns the token the
     * viewer must present, {@code NAME:SECRET}.
     */
    public static String addViewer(Path file, String name) throws ConfigException {
        checkName(name);
        if (Files.exists(file) && load(file).hashes.containsKey(name)) {
            throw new ConfigException("viewer " + name + " is already in " + file + " (remove its line first)");
        }
        String token = newToken();
        try {
            if (!Files.exists(file)) {
                Files.createFile(file, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                        java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
            }
            Files.writeString(file, name + " " + hash(token) + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new ConfigException("cannot write viewers file " + file + ": " + e.getMessage());
        }
        return name + ":" + token;
    }
}
