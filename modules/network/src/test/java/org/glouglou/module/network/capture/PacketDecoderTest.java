package org.glouglou.module.network.capture;

import static org.glouglou.module.network.capture.Packets.*;
import static org.junit.jupiter.api.Assertions.*;

import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PacketDecoderTest {
    static final byte[] UDP4 = ip4("192.0.2.1", "198.51.100.7", 17, 57, udp(40000, 53, new byte[12]));
    static final byte[] TCP6 = ip6("2001:db8::1", "2001:db8::2", 6, 60, tcp(443, 50000, 0x12, new byte[5]));

    final PacketDecoder d = new PacketDecoder();

    /** Decodes from a copy exactly as long as the frame, so any read past the captured bytes fails the test. */
    boolean decode(int link, byte[] frame) {
        byte[] exact = Arrays.copyOf(frame, frame.length);
        return d.decode(0, link, exact, 0, exact.length);
    }

    void assertUdp4() {
        assertFalse(d.v6);
        assertEquals(0xc0000201L, d.srcLo);
        assertEquals(0xc6336407L, d.dstLo);
        assertEquals(17, d.proto);
        assertEquals(40000, d.sport);
        assertEquals(53, d.dport);
        assertEquals(UDP4.length, d.ipLen);
        assertEquals(57, d.ttl);
        assertEquals(12, d.payloadLen);
    }

    @Test
    void ethernetPlainVlanQinq() {
        assertTrue(decode(LinkType.ETHERNET, eth(0x0800, UDP4)));
        assertUdp4();
        assertTrue(decode(LinkType.ETHERNET, eth(0x0800, UDP4, 0x8100, 5)));
        assertUdp4();
        assertTrue(decode(LinkType.ETHERNET, eth(0x0800, UDP4, 0x88a8, 7, 0x8100, 5)));
        assertUdp4();
        assertTrue(decode(LinkType.ETHERNET, eth(0x86dd, TCP6, 0x8100, 5)));
        assertTrue(d.v6);
        assertEquals(6, d.proto);
        assertEquals(443, d.sport);
        assertEquals(0x12, d.tcpFlags);
        assertEquals(TCP6.length, d.ipLen);
        assertEquals(0x20010db800000000L, d.srcHi);
        assertEquals(1, d.srcLo);
    }

    @Test
    void pppoeAndMplsCarryIp() {
        byte[] pppoe = cat(new byte[]{0x11, 0, 0, 1, 0, (byte) (UDP4.length + 2), 0, 0x21}, UDP4);
        assertTrue(decode(LinkType.ETHERNET, eth(0x8864, pppoe)));
        assertUdp4();
        byte[] mpls = cat(new byte[]{0, 1, 0, 64, 0, 2, 1, 64}, TCP6); // two labels, the second bottom of stack
        assertTrue(decode(LinkType.ETHERNET, eth(0x8847, mpls, 0x8100, 9)));
        assertTrue(d.v6);
        assertEquals(443, d.sport);
        assertFalse(decode(LinkType.ETHERNET, eth(0x8847, new byte[]{0, 1, 0, 64, 0, 2, 0, 64})));
        assertEquals(1, d.drops(DropReason.LINK_SHORT));
    }

    @Test
    void cookedRawAndLoopbackLinks() {
        assertTrue(decode(LinkType.LINUX_SLL, sll(0x0800, UDP4)));
        assertUdp4();
        assertTrue(decode(LinkType.LINUX_SLL2, sll2(0x0800, UDP4)));
        assertUdp4();
        for (int raw : new int[]{LinkType.RAW, LinkType.RAW_12, LinkType.RAW_14}) {
            assertTrue(decode(raw, UDP4));
            assertUdp4();
            assertTrue(decode(raw, TCP6));
            assertTrue(d.v6);
        }
        assertTrue(decode(LinkType.NULL, nullFamily(2, ByteOrder.LITTLE_ENDIAN, UDP4)));
        assertUdp4();
        assertTrue(decode(LinkType.NULL, nullFamily(30, ByteOrder.BIG_ENDIAN, TCP6)));
        assertTrue(d.v6);
        assertTrue(decode(LinkType.LOOP, nullFamily(24, ByteOrder.BIG_ENDIAN, TCP6)));
        assertTrue(d.v6);
    }

    @Test
    void truncatedPacketCountsItsHeaderLengthAndReadsNoFurther() {
        byte[] big = eth(0x0800, ip4("10.2.0.1", "10.2.0.2", 6, 64, tcp(2222, 443, 0x18, new byte[960])));
        assertTrue(decode(LinkType.ETHERNET, Arrays.copyOf(big, 54)));
        assertEquals(1000, d.ipLen);
        assertEquals(2222, d.sport);
        assertEquals(0x18, d.tcpFlags);
        // cut inside the TCP header: flow still counted, ports when 4 bytes are there
        assertTrue(decode(LinkType.ETHERNET, Arrays.copyOf(big, 14 + 20 + 3)));
        assertEquals(0, d.sport);
        assertEquals(1000, d.ipLen);
        assertFalse(decode(LinkType.ETHERNET, Arrays.copyOf(big, 14 + 19)));
        assertEquals(1, d.drops(DropReason.IP_SHORT));
    }

    @Test
    void ipv6FlowIsKeyedByTheFirstNextHeaderLikeTheGroundTruth() {
        byte[] u = udp(7000, 53, new byte[20]);
        byte[] hbh = cat(new byte[]{17, 0, 1, 4, 0, 0, 0, 0}, u);
        assertTrue(decode(LinkType.RAW, ip6("2001:db8::1", "2001:db8::2", 0, 64, hbh)));
        assertEquals(0, d.proto);
        assertEquals(17, d.l4proto);
        assertEquals(0, d.sport);
        assertEquals(40 + hbh.length, d.ipLen);
        assertEquals(20, d.payloadLen); // DNS behind extension headers is still read
        byte[] chain = cat(new byte[]{60, 0, 1, 4, 0, 0, 0, 0}, new byte[]{51, 0, 1, 4, 0, 0, 0, 0},
                new byte[]{17, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, u); // hop-by-hop, dest options, AH (length 1)
        assertTrue(decode(LinkType.RAW, ip6("2001:db8::1", "2001:db8::2", 0, 64, chain)));
        assertEquals(17, d.l4proto);
        byte[] laterFragment = cat(new byte[]{17, 0, 0, 9, 0, 0, 0, 1}, u);
        assertTrue(decode(LinkType.RAW, ip6("2001:db8::1", "2001:db8::2", 44, 64, laterFragment)));
        assertEquals(44, d.proto);
        assertEquals(-1, d.l4proto);
        assertEquals(0, d.payloadLen);
    }

    @Test
    void ipv4FragmentsGetPortsOnlyOnTheCompletingFragmentAsTsharkDoes() {
        byte[] dgram = udp(5000, 6000, new byte[40]); // 48 bytes: fragments of 24 + 24
        assertTrue(decode(LinkType.RAW, ip4("10.0.0.3", "10.0.0.4", 17, 64, 0x2000, Arrays.copyOf(dgram, 24))));
        assertEquals(0, d.sport);
        assertEquals(44, d.ipLen);
        assertTrue(decode(LinkType.RAW, ip4("10.0.0.3", "10.0.0.4", 17, 64, 3, Arrays.copyOfRange(dgram, 24,
                48))));
        assertEquals(5000, d.sport);
        assertEquals(6000, d.dport);
        assertEquals(0, d.fragments().inFlight());
    }

    @Test
    void icmpErrorIsAnIcmpFlowNotTheQuotedOne() {
        byte[] quoted = Arrays.copyOf(UDP4, 28);
        byte[] icmp = cat(new byte[]{3, 3, 0, 0, 0, 0, 0, 0}, quoted);
        assertTrue(decode(LinkType.RAW, ip4("198.51.100.7", "192.0.2.1", 1, 60, icmp)));
        assertEquals(1, d.proto);
        assertEquals(0, d.sport);
        assertEquals(0, d.dport);
        assertEquals(0, d.payloadLen);
    }

    @Test
    void nonIpAndUnknownLinksAreCountedNotThrown() {
        assertFalse(decode(LinkType.ETHERNET, eth(0x0806, new byte[28])));
        assertEquals(1, d.drops(DropReason.NON_IP));
        assertFalse(decode(147, UDP4));
        assertEquals(1, d.drops(DropReason.UNSUPPORTED_LINKTYPE));
        byte[] manyTags = eth(0x0800, UDP4, 0x8100, 1, 0x8100, 1, 0x8100, 1, 0x8100, 1, 0x8100, 1, 0x8100, 1, 0x8100,
                1, 0x8100, 1, 0x8100, 1);
        assertFalse(decode(LinkType.ETHERNET, manyTags));
        assertEquals(1, d.drops(DropReason.VLAN_SHORT));
        byte[] badIhl = UDP4.clone();
        badIhl[0] = 0x44;
        assertFalse(decode(LinkType.RAW, badIhl));
        assertEquals(1, d.drops(DropReason.IPV4_HEADER_LENGTH));
        byte[] badTotal = UDP4.clone();
        badTotal[2] = 0;
        badTotal[3] = 10;
        assertFalse(decode(LinkType.RAW, badTotal));
        assertEquals(1, d.drops(DropReason.IPV4_TOTAL_LENGTH));
    }

    @ParameterizedTest
    @ValueSource(ints = {LinkType.NULL, LinkType.ETHERNET, LinkType.RAW, LinkType.LOOP, LinkType.LINUX_SLL,
            LinkType.LINUX_SLL2, LinkType.IPV4, LinkType.IPV6})
    void randomAndCutBytesNeverThrow(int link) {
        Random rnd = new Random(link * 7919L);
        byte[][] seeds = {eth(0x0800, UDP4, 0x8100, 5), eth(0x86dd, TCP6), sll(0x86dd, TCP6), sll2(0x0800, UDP4),
                UDP4, TCP6};
        for (int i = 0; i < 20_000; i++) {
            byte[] b;
            if (i % 2 == 0) {
                b = new byte[rnd.nextInt(120)];
                rnd.nextBytes(b);
                if (b.length > 20 && rnd.nextBoolean()) {
                    b[rnd.nextInt(4)] = (byte) (rnd.nextBoolean() ? 0x45 : 0x60); // reach the IP code more often
                }
            } else {
                // a real frame with a few bytes flipped, cut at a random length
                byte[] s = seeds[rnd.nextInt(seeds.length)];
                b = Arrays.copyOf(s, rnd.nextInt(s.length + 1));
                for (int k = rnd.nextInt(4); k > 0 && b.length > 0; k--) {
                    b[rnd.nextInt(b.length)] = (byte) rnd.nextInt(256);
                }
            }
            decode(link, b); // an exception fails the test
        }
    }
}
