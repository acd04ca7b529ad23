package org.glouglou.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.glouglou.protocol.crypto.SessionCipher;
import org.glouglou.protocol.internal.InternalEvents;
import org.glouglou.spi.Event;
import org.glouglou.spi.EventCodec;
import org.glouglou.spi.EventType;
import org.glouglou.spi.ModuleRegistry;

/**
 * Builds one datagram (spec 3.2): header room, then records, grouping consecutive events of one type into one
 * record, with CLOCK records where the event time moves. {@link #add} refuses an event that does not fit; the caller
 * then {@link #finish}es this datagram and starts the next. Not thread-safe; reusable after {@link #reset}.
 */
public final class PayloadBuilder {
    private final ModuleRegistry registry;
    private final int maxDatagram;
    private final long clockPrecisionMicros;
    private final ByteBuf buf;

    private int events;
    private long baseTime;
    private long clock;
    private EventType openType;
    private int openRecordStart = -1;

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
        events = 0;
        openType = null;
        openRecordStart = -1;
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
        return buf.writerIndex();
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
        int savedRecord = openRecordStart;
        long savedClock = clock;
        try {
            if (events == 0) {
                baseTime = timeMicros;
                clock = timeMicros;
            } else if (Math.abs(timeMicros - clock) >= clockPrecisionMicros) {
                closeRecord();
                writeRecordHeader(InternalEvents.CLOCK);
                Varint.writeSigned(buf, timeMicros - baseTime);
                closeRecord();
                clock = timeMicros;
            }
            EventType t = event.type();
            if (t != openType || buf.writerIndex() - openRecordStart - ProtocolConstants.RECORD_HEADER_LENGTH
                    + codec.maxBodyLength() > ProtocolConstants.MAX_RECORD_BODY) {
                closeRecord();
                writeRecordHeader(t);
            }
            codec.encodeAny(event, buf);
            if (buf.writerIndex() > limit()) {
                throw new IndexOutOfBoundsException();
            }
        } catch (IndexOutOfBoundsException full) {
            buf.writerIndex(mark);
            openType = savedType;
            openRecordStart = savedRecord;
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

    private void writeRecordHeader(EventType t) {
        if (buf.writerIndex() + ProtocolConstants.RECORD_HEADER_LENGTH > limit()) {
            throw new IndexOutOfBoundsException();
        }
        openRecordStart = buf.writerIndex();
        openType = t;
        buf.writeByte(t.moduleId());
        buf.writeByte(t.code());
        buf.writeShort(0); // length, patched by closeRecord
    }

    private void closeRecord() {
        if (openType != null) {
            buf.setShort(openRecordStart + 2, buf.writerIndex() - openRecordStart
                    - ProtocolConstants.RECORD_HEADER_LENGTH);
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
        byte[] records = new byte[buf.writerIndex() - ProtocolConstants.HEADER_LENGTH];
        buf.getBytes(ProtocolConstants.HEADER_LENGTH, records);
        Payload p = new Payload(baseTime, records, events);
        reset();
        return p;
    }

}
