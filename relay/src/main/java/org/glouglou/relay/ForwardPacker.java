package org.glouglou.relay;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;
import org.glouglou.protocol.ProtocolConstants;
import org.glouglou.protocol.internal.InternalEvents;
import org.glouglou.protocol.internal.InternalEvents.Forward;

/**
 * Cuts one origin datagram's records into FORWARD records that each fit one upstream datagram (spec 5.6). Records
 * are copied verbatim and never split; a payload that does not fit is cut at record boundaries into several FORWARDs
 * with the same origin coordinates, and each part after the first starts with a copy of the last CLOCK record before
 * its cut, so every event keeps its time. Control records that belong to the hop (handshake, PING, PONG) stay behind;
 * FORWARD records of a downstream relay are re-wrapped one by one by the caller, not copied here. Stateless.
 */
final class ForwardPacker {
    /** FORWARD body without path and records: origin probe(4) session(4) sequence(8) base time(8) hop count(1). */
    static final int FORWARD_FIXED = 4 + 4 + 8 + 8 + 1;

    /** The records-length varint: 3 bytes hold any length below 2^21, far above a datagram. */
    static final int LENGTH_VARINT = 3;

    /** Parts of one origin datagram, and what could not be forwarded. */
    record Result(List<Forward> parts, int droppedRecords) {
    }

    private ForwardPacker() {
    }

    /** Bytes of origin records one FORWARD with {@code hops} path entries may carry in a datagram of this size. */
    static int room(int maxDatagram, int hops) {
        return maxDatagram - ProtocolConstants.HEADER_LENGTH - ProtocolConstants.TAG_LENGTH
                - ProtocolConstants.RECORD_HEADER_LENGTH - FORWARD_FIXED - 4 * hops - LENGTH_VARINT;
    }

    /** True for the records a relay forwards verbatim: everything but the hop's own control and nested FORWARDs. */
    static boolean forwardable(int module, int type) {
        if (module != ProtocolConstants.INTERNAL_MODULE_ID) {
            return true;
        }
        return type == InternalEvents.CLOCK.code() || type == InternalEvents.STATS.code()
                || type == InternalEvents.NOTICE.code() || type == InternalEvents.BYE.code();
    }

    /**
     * Packs the readable bytes of {@code records} (not consumed). Always returns at least one part: an origin datagram
     * with nothing to forward (a PING) still passes its sequence number on, so the server counts only real loss.
     */
    static Result pack(long originProbe, long originSession, long originSequence, long originBaseTime, long[] path,
            ByteBuf records, int maxDatagram) {
        int room = room(maxDatagram, path.length);
        List<Forward> parts = new ArrayList<>(1);
        int dropped = 0;
        int i = records.readerIndex();
        int end = records.writerIndex();
        ByteBuf part = records.alloc().heapBuffer(Math.min(room, end - i) + 16);
        byte[] clock = null;
        try {
            while (i + ProtocolConstants.RECORD_HEADER_LENGTH <= end) {
                int module = records.getUnsignedByte(i);
                int type = records.getUnsignedByte(i + 1);
                int length = ProtocolConstants.RECORD_HEADER_LENGTH + records.getUnsignedShort(i + 2);
                if (i + length > end) {
                    break; // the receiver already counted length_past_end; nothing after it is readable
                }
                if (!forwardable(module, type)) {
                    i += length;
                    continue;
                }
                boolean isClock = module == ProtocolConstants.INTERNAL_MODULE_ID && type == InternalEvents.CLOCK
                        .code();
                if (part.readableBytes() + length > room && part.readableBytes() > 0) {
                    parts.add(forward(originProbe, originSession, originSequence, originBaseTime, path, part));
                    part.clear();
                    if (clock != null && !isClock) {
                        part.writeBytes(clock);
                    }
                }
                if (part.readableBytes() + length > room) {
                    dropped++; // one record larger than a whole upstream datagram: cannot be cut without decoding
                    i += length;
                    continue;
                }
                if (isClock) {
                    clock = new byte[length];
                    records.getBytes(i, clock);
                }
                part.writeBytes(records, i, length);
                i += length;
            }
            if (part.readableBytes() > 0 || parts.isEmpty()) {
                parts.add(forward(originProbe, originSession, originSequence, originBaseTime, path, part));
            }
        } finally {
            part.release();
        }
        return new Result(parts, dropped);
    }

    private static Forward forward(long probe, long session, long sequence, long base, long[] path, ByteBuf part) {
        byte[] b = new byte[part.readableBytes()];
        part.getBytes(part.readerIndex(), b);
        return new Forward(probe, session, sequence, base, path, b);
    }

    /** {@code path} with {@code hop} appended. */
    static long[] append(long[] path, long hop) {
        long[] p = java.util.Arrays.copyOf(path, path.length + 1);
        p[path.length] = hop;
        return p;
    }
}
