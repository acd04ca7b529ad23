package org.glouglou.server.viz;

/**
 * An address prefix from a viewer's filter (issue 5): {@code 10.0.0.0/8}, {@code 2001:db8::/32}, or one address.
 * Parsed from literals only: a viewer's message never makes the server resolve a name.
 */
record Cidr(byte[] network, int bits) {
    static Cidr parse(String s) throws ViewerProtocolException {
        int slash = s.indexOf('/');
        String a = slash < 0 ? s : s.substring(0, slash);
        byte[] addr = Addresses.parse(a);
        if (addr == null) {
            throw new ViewerProtocolException("filter address '" + s + "' is not an IP address or CIDR prefix");
        }
        int bits = addr.length * 8;
        if (slash >= 0) {
            try {
                bits = Integer.parseInt(s.substring(slash + 1));
            } catch (NumberFormatException e) {
                bits = -1;
            }
            if (bits < 0 || bits > addr.length * 8) {
                throw new ViewerProtocolException("filter address '" + s + "': prefix length must be 0.." + addr.length
                        * 8);
            }
        }
        return new Cidr(Addresses.mask(addr, bits), bits);
    }

    /** By content: viewers with the same filter share one projection (ViewerHub keys them by configuration). */
    @Override
    public boolean equals(Object o) {
        return o instanceof Cidr c && bits == c.bits && java.util.Arrays.equals(network, c.network);
    }

    @Override
    public int hashCode() {
        return 31 * java.util.Arrays.hashCode(network) + bits;
    }

    @Override
    public String toString() {
        return Addresses.text(network) + "/" + bits;
    }

    boolean contains(byte[] addr) {
        if (addr == null || addr.length != network.length) {
            return false;
        }
        return java.util.Arrays.equals(Addresses.mask(addr, bits), network);
    }
}
