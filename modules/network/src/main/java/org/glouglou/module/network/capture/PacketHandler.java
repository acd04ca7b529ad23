package org.glouglou.module.network.capture;

/** Receives the packets of a capture, file or live, one call per packet, in capture order. */
@FunctionalInterface
public interface PacketHandler {
    /**
     * @param tsMicros microseconds since the Unix epoch
     * @param linkType the LINKTYPE_ value of the interface (tcpdump.org/linktypes.html)
     * @param data     a buffer the caller reuses: valid only during this call
     * @param off      where the packet starts in {@code data}
     * @param capLen   bytes captured, readable from {@code off}
     * @param wireLen  the packet's length on the wire (larger than capLen when truncated by the snap length)
     */
    void packet(long tsMicros, int linkType, byte[] data, int off, int capLen, int wireLen);
}
