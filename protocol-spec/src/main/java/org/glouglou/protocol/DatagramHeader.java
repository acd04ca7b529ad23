package org.glouglou.protocol;

import io.netty.buffer.ByteBuf;

/**
 * The 26-byte datagram header (spec 3.1). In a sealed datagram the header is the AEAD's associated data: it travels
 * in clear and any change to it fails the tag.
 *
 * @param flags          flag bits, see {@link ProtocolConstants#FLAG_SEALED}
 * @param probeId        sender's probe id, unsigned 32 bits, never 0
 * @param sessionId      session id, unsigned 32 bits, 0 before the session is established
 * @param sequence       per-session, per-direction counter from 1; the AEAD nonce and the anti-replay key
 * @param baseTimeMicros microseconds since the Unix epoch; record times are offsets from it
 */
public record DatagramHeader(int flags, long probeId, long sessionId, long sequence, long baseTimeMicros) {

    public boolean sealed() {
        return (flags & ProtocolConstants.FLAG_SEALED) != 0;
    }

    public void write(ByteBuf out) {
        out.writeByte(ProtocolConstants.VERSION);
        out.writeByte(flags);
        out.writeInt((int) probeId);
        out.writeInt((int) sessionId);
        out.writeLong(sequence);
        out.writeLong(baseTimeMicros);
    }

    /** Reads and validates a header; leaves the reader index at the payload. */
    public static DatagramHeader read(ByteBuf in) throws ProtocolException {
        if (in.readableBytes() < ProtocolConstants.HEADER_LENGTH) {
            throw new ProtocolException(DropReason.TRUNCATED_HEADER, in.readableBytes() + " bytes, header needs "
                    + ProtocolConstants.HEADER_LENGTH);
        }
        int version = in.readUnsignedByte();
        if (version != ProtocolConstants.VERSION) {
            throw new ProtocolException(DropReason.BAD_VERSION, "version " + version + ", this receiver speaks "
                    + ProtocolConstants.VERSION);
        }
        int flags = in.readUnsignedByte();
        if ((flags & ~ProtocolConstants.KNOWN_FLAGS) != 0) {
            throw new ProtocolException(DropReason.BAD_FLAGS, "reserved flag bits set: 0x"
                    + Integer.toHexString(flags));
        }
        long probeId = in.readUnsignedInt();
        long sessionId = in.readUnsignedInt();
        long sequence = in.readLong();
        long base = in.readLong();
        if (probeId == 0) {
            throw new ProtocolException(DropReason.UNKNOWN_PROBE, "probe id 0 is reserved");
        }
        return new DatagramHeader(flags, probeId, sessionId, sequence, base);
    }
}
