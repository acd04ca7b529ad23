package org.glouglou.server.viz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MemberSetTest {
    /** Random adds and removes over a small range (so sizes cross 0, 1 and 2 often) against a HashSet. */
    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 42, 1234})
    void behavesLikeAHashSetAcrossTheSingleMemberForm(long seed) {
        Random r = new Random(seed);
        MemberSet m = new MemberSet();
        Set<Integer> want = new HashSet<>();
        for (int i = 0; i < 5000; i++) {
            int v = r.nextInt(4);
            if (r.nextBoolean()) {
                assertEquals(want.add(v), m.add(v), "add " + v);
            } else {
                assertEquals(want.remove(v), m.remove(v), "remove " + v);
            }
            assertEquals(want.size(), m.size());
            assertEquals(want.isEmpty(), m.isEmpty());
            assertEquals(want, new HashSet<>(m), "members after step " + i);
            for (int x = 0; x < 4; x++) {
                assertEquals(want.contains(x), m.contains(x));
            }
            if (want.size() == 1) {
                assertEquals(want.iterator().next(), m.first());
            } else if (want.isEmpty()) {
                assertEquals(-1, m.first());
            } else {
                assertEquals(true, want.contains(m.first()));
            }
        }
        assertThrows(IllegalArgumentException.class, () -> m.add(-1));
    }
}
