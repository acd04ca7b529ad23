#!/usr/bin/env python3
"""Builds edge_cases.pcap: hand-made packets for the cases the public captures lack (fragments, IPv6 extension
headers, ICMP errors, VLAN/QinQ, truncation). Its truth comes from ../../shared/pcaps/groundtruth/flows.py, like
every other capture: python3 make_edge_cases.py && flows.py edge_cases.pcap > edge_cases.flows.tsv"""
import struct

def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff

def ip4(src, dst, proto, payload, ident=1, flags_off=0, ttl=64, total=None):
    s = bytes(map(int, src.split("."))); d = bytes(map(int, dst.split(".")))
    tl = total if total is not None else 20 + len(payload)
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, tl, ident, flags_off, ttl, proto, 0, s, d)
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload

def ip6(src, dst, nxt, payload, hlim=64):
    import ipaddress
    return struct.pack("!IHBB", 0x60000000, len(payload), nxt, hlim) + ipaddress.IPv6Address(src).packed + \
        ipaddress.IPv6Address(dst).packed + payload

def udp(sp, dp, data):
    return struct.pack("!HHHH", sp, dp, 8 + len(data), 0) + data

def tcp(sp, dp, flags, data=b""):
    return struct.pack("!HHIIBBHHH", sp, dp, 1, 0, 0x50, flags, 65535, 0, 0) + data

def eth(payload, etype=0x0800, tags=()):
    h = b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01"
    for tpid, vid in tags:
        h += struct.pack("!HH", tpid, vid)
    return h + struct.pack("!H", etype) + payload

pkts = []
t = [1700000000.0]
def add(frame, caplen=None):
    t[0] += 0.01
    pkts.append((t[0], frame[:caplen] if caplen else frame, len(frame)))

# 1. plain UDP both ways, then an ICMP port unreachable quoting it
q = udp(40000, 9999, b"x" * 30)
add(eth(ip4("10.0.0.1", "10.0.0.2", 17, q)))
add(eth(ip4("10.0.0.2", "10.0.0.1", 17, udp(9999, 40000, b"y" * 10))))
quoted = ip4("10.0.0.1", "10.0.0.2", 17, q)[:28]
add(eth(ip4("10.0.0.2", "10.0.0.1", 1, struct.pack("!BBHI", 3, 3, 0, 0) + quoted)))
# 2. UDP datagram of 3000 bytes in 3 IPv4 fragments
big = udp(5000, 6000, bytes(range(256)) * 12)[:3000]
add(eth(ip4("10.0.0.3", "10.0.0.4", 17, big[0:1480], ident=77, flags_off=0x2000)))
add(eth(ip4("10.0.0.3", "10.0.0.4", 17, big[1480:2960], ident=77, flags_off=0x2000 | 185)))
add(eth(ip4("10.0.0.3", "10.0.0.4", 17, big[2960:], ident=77, flags_off=370)))
# 3. a lone middle fragment never completed
add(eth(ip4("10.0.0.3", "10.0.0.4", 17, b"z" * 64, ident=78, flags_off=0x2000 | 100)))
# 4. VLAN and QinQ TCP, both directions
add(eth(ip4("10.1.0.1", "10.1.0.2", 6, tcp(1234, 80, 0x02)), tags=((0x8100, 5),)))
add(eth(ip4("10.1.0.2", "10.1.0.1", 6, tcp(80, 1234, 0x12)), tags=((0x88a8, 7), (0x8100, 5))))
add(eth(ip4("10.1.0.1", "10.1.0.2", 6, tcp(1234, 80, 0x10)), tags=((0x88a8, 7), (0x8100, 5))))
# 5. truncated: snap of 54 bytes from a 1000-byte TCP segment
add(eth(ip4("10.2.0.1", "10.2.0.2", 6, tcp(2222, 443, 0x18, b"d" * 960))), caplen=54)
# 6. IPv6: plain UDP, hop-by-hop then UDP, fragment header then UDP, ICMPv6 echo, ICMPv6 unreachable
u6 = udp(7000, 53, b"q" * 20)
add(eth(ip6("2001:db8::1", "2001:db8::2", 17, u6), 0x86dd))
add(eth(ip6("2001:db8::1", "2001:db8::2", 0, bytes([17, 0, 1, 4, 0, 0, 0, 0]) + u6), 0x86dd))
add(eth(ip6("2001:db8::1", "2001:db8::2", 44, bytes([17, 0, 0, 0, 0, 0, 0, 9]) + u6), 0x86dd))
add(eth(ip6("2001:db8::1", "2001:db8::2", 58, struct.pack("!BBHHH", 128, 0, 0, 1, 1) + b"p" * 8), 0x86dd))
add(eth(ip6("2001:db8::2", "2001:db8::1", 58, struct.pack("!BBHI", 1, 4, 0, 0) +
            ip6("2001:db8::1", "2001:db8::2", 17, u6)), 0x86dd))
# 7. an Ethernet frame that is neither IPv4 nor IPv6 (ARP) and garbage after an IPv4 type
add(eth(b"\0\1\x08\0\6\4\0\1" + b"\0" * 20, 0x0806))
add(eth(b"\x45\0\0", 0x0800))

# 8. PPPoE session carrying UDP, MPLS (two labels) carrying TCP
pp = ip4("10.3.0.1", "10.3.0.2", 17, udp(1111, 2222, b"m" * 12))
add(eth(struct.pack("!BBHHH", 0x11, 0, 1, len(pp) + 2, 0x21) + pp, 0x8864))
mp = ip4("10.4.0.1", "10.4.0.2", 6, tcp(3333, 4444, 0x02))
add(eth(struct.pack("!II", (16 << 12) | 64, (17 << 12) | 0x100 | 64) + mp, 0x8847))

with open("edge_cases.pcap", "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for ts, fr, wire in pkts:
        sec = int(ts); usec = int(round((ts - sec) * 1e6))
        f.write(struct.pack("<IIII", sec, usec, len(fr), wire) + fr)
