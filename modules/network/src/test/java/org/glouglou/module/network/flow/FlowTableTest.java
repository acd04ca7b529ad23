package org.glouglou.module.network.flow;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.List;
import org.glouglou.module.network.NetworkEvents.Data;
import org.glouglou.module.network.NetworkEvents.DelConn;
import org.glouglou.module.network.NetworkEvents.NewConn;
import org.glouglou.module.network.NetworkEvents.Reason;
import org.glouglou.spi.Event;
import org.junit.jupiter.api.Test;

class FlowTableTest {
    static final long A = 0x0a000001L;
    static final long B = 0x0a000002L;
    static final long C = 0x0a000003L;
    static final int SYN = 0x02;
    static final int ACK = 0x10;
    static final int FIN = 0x01;
    static final int RST = 0x04;

    final List<Event> ev = new ArrayList<>();
    final List<Long> at = new ArrayList<>();
    FlowTable t = new FlowTable(FlowConfig.defaults(), (ts, e) -> {
        at.add(ts);
        ev.add(e);
    });

    Flow tcp(long ts, long s, int sp, long d, int dp, int len, int flags) {
        return t.packet(ts, false, 0, s, sp, 0, d, dp, 6, len, flags);
    }

    Flow udp(long ts, long s, int sp, long d, int dp, int len) {
        return t.packet(ts, false, 0, s, sp, 0, d, dp, 17, len, 0);
    }

    <T> List<T> of(Class<T> c) {
        return ev.stream().filter(c::isInstance).map(c::cast).toList();
    }

    @Test
    void directionIndependentWithSrcAsTheFirstSender() {
        udp(1_000_000, B, 53, A, 40000, 100);
        udp(1_000_010, A, 40000, B, 53, 60);
        udp(1_000_020, B, 53, A, 40000, 100);
        t.finish(2_000_000);
        NewConn n = of(NewConn.class).get(0);
        assertEquals(1, n.conn());
        assertEquals("udp 10.0.0.2:53 -> 10.0.0.1:40000", n.flow().toString());
        DelConn d = of(DelConn.class).get(0);
        assertEquals(new DelConn(1, Reason.END, 2, 200, 1, 60, n.flow()), d);
    }

    @Test
    void dataOncePerTickWithTotalsSinceNewconn() {
        udp(1_000_000, A, 1, B, 2, 10);
        udp(1_050_000, A, 1, B, 2, 10);
        udp(1_150_000, B, 2, A, 1, 30); // next tick: the first tick's DATA goes out at 1.1 s
        udp(1_160_000, A, 1, B, 2, 10);
        t.advance(1_200_000); // the second tick's DATA
        udp(1_450_000, A, 1, B, 2, 10);
        t.finish(1_450_000);
        List<Data> data = of(Data.class);
        assertEquals(2, data.size(), "no DATA in the tick that ends the flow: " + data);
        assertEquals(new Data(1, 2, 20, 0, 0, data.get(0).flow()), data.get(0));
        assertEquals(1_100_000L, at.get(ev.indexOf(data.get(0))));
        assertEquals(new Data(1, 3, 30, 1, 30, data.get(0).flow()), data.get(1), "cumulative, never a delta");
        assertEquals(new DelConn(1, Reason.END, 4, 40, 1, 30, data.get(0).flow()), of(DelConn.class).get(0));
        assertEquals(1_500_000L, at.get(ev.indexOf(of(DelConn.class).get(0))), "at the end of the last tick");
    }

    @Test
    void aQuietTickSendsNoDataAndConnIdsAreNeverReused() {
        udp(1_000_000, A, 1, B, 2, 10);
        t.advance(1_300_000); // one DATA for the first tick; the quiet ones send nothing
        assertEquals(1, of(Data.class).size());
        tcp(1_300_001, A, 1000, B, 80, 40, RST);
        t.advance(1_400_000);
        tcp(1_400_001, A, 1000, B, 80, 40, SYN); // the same 5-tuple again: a new flow, a new id
        udp(1_400_002, A, 3, C, 4, 10);
        t.finish(1_500_000);
        assertEquals(List.of(1L, 2L, 3L, 4L), of(NewConn.class).stream().map(NewConn::conn).toList());
        assertEquals(4, of(DelConn.class).stream().map(DelConn::conn).distinct().count());
    }

    @Test
    void shutdownEndsEveryOpenFlowWithItsReason() {
        tcp(0, A, 1000, B, 80, 40, SYN);
        udp(1, A, 5, B, 6, 30);
        tcp(2, B, 80, A, 1000, 40, RST);
        t.finish(50_000, Reason.SHUTDOWN);
        assertEquals(List.of(Reason.RST, Reason.SHUTDOWN), of(DelConn.class).stream().map(DelConn::reason).toList());
        assertTrue(of(Data.class).isEmpty(), "DELCONN's totals carry the last tick");
        assertEquals(1, t.stats().get("flows_ended_shutdown"));
        assertEquals(0, t.size());
    }

    @Test
    void rstEndsTheFlowAtTheNextTickAndAReusedTupleIsANewFlow() {
        tcp(1_000_000, A, 1000, B, 80, 40, SYN);
        tcp(1_000_100, B, 80, A, 1000, 40, RST | ACK);
        tcp(1_000_200, B, 80, A, 1000, 40, RST); // same tick: still the same flow
        assertEquals(1, t.size());
        tcp(1_200_000, A, 1000, B, 80, 40, SYN); // after the tick: a new flow
        List<DelConn> d = of(DelConn.class);
        assertEquals(1, d.size());
        assertEquals(Reason.RST, d.get(0).reason());
        assertEquals(1, d.get(0).srcPkts());
        assertEquals(2, d.get(0).dstPkts());
        assertTrue(of(Data.class).isEmpty(), "a flow that ends in its first tick may skip DATA");
        assertEquals(2, of(NewConn.class).get(1).conn());
    }

    @Test
    void finFromBothSidesAndTheLastAckClose() {
        tcp(1_000_000, A, 1000, B, 80, 40, SYN);
        tcp(1_000_001, B, 80, A, 1000, 40, SYN | ACK);
        tcp(1_000_002, A, 1000, B, 80, 40, ACK);
        tcp(2_000_000, A, 1000, B, 80, 40, FIN | ACK);
        tcp(2_000_001, B, 80, A, 1000, 40, FIN | ACK);
        t.advance(3_000_000);
        assertTrue(of(DelConn.class).isEmpty(), "no DELCONN before the last ACK");
        tcp(3_000_002, A, 1000, B, 80, 40, ACK);
        t.advance(3_100_000);
        DelConn d = of(DelConn.class).get(0);
        assertEquals(Reason.FIN, d.reason());
        assertEquals(4, d.srcPkts());
        assertEquals(2, d.dstPkts());
        // no last DATA before DELCONN: its totals cover the last tick
        Data last = of(Data.class).get(of(Data.class).size() - 1);
        assertEquals(5, last.srcPkts() + last.dstPkts(), "the last ACK travels only in DELCONN's totals");
    }

    @Test
    void idleTimeoutsPerProtocol() {
        t = new FlowTable(FlowConfig.defaults().withIdle(300_000_000L, 60_000_000L, 30_000_000L), (ts, e) -> ev
                .add(e));
        udp(0, A, 1, B, 2, 10);
        tcp(0, A, 1, B, 2, 40, ACK);
        t.packet(0, false, 0, A, 0, 0, B, 0, 1, 84, 0);
        t.advance(30_000_000);
        assertEquals(List.of(1), of(DelConn.class).stream().map(d -> d.flow().proto()).toList());
        t.advance(60_000_000);
        assertEquals(List.of(1, 17), of(DelConn.class).stream().map(d -> d.flow().proto()).toList());
        t.advance(299_000_000);
        assertEquals(1, t.size());
        t.advance(300_000_000);
        assertEquals(0, t.size());
        assertTrue(of(DelConn.class).stream().allMatch(d -> d.reason() == Reason.IDLE));
    }

    @Test
    void fullTableEvictsTheLeastRecentlyActive() {
        t = new FlowTable(FlowConfig.defaults().withMaxFlows(2), (ts, e) -> ev.add(e));
        udp(0, A, 1, B, 2, 10);
        udp(1, A, 1, C, 2, 10);
        udp(2, A, 1, B, 2, 10); // A-B is now more recent than A-C
        udp(3, B, 1, C, 2, 10);
        DelConn d = of(DelConn.class).get(0);
        assertEquals(Reason.EVICTED, d.reason());
        assertEquals(2, d.conn());
        assertEquals(1, t.stats().get("flows_evicted"));
        assertEquals(2, t.size());
    }

    @Test
    void halfClosedTcpTimesOutSoonerThanEstablished() {
        tcp(0, A, 1000, B, 80, 40, ACK);
        tcp(0, A, 1001, B, 80, 40, ACK);
        tcp(1, A, 1001, B, 80, 40, FIN | ACK); // only one FIN: waits for the closing timeout, not 300 s
        t.advance(FlowConfig.DEFAULT_IDLE_TCP_CLOSING + 100_000); // the tick after the timeout
        List<DelConn> d = of(DelConn.class);
        assertEquals(1, d.size());
        assertEquals(1001, d.get(0).flow().sport());
        assertEquals(Reason.IDLE, d.get(0).reason());
    }

    @Test
    void endOfInputEndsOpenFlowsAndGivesPendingClosesTheirReason() {
        tcp(0, A, 1000, B, 80, 40, SYN);
        tcp(1, B, 80, A, 1000, 40, RST);
        udp(2, A, 5, B, 6, 30);
        t.finish(2);
        assertEquals(List.of(Reason.RST, Reason.END), of(DelConn.class).stream().map(DelConn::reason).toList());
        assertEquals(0, t.size());
    }

    /** When the sender is behind (backlog n), DATA goes out every 2^n ticks, with the totals so far. */
    @Test
    void backlogCoalescesDataWithoutLosingTraffic() {
        int[] level = {0};
        t = new FlowTable(FlowConfig.defaults(), (ts, e) -> ev.add(e), () -> level[0]);
        level[0] = 2;
        for (int i = 0; i < 16; i++) {
            udp(1_000_000 + i * 100_000L, A, 1, B, 2, 10);
        }
        t.advance(2_700_000);
        List<Data> data = of(Data.class);
        assertTrue(data.size() <= 5, "16 ticks of traffic at backlog 2 give at most every 4th tick: " + data.size());
        for (int i = 1; i < data.size(); i++) {
            assertTrue(data.get(i).srcPkts() - data.get(i - 1).srcPkts() >= 3, "each DATA covers the skipped ticks: "
                    + data);
        }
        assertTrue(data.get(data.size() - 1).srcPkts() <= 16);
        t.finish(3_000_000);
        assertEquals(16, of(DelConn.class).get(0).srcPkts());
        assertTrue(t.stats().get("ticks_coalesced") > 0);
    }
}
