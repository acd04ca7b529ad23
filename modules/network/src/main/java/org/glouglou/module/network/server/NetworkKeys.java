package org.glouglou.module.network.server;

import java.net.InetAddress;
import org.glouglou.protocol.Wire;

/**
 * The Redis key schema of the network module (docs/architecture-ingest.txt 2). One key per graph element, so a
 * keyspace notification names exactly what changed; no braces in any key, so Redis Cluster spreads them over all
 * slots, and the core's companion keys of a key (its marks) share its slot through the key itself as hash tag.
 * Addresses are in RFC 5952 text form (IPv6 compressed, lower case).
 *
 * <pre>
 * gg:node:ADDR              hash  a host
 * gg:link:A|B               hash  traffic between two hosts, A &lt; B (address bytes, IPv4 before IPv6)
 * gg:conn:PROBE:BOOT:CONN   hash  one flow of one probe's boot (hidden: what a server reads to resolve its events)
 * gg:name:ADDR              hash  names of a host: field = name, value = where it came from
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

    /** A flow's key: connection ids are unique within a probe's boot (spec 4.1), across its sessions. */
    public static String conn(long probeId, long boot, long conn) {
        return CONN + probeId + ":" + Long.toUnsignedString(boot) + ":" + Long.toUnsignedString(conn);
    }

    /** A flow's contributor name in its link's marks: the same on every server. */
    public static String contributor(long probeId, long boot, long conn) {
        return probeId + ":" + Long.toUnsignedString(boot) + ":" + Long.toUnsignedString(conn);
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

    /** RFC 5952 text (no scope), as everywhere in glouglou: {@link Wire#addressText}. */
    public static String text(InetAddress a) {
        return Wire.addressText(a.getAddress());
    }
}
