package org.glouglou.module.network.capture;

/**
 * Decodes a captured frame from its link layer to the outer IP 5-tuple, the IP-layer length and the TTL, into this
 * object's fields (reused: no allocation per packet). The flow definition is the one of the project's ground truth
 * ({@code shared/pcaps/groundtruth/flows.py}, tshark's dissection): IPv4 bytes are the total length, IPv6 bytes the
 * payload length plus 40, an IPv6 flow's protocol is the FIRST next header, and IPv4 fragments carry ports only on the
 * fragment that completes the datagram. Never throws: a frame it cannot read is counted by {@link DropReason}.
 */
public final class PacketDecoder {
    /** 8: more stacked VLAN tags than any real network uses; stops a frame made of tags from looping long. */
    static final int MAX_TAGS = 8;
    /** 16: more IPv6 extension headers than any legitimate packet carries. */
    static final int MAX_EXTENSIONS = 16;

    public static final int TCP = 6;
    public static final int UDP = 17;
    public static final int ICMP = 1;
    public static final int ICMPV6 = 58;

    private final long[] drops = new long[DropReason.values().length];
    private final FragmentTracker fragments;

    // the decoded packet; valid after decode() returned true
    public boolean v6;
    public long srcHi;
    public long srcLo;
    public long dstHi;
    public long dstLo;
    /** The flow's protocol: IPv4 protocol, or the IPv6 FIRST next header. */
    public int proto;
    /** The upper-layer protocol after IPv6 extension headers (same as proto for IPv4); -1 if not reached. */
    public int l4proto;
    public int sport;
    public int dport;
    /** IP-layer bytes: IPv4 total length, IPv6 payload length + 40. */
    public int ipLen;
    /** IPv4 TTL or IPv6 hop limit. */
    public int ttl;
    /** TCP flags byte, 0 when not TCP or not captured. */
    public int tcpFlags;
    /** Where the UDP payload starts in the buffer, and how many of its bytes were captured (0 when none). */
    public int payloadOff;
    public int payloadLen;

    public PacketDecoder() {
        this(new FragmentTracker(FragmentTracker.DEFAULT_MAX));
    }

    public PacketDecoder(FragmentTracker fragments) {
        this.fragments = fragments;
    }

    /** True when the frame was decoded into this object's fields; false when it was counted and dropped. */
    public boolean decode(long tsMicros, int linkType, byte[] b, int off, int capLen) {
        int end = off + capLen;
        int o = off;
        int etype;
        switch (linkType) {
            case LinkType.ETHERNET -> {
                if (capLen < 14) {
                    return drop(DropReason.LINK_SHORT);
                }
                etype = u16(b, o + 12);
                o += 14;
                for (int tags = 0; etype == 0x8100 || etype == 0x88a8 || etype == 0x9100; tags++) {
                    if (tags == MAX_TAGS || o + 4 > end) {
                        return drop(DropReason.VLAN_SHORT);
                    }
                    etype = u16(b, o + 2);
                    o += 4;
                }
            }
            case LinkType.LINUX_SLL -> {
                if (capLen < 16) {
                    return drop(DropReason.LINK_SHORT);
                }
                etype = u16(b, o + 14);
                o += 16;
            }
            case LinkType.LINUX_SLL2 -> {
                if (capLen < 20) {
                    return drop(DropReason.LINK_SHORT);
                }
                etype = u16(b, o);
                o += 20;
            }
            case LinkType.RAW, LinkType.RAW_12, LinkType.RAW_14, LinkType.IPV4, LinkType.IPV6 -> {
                if (capLen < 1) {
                    return drop(DropReason.IP_SHORT);
                }
                int ver = (b[o] & 0xff) >>> 4;
                etype = ver == 4 ? 0x0800 : ver == 6 ? 0x86dd : -1;
            }
            case LinkType.NULL, LinkType.LOOP -> {
                if (capLen < 4) {
                    return drop(DropReason.LINK_SHORT);
                }
                // families are below 256: whichever end byte is set tells the value whatever the host's order
                int fam = b[o] != 0 ? b[o] & 0xff : b[o + 3] & 0xff;
                etype = fam == 2 ? 0x0800 : (fam == 10 || fam == 24 || fam == 28 || fam == 30) ? 0x86dd : -1;
                o += 4;
            }
            default -> {
                return drop(DropReason.UNSUPPORTED_LINKTYPE);
            }
        }
        if (etype == 0x8864) {
            // PPPoE session (RFC 2516): 6-byte header, then the PPP protocol number
            if (o + 8 > end) {
                return drop(DropReason.LINK_SHORT);
            }
            int ppp = u16(b, o + 6);
            etype = ppp == 0x0021 ? 0x0800 : ppp == 0x0057 ? 0x86dd : -1;
            o += 8;
        } else if (etype == 0x8847 || etype == 0x8848) {
            // MPLS (RFC 3032): labels until bottom of stack, then IP told by its version nibble, as tshark guesses
            for (int n = 0;; n++) {
                if (n == MAX_TAGS || o + 4 > end) {
                    return drop(DropReason.LINK_SHORT);
                }
                boolean bottom = (b[o + 2] & 1) != 0;
                o += 4;
                if (bottom) {
                    break;
                }
            }
            int ver = o < end ? (b[o] & 0xff) >>> 4 : -1;
            etype = ver == 4 ? 0x0800 : ver == 6 ? 0x86dd : -1;
        }
        if (etype == 0x0800) {
            return ipv4(tsMicros, b, o, end);
        }
        if (etype == 0x86dd) {
            return ipv6(b, o, end);
        }
        return drop(DropReason.NON_IP);
    }

    private boolean ipv4(long tsMicros, byte[] b, int o, int end) {
        if (end - o < 20) {
            return drop(DropReason.IP_SHORT);
        }
        int vh = b[o] & 0xff;
        if (vh >>> 4 != 4) {
            return drop(DropReason.IP_VERSION);
        }
        int hl = (vh & 0x0f) * 4;
        if (hl < 20 || o + hl > end) {
            return drop(DropReason.IPV4_HEADER_LENGTH);
        }
        int total = u16(b, o + 2);
        if (total < hl) {
            return drop(DropReason.IPV4_TOTAL_LENGTH);
        }
        v6 = false;
        srcHi = 0;
        dstHi = 0;
        srcLo = u32(b, o + 12);
        dstLo = u32(b, o + 16);
        ipLen = total;
        ttl = b[o + 8] & 0xff;
        proto = b[o + 9] & 0xff;
        l4proto = proto;
        sport = 0;
        dport = 0;
        tcpFlags = 0;
        payloadOff = 0;
        payloadLen = 0;
        int l4 = o + hl;
        // never read past what was captured nor past what the IP header says belongs to it
        int l4end = Math.min(end, o + total);
        int fo = u16(b, o + 6);
        if ((fo & 0x3fff) != 0) {
            int offset = (fo & 0x1fff) * 8;
            boolean more = (fo & 0x2000) != 0;
            int ports = fragments.fragment(tsMicros, srcLo, dstLo, proto, u16(b, o + 4), offset, total - hl, more,
                    offset == 0 && l4end - l4 >= 4 ? (int) u32(b, l4) : -1);
            if (ports != -1 && (proto == TCP || proto == UDP)) {
                sport = ports >>> 16;
                dport = ports & 0xffff;
            }
            return true;
        }
        transport(b, l4, l4end, proto);
        return true;
    }

    private boolean ipv6(byte[] b, int o, int end) {
        if (end - o < 40) {
            return drop(DropReason.IP_SHORT);
        }
        if ((b[o] & 0xf0) != 0x60) {
            return drop(DropReason.IP_VERSION);
        }
        v6 = true;
        int plen = u16(b, o + 4);
        proto = b[o + 6] & 0xff;
        ttl = b[o + 7] & 0xff;
        srcHi = u64(b, o + 8);
        srcLo = u64(b, o + 16);
        dstHi = u64(b, o + 24);
        dstLo = u64(b, o + 32);
        ipLen = plen + 40;
        sport = 0;
        dport = 0;
        tcpFlags = 0;
        payloadOff = 0;
        payloadLen = 0;
        int l4end = plen == 0 ? end : Math.min(end, o + 40 + plen); // 0: a jumbogram, bounded by the capture
        int nxt = proto;
        int p = o + 40;
        for (int n = 0;; n++) {
            if (nxt == 0 || nxt == 43 || nxt == 60 || nxt == 51 || nxt == 44) {
                if (n == MAX_EXTENSIONS) {
                    return drop(DropReason.IPV6_EXTENSION);
                }
                if (p + 8 > l4end) {
                    // cut by the snap length: the flow is known, its upper layer is not
                    l4proto = -1;
                    return true;
                }
                int next = b[p] & 0xff;
                if (nxt == 44) {
                    if ((u16(b, p + 2) & 0xfff8) != 0) {
                        l4proto = -1; // a later fragment: no upper-layer header here
                        return true;
                    }
                    p += 8;
                } else if (nxt == 51) {
                    p += ((b[p + 1] & 0xff) + 2) * 4;
                } else {
                    p += ((b[p + 1] & 0xff) + 1) * 8;
                }
                nxt = next;
                continue;
            }
            break;
        }
        l4proto = nxt;
        if (nxt == proto) {
            transport(b, p, l4end, nxt);
        } else if (nxt == UDP && p + 8 <= l4end) {
            // ports stay 0 (the flow is keyed by the first next header) but DNS behind extensions is still read
            payloadOff = p + 8;
            payloadLen = l4end - payloadOff;
            int s = u16(b, p);
            int d = u16(b, p + 2);
            if (!isDns(s, d)) {
                payloadLen = 0;
            }
        }
        return true;
    }

    private static boolean isDns(int s, int d) {
        return s == 53 || d == 53 || s == 5353 || d == 5353;
    }

    private void transport(byte[] b, int l4, int l4end, int p) {
        if (p == TCP) {
            if (l4end - l4 >= 4) {
                sport = u16(b, l4);
                dport = u16(b, l4 + 2);
            }
            if (l4end - l4 >= 14) {
                tcpFlags = b[l4 + 13] & 0xff;
            }
        } else if (p == UDP) {
            if (l4end - l4 >= 4) {
                sport = u16(b, l4);
                dport = u16(b, l4 + 2);
            }
            if (l4end - l4 >= 8) {
                payloadOff = l4 + 8;
                payloadLen = l4end - payloadOff;
            }
        }
    }

    private boolean drop(DropReason r) {
        drops[r.ordinal()]++;
        return false;
    }

    /** Counts a packet dropped after decoding (export traffic). */
    public void count(DropReason r) {
        drops[r.ordinal()]++;
    }

    public long drops(DropReason r) {
        return drops[r.ordinal()];
    }

    public FragmentTracker fragments() {
        return fragments;
    }

    static int u16(byte[] b, int o) {
        return (b[o] & 0xff) << 8 | (b[o + 1] & 0xff);
    }

    static long u32(byte[] b, int o) {
        return ((long) (b[o] & 0xff) << 24 | (b[o + 1] & 0xff) << 16 | (b[o + 2] & 0xff) << 8 | (b[o + 3] & 0xff));
    }

    static long u64(byte[] b, int o) {
        return u32(b, o) << 32 | u32(b, o + 4);
    }
}
