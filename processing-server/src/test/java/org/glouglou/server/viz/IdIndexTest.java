package org.glouglou.server.viz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Issue 5 (fan-out): dense element indices, counted, reused only two recycles after they were freed. */
class IdIndexTest {
    @Test
    void countedAndReusedOnlyAfterTheSecondRecycle() {
        IdIndex ids = new IdIndex();
        int a = ids.acquire("a");
        assertEquals(a, ids.acquire("a"), "same id, same index");
        int b = ids.acquire("b");
        assertNotEquals(a, b);
        ids.releaseRef(a);
        ids.recycle();
        ids.recycle();
        assertEquals(a, ids.find("a"), "still counted once");
        ids.releaseRef(a);
        ids.recycle(); // the drain that hands out the removal: the views have not seen it yet
        assertEquals(a, ids.find("a"), "kept until every view has seen the removal");
        assertNotEquals(a, ids.acquire("c"), "not handed out yet");
        ids.recycle();
        assertEquals(-1, ids.find("a"));
        assertNull(ids.id(a));
        assertEquals(a, ids.acquire("d"), "reused after the second recycle");
        assertEquals("d", ids.id(a));
    }

    @Test
    void reacquiredBeforeRecycleKeepsItsIndex() {
        IdIndex ids = new IdIndex();
        int a = ids.acquire("a");
        ids.releaseRef(a);
        ids.recycle();
        assertEquals(a, ids.acquire("a"), "back before it was given back: same index");
        ids.recycle();
        ids.recycle();
        assertEquals(a, ids.find("a"), "counted again: never given back");
    }

    @Test
    void randomAcquireReleaseMatchesAModel() {
        Random r = new Random(7);
        IdIndex ids = new IdIndex();
        Map<String, Integer> refs = new HashMap<>();
        Map<String, Integer> index = new HashMap<>();
        for (int step = 0; step < 20_000; step++) {
            String id = "n" + r.nextInt(300);
            if (r.nextInt(3) > 0 || refs.getOrDefault(id, 0) == 0) {
                int i = ids.acquire(id);
                refs.merge(id, 1, Integer::sum);
                Integer had = index.putIfAbsent(id, i);
                assertEquals(had == null ? i : had, i, "an id keeps its index while it holds one");
            } else {
                ids.releaseRef(index.get(id));
                refs.merge(id, -1, Integer::sum);
            }
            if (step % 50 == 0) {
                ids.recycle();
                index.entrySet().removeIf(e -> ids.find(e.getKey()) == -1);
            }
            for (Map.Entry<String, Integer> e : index.entrySet()) {
                if (refs.get(e.getKey()) > 0) {
                    assertEquals(e.getValue(), ids.find(e.getKey()));
                    assertEquals(e.getKey(), ids.id(e.getValue()));
                }
            }
        }
        assertEquals(true, ids.bound() <= 300 + 1, "indices are reused: " + ids.bound());
    }
}
