package org.glouglou.module.network.flow;

import org.glouglou.module.network.FlowKey;
import org.glouglou.module.network.NetworkEvents.Reason;

/**
 * One tracked flow: its canonical key (inherited, so the table stores one object per flow), orientation, counters and
 * its place in the table's activity lists.
 */
public final class Flow extends FlowTable.Key {
    final long conn;
    final FlowKey flowKey;
    /** True when the first packet went from the key's endpoint A to B. */
    final boolean srcIsA;
    long srcPkts;
    long srcBytes;
    long dstPkts;
    long dstBytes;
    long last;
    boolean dirty;
    boolean removed;
    /** FIN seen from src (1) and from dst (2). */
    int fins;
    Reason closing;
    int list;
    Flow prev;
    Flow next;
    /** The last TTL seen from each side, so the hop estimate is consulted only when it changes. */
    public int srcTtl = -1;
    public int dstTtl = -1;

    Flow(FlowTable.Key key, long conn, FlowKey flowKey, boolean srcIsA) {
        super(key);
        this.conn = conn;
        this.flowKey = flowKey;
        this.srcIsA = srcIsA;
    }

    public long conn() {
        return conn;
    }

    public FlowKey flowKey() {
        return flowKey;
    }
}
