package org.glouglou.module.network.capture;

/** The LINKTYPE_ values this decoder reads (tcpdump.org/linktypes.html); DLT_ aliases where they differ. */
public final class LinkType {
    /** BSD loopback: a 4-byte address family in the capturing host's byte order. */
    public static final int NULL = 0;
    public static final int ETHERNET = 1;
    /** DLT_RAW on most systems. */
    public static final int RAW_12 = 12;
    /** DLT_RAW on OpenBSD. */
    public static final int RAW_14 = 14;
    public static final int RAW = 101;
    /** OpenBSD loopback: the address family in network byte order. */
    public static final int LOOP = 108;
    public static final int LINUX_SLL = 113;
    public static final int IPV4 = 228;
    public static final int IPV6 = 229;
    public static final int LINUX_SLL2 = 276;

    private LinkType() {
    }
}
