package org.glouglou.module.network.capture;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Follows IPv4 fragment trains the way tshark's reassembly does, so that flows match the ground truth: every fragment
 * counts to the datagram's addresses and protocol with ports 0, except the fragment that completes the datagram, which
 * gets the ports of the first fragment. Bounded; the oldest train is forgotten first.
 */
public final class FragmentTracker {
    /** 1024: trains in flight at once; a real path sees a handful, a fragment flood only fills and recycles it. */
    static final int DEFAULT_MAX = 1024;
    /** 30 s: Linux's ipfrag_time; a train older than this is never completed by the host either. */
    static final long TIMEOUT_MICROS = 30_000_000L;

    private record Key(long src, long dst, int proto, int id) {
    }

    private static final class Train {
        long first;
        int ports = -1;
        long received;
        int total = -1;
    }

    private final int max;
    private long forgotten;
    private final LinkedHashMap<Key, Train> trains;

    public FragmentTracker(int max) {
        this.max = max;
        this.trains = new LinkedHashMap<>(64, 0.75f, false) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Key, Train> e) {
                if (size() > FragmentTracker.this.max) {
                    forgotten++;
                    return true;
                }
                return false;
            }
        };
    }

    /**
     * Records one fragment; returns the datagram's ports ({@code sport << 16 | dport}) when this fragment completes it
     * and the first fragment's ports are known, else -1.
     *
     * @param ports the first 4 bytes of the transport header when this is the first fragment, else -1
     */
    int fragment(long ts, long src, long dst, int proto, int id, int offset, int len, boolean more, int ports) {
        Key k = new Key(src, dst, proto, id);
        Train t = trains.get(k);
        if (t == null || ts - t.first > TIMEOUT_MICROS) {
            t = new Train();
            t.first = ts;
            trains.put(k, t);
        }
        if (offset == 0) {
            t.ports = ports;
        }
        if (!more) {
            t.total = offset + len;
        }
        t.received += len;
        if (t.total >= 0 && t.received >= t.total) {
            trains.remove(k);
            return t.ports;
        }
        return -1;
    }

    public int inFlight() {
        return trains.size();
    }

    public long forgotten() {
        return forgotten;
    }
}
