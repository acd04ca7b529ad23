package org.glouglou.spi.server;

/**
 * One key of a {@link StateWriter}, held by a module across events so that a busy element (a flow's connection, its
 * link, its two hosts) is written without the writer looking its key up again on every operation. The operations
 * are those of {@link StateWriter} with the key left out, and mean the same (idempotent merges: see there).
 *
 * <p>
 * A handle stays valid however long it is held: when its key expires or is evicted from the writer's copy, the next
 * operation creates the key again (as {@code out.hset(key, ...)} would) and {@link #exists()} says false until then.
 * Not thread-safe: use a handle only on the ingest thread, with the writer that made it (a module that may be given
 * another writer compares {@link #writer()}).
 */
public interface KeyHandle {
    /** The key, as given to {@link StateWriter#handle}. */
    String key();

    /** The writer this handle writes to. */
    StateWriter writer();

    void hset(String field, String value);

    void hset(String field, long value);

    void hsetIfAbsent(String field, long value);

    void hsetIfAbsent(String field, String value);

    void hmax(String field, long value);

    void hmin(String field, long value);

    void contribute(String contributor, String[] fields, long[] values, boolean closed);

    void rate(String rateField, String totalField);

    /** True when the writer holds this key now (it may have expired since the handle last wrote). */
    boolean exists();

    int fieldCount();

    void expire(long ttlSeconds);

    /**
     * The plain implementation: every operation goes through the writer by key text. What a writer without a faster
     * path returns from {@link StateWriter#handle}.
     */
    record ByKey(StateWriter writer, String key) implements KeyHandle {
        @Override
        public void hset(String field, String value) {
            writer.hset(key, field, value);
        }

        @Override
        public void hset(String field, long value) {
            writer.hset(key, field, value);
        }

        @Override
        public void hsetIfAbsent(String field, long value) {
            writer.hsetIfAbsent(key, field, value);
        }

        @Override
        public void hsetIfAbsent(String field, String value) {
            writer.hsetIfAbsent(key, field, value);
        }

        @Override
        public void hmax(String field, long value) {
            writer.hmax(key, field, value);
        }

        @Override
        public void hmin(String field, long value) {
            writer.hmin(key, field, value);
        }

        @Override
        public void contribute(String contributor, String[] fields, long[] values, boolean closed) {
            writer.contribute(key, contributor, fields, values, closed);
        }

        @Override
        public void rate(String rateField, String totalField) {
            writer.rate(key, rateField, totalField);
        }

        @Override
        public boolean exists() {
            return writer.exists(key);
        }

        @Override
        public int fieldCount() {
            return writer.fieldCount(key);
        }

        @Override
        public void expire(long ttlSeconds) {
            writer.expire(key, ttlSeconds);
        }
    }
}
