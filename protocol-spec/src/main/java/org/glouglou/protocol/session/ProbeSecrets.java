package org.glouglou.protocol.session;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.glouglou.protocol.ProtocolConstants;
import org.glouglou.spi.ConfigException;

/**
 * The per-probe secrets a receiver (server or relay) accepts (spec 5.2). File format, one probe a line:
 * {@code <probe-id> <base64 secret> [name]}; blank lines and {@code #} comments are ignored. A probe's own secret file
 * holds one such line. Secrets are random keys of at least 16 bytes ({@code glouglou probe --new-secret} makes one),
 * not passwords.
 */
public final class ProbeSecrets {
    /** One probe's entry. */
    public record Entry(long probeId, byte[] secret, String name) {
    }

    private final Map<Long, Entry> byId;

    public ProbeSecrets(Map<Long, Entry> byId) {
        this.byId = Map.copyOf(byId);
    }

    public Entry get(long probeId) {
        return byId.get(probeId);
    }

    /** Every entry, by probe id. */
    public List<Entry> all() {
        return byId.values().stream().sorted((a, b) -> Long.compare(a.probeId(), b.probeId())).toList();
    }

    public int size() {
        return byId.size();
    }

    public static ProbeSecrets load(Path file) throws ConfigException {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ConfigException("cannot read secrets file " + file + ": " + e.getMessage()
                    + " (create it with 'glouglou probe --new-secret ID')");
        }
        return parse(lines, file.toString());
    }

    /** A daemon's own identity: a file of exactly one line (what --new-secret printed). */
    public static Entry loadOwn(Path file) throws ConfigException {
        ProbeSecrets s = load(file);
        if (s.size() != 1) {
            throw new ConfigException(file + " must hold exactly one line '<id> <base64 secret>', it has " + s.size());
        }
        return s.all().get(0);
    }

    public static ProbeSecrets parse(List<String> lines, String where) throws ConfigException {
        Map<Long, Entry> m = new HashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            Entry e = parseLine(line, where + ":" + (i + 1));
            if (m.putIfAbsent(e.probeId(), e) != null) {
                throw new ConfigException(where + ":" + (i + 1) + ": probe id " + e.probeId()
                        + " is listed twice; each probe needs its own id");
            }
        }
        return new ProbeSecrets(m);
    }

    public static Entry parseLine(String line, String where) throws ConfigException {
        String[] f = line.strip().split("\\s+");
        if (f.length < 2) {
            throw new ConfigException(where + ": expected '<probe-id> <base64 secret> [name]'");
        }
        long id;
        try {
            id = Long.parseLong(f[0]);
        } catch (NumberFormatException e) {
            id = -1;
        }
        if (id < 1 || id > 0xFFFFFFFFL) {
            throw new ConfigException(where + ": probe id '" + f[0] + "' must be a number from 1 to 4294967295");
        }
        byte[] secret;
        try {
            secret = Base64.getDecoder().decode(f[1]);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(where + ": the secret is not valid base64");
        }
        if (secret.length < ProtocolConstants.MIN_SECRET_LENGTH) {
            throw new ConfigException(where + ": the secret has " + secret.length + " bytes, at least "
                    + ProtocolConstants.MIN_SECRET_LENGTH + " are needed (make one with 'glouglou probe --new-secret "
                    + id + "')");
        }
        return new Entry(id, secret, f.length > 2 ? f[2] : "probe-" + id);
    }

    /** A new line for a secrets file, with 32 random bytes. */
    public static String newLine(long probeId, String name) {
        byte[] s = new byte[32];
        new java.security.SecureRandom().nextBytes(s);
        return probeId + " " + Base64.getEncoder().encodeToString(s) + (name == null ? "" : " " + name);
    }
}
