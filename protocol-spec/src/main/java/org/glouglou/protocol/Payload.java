package org.glouglou.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.glouglou.protocol.crypto.SessionCipher;

/**
 * The records of one datagram before it gets its header: what a sender queues while it has no session yet, and
 * seals under whichever session is current when it sends (spec 3).
 *
 * @param baseTimeMicros the header's base time: record times are offsets from it
 * @param records        the records, in clear
 * @param events         how many events the records hold (for counters)
 */
public record Payload(long baseTimeMicros, byte[] records, int events) {

    /** Header plus records, sealed by {@code cipher} unless it is null. A new buffer the caller owns. */
    public ByteBuf toDatagram(long probeId, long sessionId, long sequence, SessionCipher cipher) {
        int flags = cipher == null ? 0 : ProtocolConstants.FLAG_SEALED;
        ByteBuf out = Unpooled.buffer(ProtocolConstants.HEADER_LENGTH + records.length + ProtocolConstants.TAG_LENGTH);
        new DatagramHeader(flags, probeId, sessionId, sequence, baseTimeMicros).write(out);
        out.writeBytes(records);
        if (cipher != null) {
            cipher.seal(out);
        }
        return out;
    }
}
