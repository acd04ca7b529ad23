package org.glouglou.server.viz;

import org.glouglou.protocol.Wire;

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

    /** RFC 5952 text of an address (see {@link Wire#addressText}). */
    static String text(byte[] b) {
        return Wire.addressText(b);
    }
}
