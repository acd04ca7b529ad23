package org.glouglou.spi.server;

/**
 * The Redis writes a module's server side may ask for (issue 4). The core keeps its own copy of every live key and
 * coalesces all operations on one key within a tick into one write of that key's absolute state (HSET of every field,
 * then EXPIRE), so a counter is never written as a delta: re-writing the copy after a Redis restart converges. Keys
 * are independent: no operation spans two keys, so every key may live in another Redis Cluster slot. Not
 * thread-safe: called only on the ingest thread, inside {@link ServerSide} callbacks.
 *
 * <p>
 * A key the core cannot take (its copy is full) is refused silently and counted by the core; reads then see an
 * absent key.
 */
public interface StateWriter {
    /** Sets a field. */
    void hset(String key, String field, String value);

    /** Sets a numeric field. */
    void hset(String key, String field, long value);

    /** Adds {@code delta} to a numeric field (absent counts as 0) and returns the new value. */
    long hincrBy(String key, String field, long delta);

    /** Sets a numeric field unless the key already has it (first seen). */
    void hsetIfAbsent(String key, String field, long value);

    /** Sets a numeric field to the larger of its value and {@code value} (last seen, despite reordering). */
    void hmax(String key, String field, long value);

    /** True when the core holds this key (it was written and has not expired since). */
    boolean exists(String key);

    /** Fields the key holds, 0 when absent: lets a module bound the size of a hash. */
    int fieldCount(String key);

    /**
     * The key disappears this many seconds after its last write, in Redis (EXPIRE) and in the core's copy. Every key
     * should get one; the core applies its default otherwise.
     */
    void expire(String key, long ttlSeconds);

    /**
     * A handle on {@code key} that a module may keep across events (in its per-flow state, say) to write the key
     * without naming it again: a writer that holds its keys in a map skips the lookup. Making a handle creates nothing:
     * the key appears with the first write through it, and again after it expired. The default goes through the key
     * text ({@link KeyHandle.ByKey}).
     */
    default KeyHandle handle(String key) {
        return new KeyHandle.ByKey(this, key);
    }
}
