package org.glouglou.server.store;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The Lua script that applies one key's merge operations atomically in Redis (docs/architecture.txt 6.2; the
 * operations and their encoding are described at the top of {@code state.lua}): SET, SETNX, MAX, MIN, CONTRIBUTE
 * with per-contributor marks, rates over a shared window, and the two probe-status merges. Called with EVALSHA; the
 * store loads it with SCRIPT LOAD on every node it writes to and again after NOSCRIPT.
 */
public final class StateScript {
    /** The script's text. */
    public static final String TEXT = load();
    /** Its SHA-1, as EVALSHA wants it. */
    public static final String SHA = sha1(TEXT);

    /** Companion keys of a key share its Cluster slot: the hash tag is the key's own name. */
    public static final String MARK_PREFIX = "gg:mark:{";
    public static final String CLOSED_PREFIX = "gg:closed:{";

    /** 2 s rate window: a probe summarises every tick, and a shorter window would alternate between 0 and 2x. */
    public static final long RATE_WINDOW_MILLIS = 2000;

    private StateScript() {
    }

    /** The hash of contributors' marks of {@code key}. */
    public static String markKey(String key) {
        return MARK_PREFIX + key + "}";
    }

    /** The sorted set of {@code key}'s contributors that closed, scored by when (Redis time, ms). */
    public static String closedKey(String key) {
        return CLOSED_PREFIX + key + "}";
    }

    private static String load() {
        try (InputStream in = StateScript.class.getResourceAsStream("state.lua")) {
            if (in == null) {
                throw new IllegalStateException("state.lua is missing from the class path");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String sha1(String s) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-1").digest(s.getBytes(StandardCharsets.UTF_8));
            StringBuilder b = new StringBuilder();
            for (byte x : d) {
                b.append(Character.forDigit(x >> 4 & 15, 16)).append(Character.forDigit(x & 15, 16));
            }
            return b.toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
