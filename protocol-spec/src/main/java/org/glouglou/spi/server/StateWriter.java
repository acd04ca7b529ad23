package org.glouglou.spi.server;

import java.util.Map;
import java.util.function.Consumer;

/**
 * The Redis writes a module's server side may ask for (spec 5.8, docs/architecture.txt 6). Every operation is a MERGE
 * that Redis applies atomically, one script call per key per write, so that several servers (and this server before a
 * restart) writing the same key add up instead of overwriting each other, and so that applying an operation twice, or
 * after a later one, changes nothing.
 *
 * <p>
 * <b>The core may apply an event twice.</b> A probe sends again every payload that was not acknowledged durable
 * (a server that died after writing and before acknowledging, a lost acknowledgement, a failover), relays resend
 * what they forwarded, and this server re-sends what it holds after a Redis reconnection. So every write a module
 * makes for an event MUST be idempotent: a counter travels as a cumulative value from its source and is written with
 * {@link #contribute}, never as a delta; a first time is a {@link #hmin}, a last time a {@link #hmax}; a plain
 * {@link #hset} only for values every writer sets alike (an address, a protocol name). There is no increment.
 *
 * <p>
 * The core coalesces all operations on one key within a tick (latest SET, largest MAX, smallest MIN, per contributor
 * the element-wise largest cumulative values) into one write. Keys are independent: no operation spans two keys, so
 * every key may live in another Redis Cluster slot. Keys must not contain braces (the core's companion keys of a key
 * use the key itself as their Cluster hash tag). Not thread-safe: called only on the ingest thread, inside
 * {@link ServerSide} callbacks.
 *
 * <p>
 * A key the core cannot take (its copy is full, or the key has braces) is refused silently and counted by the core;
 * reads then see an absent key.
 */
public interface StateWriter {
    /** Sets a field (last writer wins): only for values every writer sets alike. */
    void hset(String key, String field, String value);

    /** Sets a numeric field (last writer wins): only for values every writer sets alike. */
    void hset(String key, String field, long value);

    /** Sets a numeric field unless Redis already has it (first writer wins). */
    void hsetIfAbsent(String key, String field, long value);

    /** Sets a field unless Redis already has it (first writer wins): e.g. a state that a later event moves on. */
    void hsetIfAbsent(String key, String field, String value);

    /** Sets a numeric field to the larger of its value and {@code value} (last seen, despite reordering). */
    void hmax(String key, String field, long value);

    /** Sets a numeric field to the smaller of its value and {@code value} (first seen, despite reordering). */
    void hmin(String key, String field, long value);

    /**
     * Adds what {@code contributor} has not added yet to the numeric {@code fields}: {@code values} are the
     * contributor's CUMULATIVE values for those fields (e.g. one flow's packets and bytes since it started). Redis
     * keeps, per key and contributor, the largest values applied so far (its mark) and adds only their growth, so a
     * repeated or overtaken contribution adds nothing and several servers never count one contributor twice. A
     * contributor always gives the same fields in the same order (the mark is positional); a value that must not
     * count (a field the contributor may not add to) is given as 0. {@code closed}: the contributor is finished; its
     * mark is pruned once it has been closed for the mark horizon ({@link ServerSettings#markHorizonSeconds}), far
     * longer than any copy of its events can still arrive. The arrays are read during the call only.
     */
    void contribute(String key, String contributor, String[] fields, long[] values, boolean closed);

    /**
     * {@code rateField} holds the growth per second of {@code totalField} over a window of about two seconds,
     * computed in Redis from the total there (so every server agrees) whenever the key is written; the core writes
     * the key again after it goes quiet so the rate falls to 0.
     */
    void rate(String key, String rateField, String totalField);

    /** True when the core holds this key (it was written and has not expired since). */
    boolean exists(String key);

    /**
     * Fields the core holds for the key (those this server wrote; 0 when absent): lets a module bound the size of a
     * hash.
     */
    int fieldCount(String key);

    /**
     * The key disappears this many seconds after its last write, in Redis (EXPIRE) and in the core's copy. Every key
     * should get one; the core applies its default otherwise.
     */
    void expire(String key, long ttlSeconds);

    /**
     * Reads the key's fields as Redis holds them (all servers' writes), without blocking: {@code then} runs on the
     * ingest thread, usually later (at once when the answer is known at once), with the fields (empty when the key
     * does not exist), or with null when the store cannot answer now (Redis unreachable, too many reads waiting). For state this process never saw (a connection another
     * server took the start of); meanwhile the event usually asks to be sent again ({@link ProbeContext#retryLater}).
     * The default answers null at once: a writer without a store to read.
     */
    default void read(String key, Consumer<Map<String, String>> then) {
        then.accept(null);
    }

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
