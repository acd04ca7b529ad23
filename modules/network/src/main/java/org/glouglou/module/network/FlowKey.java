package org.glouglou.module.network;

import java.net.InetAddress;

/**
 * The outer 5-tuple of a flow, oriented: {@code src} is the side that sent the first packet the probe saw. Ports are
 * 0 for protocols without ports.
 */
public record FlowKey(int proto, InetAddress src, int sport, InetAddress dst, int dport) {
    public boolean ipv6() {
        return src.getAddress().length == 16;
    }

    @Override
    public String toString() {
        return NetworkModule.protoName(proto) + " " + src.getHostAddress() + ":" + sport + " -> "
                + dst.getHostAddress() + ":" + dport;
    }
}
