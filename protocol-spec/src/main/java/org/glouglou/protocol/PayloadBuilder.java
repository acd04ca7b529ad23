package org.glouglou.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.Arrays;
import org.glouglou.protocol.crypto.SessionCipher;
import org.glouglou.protocol.internal.InternalEvents;
import org.glouglou.spi.Event;
import org.glouglou.spi.EventCodec;
import org.glouglou.spi.EventType;
import org.glouglou.spi.ModuleRegistry;

/**
 * Builds one datagram (spec 3.2): header room, then records, grouping consecutive events of one type into one
 * record, with CLOCK records where the event time moves. {@link #add} refuses an event that does not fit; the caller
 * then {@link #finish}es this datagram and starts the next. Record lengths are varints, unknown until a record is
 * closed, so bodies are gathered in a scratch buffer and the records are laid out once, in {@link #take}. Not
 * thread-safe; reusable after {@link #reset}.
 */
public final class PayloadBuilder {
    private final ModuleRegistry registry;
    private final int maxDatagram;
    private final long clockPrecisionMicros;
    /** Bodies back to back, each after a 2-byte module/type prefix; lengths are added in take(). */
    private final ByteBuf buf;
    private int[] recordStarts = new int[64];
    private int records;
    /** Bytes the records' varint lengths will take, for the records closed so far. */
    private int closedLengthBytes;

    private int events;
    private long baseTime;
    private long clock;
    private EventType openType;

    /**
     * @param maxDatagram          largest datagram, header and tag included
     * @param clockPrecisionMicros an event within this many microseconds of the current clock takes its time from
     *                             it, without a CLOCK record: 1000 keeps millisecond accuracy at little cost
     */
    public PayloadBuilder(ModuleRegistry registry, int maxDatagram, long clockPrecisionMicros) {
        if (maxDatagram < ProtocolConstants.MIN_MAX_DATAGRAM || maxDatagram > ProtocolConstants.MAX_DATAGRAM) {
            throw new IllegalArgumentException("datagram size " + maxDatagram + " is outside "
                    + ProtocolConstants.MIN_MAX_DATAGRAM + ".." + ProtocolConstants.MAX_DATAGRAM);
        }
        this.registry = registry;
        this.maxDatagram = maxDatagram;
        this.clockPrecisionMicros = clockPrecisionMicros;
        this.buf = Unpooled.buffer(maxDatagram, maxDatagram);
        reset();
    }

    public void reset() {
        buf.clear();
        buf.writerIndex(ProtocolConstants.HEADER_LENGTH);
        records = 0;
        closedLengthBytes = 0;
        events = 0;
        openType = null;
    }

    public boolean isEmpty() {
        return events == 0;
    }

    public int events() {
        return events;
    }

    public long baseTime() {
        return baseTime;
    }

    /** Bytes so far, header included, tag not. */
    public int size() {
        return buf.writerIndex() + closedLengthBytes + openLengthBytes();
    }

    private int openBodyLength() {
        return openType == null ? 0 : buf.writerIndex() - recordStarts[records - 1] - 2;
    }

    private int openLengthBytes() {
        return openType == null ? 0 : Varint.size(openBodyLength());
    }

    private int limit() {
        return maxDatagram - ProtocolConstants.TAG_LENGTH;
    }

    /** Appends an event; false if it does not fit in what is left (nothing is written then). */
    public boolean add(long timeMicros, Event event) {
        if (event instanceof InternalEvents.Clock) {
            throw new IllegalArgumentException("CLOCK records are written by the builder from event times");
        }
        EventCodec<?> codec = registry.codec(event.type());
        int mark = buf.writerIndex();
        EventType savedType = openType;
        int savedRecords = records;
        int savedClosed = closedLengthBytes;
        long savedClock = clock;
        try {
            if (events == 0) {
                baseTime = timeMicros;
                clock = timeMicros;
            } else if (Math.abs(timeMicros - clock) >= clockPrecisionMicros) {
                closeRecord();
                openRecord(InternalEvents.CLOCK);
                Varint.writeSigned(buf, timeMicros - baseTime);
                closeRecord();
                clock = timeMicros;
            }
            EventType t = event.type();
            if (t != openType || openBodyLength() + codec.maxBodyLength() > ProtocolConstants.MAX_RECORD_BODY) {
                closeRecord();
                openRecord(t);
            }
            codec.encodeAny(event, buf);
            if (size() > limit()) {
                throw new IndexOutOfBoundsException();
            }
        } catch (IndexOutOfBoundsException full) {
            buf.writerIndex(mark);
            openType = savedType;
            records = savedRecords;
            closedLengthBytes = savedClosed;
            clock = savedClock;
            if (events == 0) {
                throw new IllegalArgumentException(event.type() + " does not fit in an empty datagram of "
                        + maxDatagram + " bytes");
            }
            return false;
        }
        events++;
        return true;
    }

    private void openRecord(EventType t) {
        if (records == recordStarts.length) {
            recordStarts = Arrays.copyOf(recordStarts, records * 2);
        }
        recordStarts[records++] = buf.writerIndex();
        openType = t;
        buf.writeByte(t.moduleId());
        buf.writeByte(t.code());
    }

    private void closeRecord() {
        if (openType != null) {
            closedLengthBytes += Varint.size(openBodyLength());
            openType = null;
        }
    }

    /**
     * Writes the header and returns the datagram (a new buffer the caller owns), sealed by {@code cipher} when it is
     * not null; then resets for the next datagram.
     */
    public ByteBuf finish(long probeId, long sessionId, long sequence, SessionCipher cipher) {
        return take().toDatagram(probeId, sessionId, sequence, cipher);
    }

    /** Takes what was built as a {@link Payload}, to be sealed later, and resets. */
    public Payload take() {
        closeRecord();
        ByteBuf out = Unpooled.buffer(buf.writerIndex() - ProtocolConstants.HEADER_LENGTH + closedLengthBytes);
        for (int i = 0; i < records; i++) {
            int start = recordStarts[i];
            int end = i + 1 < records ? recordStarts[i + 1] : buf.writerIndex();
            out.writeBytes(buf, start, 2);
            Varint.write(out, end - start - 2);
            out.writeBytes(buf, start + 2, end - start - 2);
        }
        Payload p = new Payload(baseTime, Arrays.copyOf(out.array(), out.writerIndex()), events);
        reset();
        return p;
    }
}
