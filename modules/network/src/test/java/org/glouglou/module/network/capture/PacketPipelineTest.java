package org.glouglou.module.network.capture;

import static org.glouglou.module.network.capture.Packets.*;
import static org.junit.jupiter.api.Assertions.*;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.glouglou.module.network.NetworkEvents.DelConn;
import org.glouglou.module.network.NetworkEvents.Name;
import org.glouglou.module.network.NetworkEvents.NameSource;
import org.glouglou.module.network.NetworkEvents.NewConn;
import org.glouglou.module.network.NetworkEvents.Trace;
import org.glouglou.module.network.flow.FlowConfig;
import org.glouglou.module.network.trace.HopEstimator;
import org.glouglou.spi.Event;
import org.junit.jupiter.api.Test;

class PacketPipelineTest {
    final List<Event> ev = new ArrayList<>();

    PacketPipeline pipeline(List<InetSocketAddress> exports) {
        return new PacketPipeline(FlowConfig.defaults(), 16, exports, (ts, e) -> ev.add(e));
    }

    static void feed(PacketPipeline p, long ts, byte[] ip) {
        p.packet(ts, LinkType.RAW, ip, 0, ip.length, ip.length);
    }

    <T> List<T> of(Class<T> c) {
        return ev.stream().filter(c::isInstance).map(c::cast).toList();
    }

    @Test
    void exportTrafficIsNeverReported() {
        PacketPipeline p = pipeline(List.of(new InetSocketAddress("127.0.0.1", 7777)));
        feed(p, 0, ip4("127.0.0.1", "127.0.0.1", 17, 64, udp(40000, 7777, new byte[100])));
        feed(p, 1, ip4("127.0.0.1", "127.0.0.1", 17, 64, udp(7777, 40000, new byte[10])));
        feed(p, 2, ip4("127.0.0.1", "127.0.0.1", 17, 64, udp(40000, 7778, new byte[10]))); // another port: ours
        feed(p, 3, ip4("127.0.0.1", "127.0.0.1", 6, 64, tcp(40000, 7777, 2, new byte[0]))); // TCP: not export
        p.finish();
        assertEquals(List.of(7778, 7777), of(NewConn.class).stream().map(n -> n.flow().dport()).toList());
        assertEquals(2, p.stats().get("export_excluded"));
    }

    @Test
    void hopEstimateOncePerAddressAndAgainWhenItChanges() throws Exception {
        PacketPipeline p = pipeline(List.of());
        feed(p, 0, ip4("10.0.0.1", "10.0.0.2", 17, 64, udp(1, 2, new byte[1])));
        feed(p, 1, ip4("10.0.0.2", "10.0.0.1", 17, 121, udp(2, 1, new byte[1])));
        feed(p, 2, ip4("10.0.0.2", "10.0.0.1", 17, 121, udp(2, 1, new byte[1])));
        feed(p, 3, ip4("10.0.0.2", "10.0.0.3", 17, 121, udp(2, 9, new byte[1]))); // another flow, same estimate
        feed(p, 4, ip4("10.0.0.2", "10.0.0.1", 17, 120, udp(2, 1, new byte[1])));
        List<Trace> t = of(Trace.class);
        assertEquals(List.of("10.0.0.1/0", "10.0.0.2/7", "10.0.0.2/8"), t.stream().map(x -> x.addr()
                .getHostAddress() + "/" + x.hops()).toList());
        assertEquals(0, HopEstimator.hops(255));
        assertEquals(1, HopEstimator.hops(254));
        assertEquals(4, HopEstimator.hops(28));
        assertEquals(0, HopEstimator.hops(64));
        assertEquals(63, HopEstimator.hops(65));
    }

    @Test
    void dnsResponsesOnTheWireGiveNamesOncePerTtl() throws Exception {
        PacketPipeline p = pipeline(List.of());
        byte[] q = {3, 'w', 'w', 'w', 1, 'x', 0};
        byte[] msg = ByteBuffer.allocate(12 + q.length + 4 + 16).putShort((short) 1).putShort((short) 0x8180)
                .putShort((short) 1).putShort((short) 1).putInt(0).put(q).putShort((short) 1).putShort((short) 1)
                .put(new byte[]{(byte) 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 9, 8, 7}).array();
        byte[] pkt = ip4("10.0.0.53", "10.0.0.1", 17, 64, udp(53, 40000, msg));
        feed(p, 0, pkt);
        feed(p, 59_000_000, pkt);
        feed(p, 60_000_000, pkt);
        byte[] other = msg.clone();
        other[other.length - 1] = 6; // 10.9.8.6: a pair not seen yet
        byte[] mdns = ip4("10.0.0.9", "224.0.0.251", 17, 255, udp(5353, 5353, other));
        feed(p, 60_000_001, mdns);
        Name want = new Name(InetAddress.getByName("10.9.8.7"), "www.x", NameSource.DNS_A, 60);
        assertEquals(List.of(want, want, new Name(InetAddress.getByName("10.9.8.6"), "www.x", NameSource.MDNS, 60)),
                of(Name.class));
        assertEquals(1, p.stats().get("names_suppressed"));
    }

    @Test
    void malformedFramesAreCountedByReasonAndTimeStillAdvances() {
        PacketPipeline p = pipeline(List.of());
        feed(p, 0, ip4("10.0.0.1", "10.0.0.2", 17, 64, udp(1, 2, new byte[1])));
        feed(p, 400_000_000, new byte[]{0x45, 0});
        assertEquals(1, p.stats().get("malformed_ip_short"));
        assertEquals(1, of(DelConn.class).size(), "the UDP flow timed out on the malformed packet's time");
    }
}
