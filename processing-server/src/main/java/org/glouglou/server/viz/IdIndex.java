package org.glouglou.server.viz;

import java.util.Arrays;
import java.util.HashMap;

/**
 * Dense int indices for element ids (issue 5, fan-out): the model hashes an id once when it changes, and every
 * projection then keeps its per-element state in arrays indexed by it instead of hashing the id again. An id is
 * counted ({@link #acquire}, {@link #releaseRef}); an index whose count fell to zero is given back only at
 * the second {@link #recycle} after that: the model recycles at each drain of its changes, so every projection has
 * seen the change that freed an index before it is handed out again, and never mistakes a new element for the old
 * one at the same index. Owned by the viewer thread: no locks.
 */
final class IdIndex {
    private final HashMap<String, Integer> index = new HashMap<>();
    private String[] ids = new String[1024];
    private int[] refs = new int[1024];
    private int[] free = new int[64];
    private int freeCount;
    private int size;
    /** Indices whose count fell to zero since the last {@link #recycle} (an index may appear twice). */
    private int[] unused = new int[64];
    private int unusedCount;
    /** Those whose count fell to zero before the last {@link #recycle}: given back at the next one. */
    private int[] older = new int[64];
    private int olderCount;

    /** The index of {@code id}, made when it has none, its count raised by one. */
    int acquire(String id) {
        Integer have = index.get(id);
        int i;
        if (have != null) {
            i = have;
        } else {
            i = freeCount > 0 ? free[--freeCount] : size++;
            if (i >= ids.length) {
                ids = Arrays.copyOf(ids, ids.length * 2);
                refs = Arrays.copyOf(refs, refs.length * 2);
            }
            ids[i] = id;
            index.put(id, i);
        }
        refs[i]++;
        return i;
    }

    /** Lowers the count of index {@code i}; at zero it becomes reusable at the second {@link #recycle} from now. */
    void releaseRef(int i) {
        if (--refs[i] == 0) {
            if (unusedCount == unused.length) {
                unused = Arrays.copyOf(unused, unused.length * 2);
            }
            unused[unusedCount++] = i;
        }
    }

    /**
     * Gives back the indices whose count fell to zero before the previous call and is still zero: they may be handed
     * out again from now on.
     */
    void recycle() {
        for (int k = 0; k < olderCount; k++) {
            int i = older[k];
            if (refs[i] == 0 && ids[i] != null) {
                index.remove(ids[i]);
                ids[i] = null;
                if (freeCount == free.length) {
                    free = Arrays.copyOf(free, free.length * 2);
                }
                free[freeCount++] = i;
            }
        }
        int[] t = older;
        older = unused;
        olderCount = unusedCount;
        unused = t;
        unusedCount = 0;
    }

    /** The index of {@code id}, or -1. */
    int find(String id) {
        Integer i = index.get(id);
        return i == null ? -1 : i;
    }

    /** The id at index {@code i}, or null when it is free. */
    String id(int i) {
        return i < size ? ids[i] : null;
    }

    /** Every index handed out is below this. */
    int bound() {
        return size;
    }

    /** Ids that hold an index (counted or waiting for {@link #recycle}). */
    int live() {
        return index.size();
    }
}
