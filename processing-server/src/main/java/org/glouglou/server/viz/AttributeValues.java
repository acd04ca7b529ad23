package org.glouglou.server.viz;

import java.util.Arrays;
import java.util.Map;
import java.util.Objects;

/** Equality of neutral attribute values, arrays compared by content (issue 5: a change is sent only when it is one). */
final class AttributeValues {
    private AttributeValues() {
    }

    static boolean same(Object a, Object b) {
        if (a instanceof Object[] x && b instanceof Object[] y) {
            return Arrays.equals(x, y);
        }
        return Objects.equals(a, b);
    }

    static boolean sameMap(Map<String, Object> a, Map<String, Object> b) {
        if (a == b) {
            return true;
        }
        if (a.size() != b.size()) {
            return false;
        }
        for (Map.Entry<String, Object> e : a.entrySet()) {
            if (!same(e.getValue(), b.get(e.getKey()))) {
                return false;
            }
        }
        return true;
    }
}
