package org.glouglou.module.network.dns;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.glouglou.module.network.NetworkEvents.Name;
import org.glouglou.module.network.NetworkEvents.NameSource;

/**
 * Reads the names out of a DNS (RFC 1035) or mDNS (RFC 6762) response seen on the wire: A and AAAA answers name their
 * address by owner, CNAME chains give the address the name that was asked too, PTR answers under in-addr.arpa and
 * ip6.arpa name the address they encode. Every offset is bounds-checked and compression pointers must point backwards,
 * so any byte sequence ends in a result or a counted failure, never an exception.
 */
public final class DnsResponseParser {
    /** 255: RFC 1035's limit on a name in wire form. */
    static final int MAX_NAME_WIRE = 255;
    /** 16: CNAME chains longer than this are loops or abuse (resolvers give up near 8-16). */
    static final int MAX_CHAIN = 16;
    /** 64: answers read per message; real responses have a handful, the rest is not worth the time. */
    static final int MAX_ANSWERS = 64;

    private final StringBuilder sb = new StringBuilder(64);
    private int nameEnd;
    private int msgEnd;
    private long malformed;
    private long responses;

    private record Answer(String owner, int type, long ttl, byte[] addr, String target) {
    }

    /**
     * Parses one UDP payload; returns the names it gives (empty when it is not a response or is malformed).
     *
     * @param mdns true for port 5353 traffic: names are reported with source MDNS
     */
    public List<Name> parse(byte[] b, int off, int len, boolean mdns) {
        List<Name> out = new ArrayList<>(4);
        int end = off + len;
        msgEnd = end;
        if (len < 12) {
            malformed++;
            return out;
        }
        int flags = u16(b, off + 2);
        if ((flags & 0x8000) == 0 || (flags & 0x7800) != 0) {
            return out; // a query, or not a standard query's answer
        }
        responses++;
        int qd = u16(b, off + 4);
        int an = u16(b, off + 6);
        int p = off + 12;
        String qname = null;
        for (int i = 0; i < qd; i++) {
            String n = name(b, off, p, end);
            if (n == null || nameEnd + 4 > end) {
                malformed++;
                return out;
            }
            if (qname == null) {
                qname = n;
            }
            p = nameEnd + 4;
        }
        List<Answer> answers = new ArrayList<>(Math.min(an, 8));
        Map<String, String> cname = new HashMap<>();
        for (int i = 0; i < an && i < MAX_ANSWERS; i++) {
            String owner = name(b, off, p, end);
            if (owner == null || nameEnd + 10 > end) {
                malformed++;
                break; // keep what was read so far
            }
            int q = nameEnd;
            int type = u16(b, q);
            long ttl = u32(b, q + 4);
            int rdlen = u16(b, q + 8);
            int rd = q + 10;
            if (rd + rdlen > end) {
                malformed++;
                break;
            }
            p = rd + rdlen;
            if (ttl > 0x7fffffffL) {
                ttl = 0; // RFC 2181 section 8: a TTL with the top bit set is zero
            }
            if ((type == 1 && rdlen == 4) || (type == 28 && rdlen == 16)) {
                byte[] a = new byte[rdlen];
                System.arraycopy(b, rd, a, 0, rdlen);
                answers.add(new Answer(owner, type, ttl, a, null));
            } else if (type == 5 || type == 12) {
                String t = name(b, off, rd, rd + rdlen);
                if (t == null) {
                    malformed++;
                    continue;
                }
                if (type == 5) {
                    cname.put(owner.toLowerCase(Locale.ROOT), t);
                }
                answers.add(new Answer(owner, type, ttl, null, t));
            }
        }
        for (Answer a : answers) {
            if (a.addr != null) {
                InetAddress addr = inet(a.addr);
                NameSource src = mdns ? NameSource.MDNS : a.type == 1 ? NameSource.DNS_A : NameSource.DNS_AAAA;
                out.add(new Name(addr, a.owner, src, a.ttl));
                if (qname != null && !qname.equalsIgnoreCase(a.owner) && reaches(cname, qname, a.owner)) {
                    out.add(new Name(addr, qname, NameSource.DNS_CNAME, a.ttl));
                }
            } else if (a.type == 12) {
                byte[] addr = reverse(a.owner);
                if (addr != null) {
                    out.add(new Name(inet(addr), a.target, mdns ? NameSource.MDNS : NameSource.DNS_PTR, a.ttl));
                }
            }
        }
        return out;
    }

    private static boolean reaches(Map<String, String> cname, String from, String to) {
        String n = from;
        for (int i = 0; i < MAX_CHAIN; i++) {
            n = cname.get(n.toLowerCase(Locale.ROOT));
            if (n == null) {
                return false;
            }
            if (n.equalsIgnoreCase(to)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Reads the name at {@code p}: null when malformed. Sets {@link #nameEnd} to the first byte after the name in
     * place (after the first pointer, if any). Pointers must point strictly before the label that holds them, which
     * rules out loops without counting jumps.
     */
    String name(byte[] b, int msg, int p, int end) {
        sb.setLength(0);
        int wire = 0;
        int after = -1;
        int limit = p; // a pointer must point before this
        while (true) {
            if (p >= end) {
                return null;
            }
            int l = b[p] & 0xff;
            if (l == 0) {
                if (after < 0) {
                    after = p + 1;
                }
                break;
            }
            if ((l & 0xc0) == 0xc0) {
                if (p + 1 >= end) {
                    return null;
                }
                int target = msg + ((l & 0x3f) << 8 | (b[p + 1] & 0xff));
                if (target >= limit) {
                    return null;
                }
                if (after < 0) {
                    after = p + 2;
                }
                limit = target;
                p = target;
                // what a pointer reaches is bounded by the message, not by the rdata window it sits in
                end = msgEnd;
                continue;
            }
            if ((l & 0xc0) != 0 || p + 1 + l > end) {
                return null; // 0x40 and 0x80 label types are obsolete or unused
            }
            wire += l + 1;
            if (wire > MAX_NAME_WIRE) {
                return null;
            }
            if (sb.length() > 0) {
                sb.append('.');
            }
            for (int i = p + 1; i <= p + l; i++) {
                int c = b[i] & 0xff;
                if (c == '.' || c == '\\') {
                    sb.append('\\').append((char) c);
                } else if (c <= 0x20 || c >= 0x7f) {
                    sb.append('\\').append((char) ('0' + c / 100)).append((char) ('0' + c / 10 % 10))
                            .append((char) ('0' + c % 10));
                } else {
                    sb.append((char) c);
                }
            }
            p += 1 + l;
        }
        nameEnd = after;
        return sb.length() == 0 ? "." : sb.toString();
    }

    /** The address a PTR owner name encodes (d.c.b.a.in-addr.arpa, 32 nibbles.ip6.arpa); null for others. */
    static byte[] reverse(String owner) {
        String n = owner.toLowerCase(Locale.ROOT);
        if (n.endsWith(".in-addr.arpa")) {
            String[] parts = n.substring(0, n.length() - 13).split("\\.");
            if (parts.length != 4) {
                return null;
            }
            byte[] a = new byte[4];
            for (int i = 0; i < 4; i++) {
                String s = parts[3 - i];
                if (s.isEmpty() || s.length() > 3 || !s.chars().allMatch(Character::isDigit)) {
                    return null;
                }
                int v = Integer.parseInt(s);
                if (v > 255) {
                    return null;
                }
                a[i] = (byte) v;
            }
            return a;
        }
        if (n.endsWith(".ip6.arpa")) {
            String s = n.substring(0, n.length() - 9);
            if (s.length() != 63) {
                return null;
            }
            byte[] a = new byte[16];
            for (int i = 0; i < 32; i++) {
                char c = s.charAt(i * 2);
                if (i < 31 && s.charAt(i * 2 + 1) != '.') {
                    return null;
                }
                int v = Character.digit(c, 16);
                if (v < 0) {
                    return null;
                }
                int nib = 31 - i; // first label is the lowest nibble
                a[nib / 2] |= (byte) ((nib & 1) == 0 ? v << 4 : v);
            }
            return a;
        }
        return null;
    }

    private static InetAddress inet(byte[] a) {
        try {
            return InetAddress.getByAddress(a);
        } catch (UnknownHostException e) {
            throw new AssertionError(e); // 4 or 16 bytes
        }
    }

    private static int u16(byte[] b, int o) {
        return (b[o] & 0xff) << 8 | (b[o + 1] & 0xff);
    }

    private static long u32(byte[] b, int o) {
        return (long) (b[o] & 0xff) << 24 | (b[o + 1] & 0xff) << 16 | (b[o + 2] & 0xff) << 8 | (b[o + 3] & 0xff);
    }

    public long malformed() {
        return malformed;
    }

    public long responses() {
        return responses;
    }
}
