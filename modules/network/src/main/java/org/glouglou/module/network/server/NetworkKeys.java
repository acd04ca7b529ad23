package org.glouglou.module.network.server;

import java.net.InetAddress;

/**
 * The Redis key schema of the network module (issue 4; docs/architecture-ingest.txt). One key per graph element, so a
 * keyspace notification names exactly what changed; no braces in any key, so Redis Cluster spreads them over all
 * slots (no operation spans two keys). Addresses are in RFC 5952 text form (IPv6 compressed, lower case).
 *
 * <pre>
 * gg:node:ADDR                 hash  a host
 * gg:link:A|B                  hash  traffic between two hosts, A &lt; B (address bytes, IPv4 before IPv6)
 * gg:conn:PROBE:SESSION:CONN   hash  one flow as one probe session saw it
 * gg:name:ADDR                 hash  names of a host: field = name, value = where it came from
 * </pre>
 */
public final class NetworkKeys {
    public static final String NODE = "gg:node:";
    public static final String LINK = "gg:link:";
    public static final String CONN = "gg:conn:";
    public static final String NAME = "gg:name:";

    private NetworkKeys() {
    }

    public static String node(InetAddress a) {
        return NODE + text(a);
    }

    public static String name(InetAddress a) {
        return NAME + text(a);
    }

    public static String conn(long probeId, long sessionId, long conn) {
        return CONN + probeId + ":" + Long.toUnsignedString(sessionId) + ":" + Long.toUnsignedString(conn);
    }

    /** The link key of a host pair, in canonical order whatever the order given. */
    public static String link(InetAddress x, InetAddress y) {
        return ordered(x, y) ? LINK + text(x) + "|" + text(y) : LINK + text(y) + "|" + text(x);
    }

    /** True when {@code x} comes first in a link key: shorter address first, then unsigned bytes. */
    public static boolean ordered(InetAddress x, InetAddress y) {
        byte[] a = x.getAddress();
        byte[] b = y.getAddress();
        if (a.length != b.length) {
            return a.length < b.length;
        }
        for (int i = 0; i < a.length; i++) {
            int c = Integer.compare(a[i] & 0xff, b[i] & 0xff);
            if (c != 0) {
                return c < 0;
            }
        }
        return true;
    }

    /** RFC 5952 text: dotted quad, or IPv6 with the longest run of two or more zero groups as "::". No scope. */
    public static String text(InetAddress a) {
        byte[] b = a.getAddress();
        if (b.length == 4) {
            return (b[0] & 0xff) + "." + (b[1] & 0xff) + "." + (b[2] & 0xff) + "." + (b[3] & 0xff);
        }
        int[] g = new int[8];
        for (int i = 0; i < 8; i++) {
            g[i] = (b[2 * i] & 0xff) << 8 | b[2 * i + 1] & 0xff;
        }
        int bestStart = -1;
        int bestLen = 1;
        for (int i = 0; i < 8;) {
            if (g[i] != 0) {
                i++;
                continue;
            }
            int j = i;
            while (j < 8 && g[j] == 0) {
                j++;
            }
            if (j - i > bestLen) {
                bestStart = i;
                bestLen = j - i;
            }
            i = j;
        }
        StringBuilder s = new StringBuilder(39);
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                s.append("::");
                i += bestLen - 1;
                continue;
            }
            if (s.length() > 0 && s.charAt(s.length() - 1) != ':') {
                s.append(':');
            }
            s.append(Integer.toHexString(g[i]));
        }
        return s.toString();
    }
}
