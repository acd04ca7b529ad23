package org.glouglou.server.viz;

import java.util.AbstractSet;
import java.util.Collections;
import java.util.HashSet;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * The input elements (model indices) behind one output element of a view. At the hosts level nearly every output
 * element has exactly one member, so one member is held in a field and a hash set is made only for a second: no
 * table to allocate, hash or walk for the common case ({@link #first} without an iterator), which mattered once per
 * changed element per view per tick.
 */
final class MemberSet extends AbstractSet<Integer> {
    private int one = -1;
    private HashSet<Integer> many;

    @Override
    public int size() {
        return many != null ? many.size() : one >= 0 ? 1 : 0;
    }

    @Override
    public boolean isEmpty() {
        return many == null && one < 0;
    }

    /** A member (the only one when {@link #size} is 1); -1 when empty. */
    int first() {
        return many != null ? many.iterator().next() : one;
    }

    @Override
    public boolean contains(Object o) {
        return many != null ? many.contains(o) : o instanceof Integer i && i >= 0 && i == one;
    }

    @Override
    public boolean add(Integer e) {
        if (e < 0) {
            throw new IllegalArgumentException("member index " + e);
        }
        if (many != null) {
            return many.add(e);
        }
        if (one < 0) {
            one = e;
            return true;
        }
        if (one == e) {
            return false;
        }
        many = new HashSet<>(4);
        many.add(one);
        many.add(e);
        one = -1;
        return true;
    }

    @Override
    public boolean remove(Object o) {
        if (many != null) {
            boolean r = many.remove(o);
            if (many.size() == 1) {
                one = many.iterator().next();
                many = null;
            }
            return r;
        }
        if (o instanceof Integer i && i >= 0 && i == one) {
            one = -1;
            return true;
        }
        return false;
    }

    @Override
    public Iterator<Integer> iterator() {
        if (many != null) {
            Iterator<Integer> it = many.iterator();
            return new Iterator<>() { // removal through the iterator would bypass the single-member form
                @Override
                public boolean hasNext() {
                    return it.hasNext();
                }

                @Override
                public Integer next() {
                    return it.next();
                }
            };
        }
        if (one < 0) {
            return Collections.emptyIterator();
        }
        int only = one;
        return new Iterator<>() {
            private boolean done;

            @Override
            public boolean hasNext() {
                return !done;
            }

            @Override
            public Integer next() {
                if (done) {
                    throw new NoSuchElementException();
                }
                done = true;
                return only;
            }
        };
    }
}
