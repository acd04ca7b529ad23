package org.glouglou.relay;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;
import io.netty.buffer.Unpooled;
import org.glouglou.protocol.ProtocolConstants;
import org.glouglou.protocol.ProtocolException;
import org.glouglou.protocol.Varint;
import org.glouglou.protocol.internal.InternalEvents;
import org.glouglou.protocol.internal.InternalEvents.Forward;
import org.glouglou.spi.EventCodec;
import org.glouglou.spi.ModuleRegistry;

/**
 * Cuts one origin datagram's records into FORWARD records that each fit one upstream datagram (spec 5.6). Records
 * are copied verbatim; a payload that does not fit is cut at record boundaries into several FORWARDs with the same
 * origin coordinates, and each part after the first starts with a copy of the last CLOCK record before its cut, so
 * every event keeps its time. A single record too large for one part is cut between its events. Control records that belong to the hop (handshake, PING, PONG) stay behind;
 * FORWARD records of a downstream relay are re-wrapped one by one by the caller, not copied here. Stateless.
 */
final class ForwardPacker {
    /** FORWARD body without path and records: origin probe(4) boot(8) sequence(8) base time(8) hop count(1). */
    static final int FORWARD_FIXED = 4 + 8 + 8 + 8 + 1;

    /** The records-length varint: 3 bytes hold any length below 2^21, far above a datagram. */
    static final int LENGTH_VARINT = 3;

    /**
     * The record header at {@code at}: {header length, body length}, or null when its varint length is cut by
     * {@code end} or longer than 3 bytes (spec 3.2). Reads without moving any index.
     */
    static int[] header(ByteBuf b, int at, int end) {
        int length = 0;
        for (int p = at + 2, shift = 0; p < end
                && p < at + ProtocolConstants.MAX_RECORD_HEADER_LENGTH; p++, shift += 7) {
            int x = b.getUnsignedByte(p);
            length |= (x & 0x7F) << shift;
            if ((x & 0x80) == 0) {
                return new int[]{p + 1 - at, length};
            }
        }
        return null;
    }

    /** Parts of one origin datagram, and what could not be forwarded. */
    record Result(List<Forward> parts, int droppedRecords) {
    }

    private ForwardPacker() {
    }

    /** Bytes of origin records one FORWARD with {@code hops} path entries may carry in a datagram of this size. */
    static int room(int maxDatagram, int hops) {
        return maxDatagram - ProtocolConstants.HEADER_LENGTH - ProtocolConstants.TAG_LENGTH
                - ProtocolConstants.MAX_RECORD_HEADER_LENGTH - FORWARD_FIXED - 4 * hops - LENGTH_VARINT;
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
     * with nothing to forward (a PING) still passes its sequence number on, so the server counts only real loss. A
     * record larger than a whole part (a probe groups a tick's DATA events into one record of up to a datagram) is cut
     * at its events' boundaries, found with the module's codec, into records of the same type; the event bytes stay
     * as they were. A record that cannot be cut (unknown module, one event larger than a part) is dropped and
     * counted.
     */
    static Result pack(long originProbe, long originBoot, long originSequence, long originBaseTime, long[] path,
            ByteBuf records, int maxDatagram, ModuleRegistry registry) {
        Parts out = new Parts(originProbe, originBoot, originSequence, originBaseTime, path, room(maxDatagram,
                path.length));
        int i = records.readerIndex();
        int end = records.writerIndex();
        int dropped = 0;
        try {
            while (i + ProtocolConstants.MIN_RECORD_HEADER_LENGTH <= end) {
                int module = records.getUnsignedByte(i);
                int type = records.getUnsignedByte(i + 1);
                int[] h = header(records, i, end);
                int length = h == null ? Integer.MAX_VALUE : h[0] + h[1];
                if (h == null || i + length > end) {
                    break; // the receiver already counted length_past_end; nothing after it is readable
                }
                if (forwardable(module, type)
                        && !out.add(records, i, length, module == ProtocolConstants.INTERNAL_MODULE_ID
                                && type == InternalEvents.CLOCK.code())) {
                    dropped += cut(records, i, h[0], length, registry, out);
                }
                i += length;
            }
            return new Result(out.finish(), dropped);
        } finally {
            out.part.release();
        }
    }

    /** Cuts one oversize record at its events' boundaries; returns 1 if it could not be cut (dropped), else 0. */
    private static int cut(ByteBuf records, int at, int headerLength, int length, ModuleRegistry registry,
            Parts out) {
        EventCodec<?> codec = registry == null
                ? null
                : registry.codec(records.getUnsignedByte(at), records
                        .getUnsignedByte(at + 1));
        if (codec == null) {
            return 1;
        }
        ByteBuf body = records.slice(at + headerLength, length - headerLength);
        List<Integer> bounds = new ArrayList<>();
        try {
            while (body.isReadable()) {
                codec.decode(body);
                bounds.add(body.readerIndex());
            }
        } catch (ProtocolException | RuntimeException e) {
            return 1; // the server would skip it whole as malformed: so does the relay
        }
        int limit = out.room - out.clockLength() - ProtocolConstants.MAX_RECORD_HEADER_LENGTH;
        int from = 0;
        int prev = 0;
        List<int[]> chunks = new ArrayList<>();
        for (int b : bounds) {
            if (b - from > limit) {
                if (prev == from) {
                    return 1; // one event larger than a whole part
                }
                chunks.add(new int[]{from, prev});
                from = prev;
                if (b - from > limit) {
                    return 1;
                }
            }
            prev = b;
        }
        chunks.add(new int[]{from, prev});
        ByteBuf sub = Unpooled.buffer(limit + ProtocolConstants.MAX_RECORD_HEADER_LENGTH);
        for (int[] c : chunks) {
            sub.clear();
            sub.writeByte(records.getUnsignedByte(at)).writeByte(records.getUnsignedByte(at + 1));
            Varint.write(sub, c[1] - c[0]);
            sub.writeBytes(body, c[0], c[1] - c[0]);
            out.add(sub, 0, sub.readableBytes(), false);
        }
        return 0;
    }

    /** The FORWARD parts being built for one origin datagram. */
    private static final class Parts {
        final long probe;
        final long boot;
        final long sequence;
        final long base;
        final long[] path;
        final int room;
        final List<Forward> parts = new ArrayList<>(1);
        final ByteBuf part;
        byte[] clock;

        Parts(long probe, long boot, long sequence, long base, long[] path, int room) {
            this.probe = probe;
            this.boot = boot;
            this.sequence = sequence;
            this.base = base;
            this.path = path;
            this.room = room;
            this.part = Unpooled.buffer(room);
        }

        int clockLength() {
            return clock == null ? 0 : clock.length;
        }

        /** Appends one whole record, starting a new part when needed; false if it does not fit even a new part. */
        boolean add(ByteBuf src, int at, int length, boolean isClock) {
            if (part.readableBytes() + length > room && part.readableBytes() > 0) {
                parts.add(forward(probe, boot, sequence, base, path, part));
                part.clear();
                if (clock != null && !isClock) {
                    part.writeBytes(clock); // the events of the next part keep their time
                }
            }
            if (part.readableBytes() + length > room) {
                return false;
            }
            if (isClock) {
                clock = new byte[length];
                src.getBytes(at, clock);
            }
            part.writeBytes(src, at, length);
            return true;
        }

        List<Forward> finish() {
            if (part.readableBytes() > 0 || parts.isEmpty()) {
                parts.add(forward(probe, boot, sequence, base, path, part));
            }
            return parts;
        }
    }

    private static Forward forward(long probe, long boot, long sequence, long base, long[] path, ByteBuf part) {
        byte[] b = new byte[part.readableBytes()];
        part.getBytes(part.readerIndex(), b);
        return new Forward(probe, boot, sequence, base, path, b);
    }

    /** {@code path} with {@code hop} appended. */
    static long[] append(long[] path, long hop) {
        long[] p = java.util.Arrays.copyOf(path, path.length + 1);
        p[path.length] = hop;
        return p;
    }
}
