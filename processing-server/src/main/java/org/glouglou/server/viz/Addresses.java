package org.glouglou.server.viz;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** IP address text to bytes and back, without name resolution (issue 5: filters and subnet grouping). */
final class Addresses {
    private Addresses() {
    }

    /** The bytes of an IPv4 or IPv6 literal, or null when {@code s} is not one. */
    static byte[] parse(String s) {
        if (s == null || s.isEmpty() || s.length() > 45) {
            return null;
        }
        boolean colon = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == ':') {
                colon = true;
            } else if (!(c >= '0' && c <= '9' || c == '.' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F')) {
                return null;
            }
        }
        if (!colon) {
            String[] p = s.split("\\.", -1);
            if (p.length != 4) {
                return null;
            }
            byte[] b = new byte[4];
            for (int i = 0; i < 4; i++) {
                if (p[i].isEmpty() || p[i].length() > 3) {
                    return null;
                }
                int v;
                try {
                    v = Integer.parseInt(p[i]);
                } catch (NumberFormatException e) {
                    return null;
                }
                if (v > 255) {
                    return null;
                }
                b[i] = (byte) v;
            }
            return b;
        }
        try {
            return InetAddress.getByName(s).getAddress(); // a literal with ':' never goes to DNS
        } catch (UnknownHostException e) {
            return null;
        }
    }

    static byte[] mask(byte[] a, int bits) {
        byte[] m = a.clone();
        for (int i = 0; i < m.length; i++) {
            int keep = Math.max(0, Math.min(8, bits - 8 * i));
            m[i] = (byte) (m[i] & (0xff00 >> keep));
        }
        return m;
    }

    /** RFC 5952 text: dotted quad, or IPv6 with the longest run of two or more zero groups as "::". */
    static String text(byte[] b) {
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
