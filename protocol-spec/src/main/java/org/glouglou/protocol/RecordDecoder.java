package org.glouglou.protocol;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;
import org.glouglou.protocol.internal.InternalEvents;
import org.glouglou.spi.Event;
import org.glouglou.spi.EventCodec;
import org.glouglou.spi.ModuleRegistry;

/**
 * Reads the records of a payload (spec 3.2 and 3.3). Records of unknown modules or types are skipped by their length
 * and reported; a record whose body does not decode is skipped whole (none of its events is delivered) and the
 * following records are still read. A length running past the end stops the payload. Never throws.
 */
public final class RecordDecoder {
    /** Receives what a payload holds, in order. */
    public interface Listener {
        void onEvent(long timeMicros, Event event);

        /** A record (or the rest of the payload, for {@link DropReason#LENGTH_PAST_END}) was skipped. */
        void onSkipped(DropReason reason, String detail);
    }

    private final ModuleRegistry registry;

    public RecordDecoder(ModuleRegistry registry) {
        this.registry = registry;
    }

    public ModuleRegistry registry() {
        return registry;
    }

    /**
     * Decodes the readable bytes of {@code payload}.
     *
     * @return the number of events delivered
     */
    public int decode(ByteBuf payload, long baseTimeMicros, Listener listener) {
        long clock = baseTimeMicros;
        int delivered = 0;
        List<Event> batch = new ArrayList<>();
        while (payload.isReadable()) {
            if (payload.readableBytes() < ProtocolConstants.MIN_RECORD_HEADER_LENGTH) {
                listener.onSkipped(DropReason.LENGTH_PAST_END, payload.readableBytes()
                        + " trailing bytes are less than a record header");
                payload.skipBytes(payload.readableBytes());
                break;
            }
            int module = payload.readUnsignedByte();
            int type = payload.readUnsignedByte();
            int length;
            try {
                length = Varint.readBounded(payload, ProtocolConstants.MAX_RECORD_BODY, "record length");
            } catch (ProtocolException e) {
                listener.onSkipped(DropReason.LENGTH_PAST_END, "record " + module + "/" + type + ": "
                        + e.getMessage());
                payload.skipBytes(payload.readableBytes());
                break;
            }
            if (length > payload.readableBytes()) {
                listener.onSkipped(DropReason.LENGTH_PAST_END, "record " + module + "/" + type + " of " + length
                        + " bytes, " + payload.readableBytes() + " left");
                payload.skipBytes(payload.readableBytes());
                break;
            }
            ByteBuf body = payload.readSlice(length);
            EventCodec<?> codec = registry.codec(module, type);
            if (codec == null) {
                boolean knownModule = registry.module(module) != null;
                listener.onSkipped(knownModule ? DropReason.UNKNOWN_TYPE : DropReason.UNKNOWN_MODULE,
                        "record " + module + "/" + type + " (" + length + " bytes)");
                continue;
            }
            if (length == 0) {
                listener.onSkipped(DropReason.MALFORMED_RECORD, "empty " + codec.type().name() + " record");
                continue;
            }
            batch.clear();
            try {
                while (body.isReadable()) {
                    batch.add(codec.decode(body));
                }
            } catch (ProtocolException e) {
                listener.onSkipped(DropReason.MALFORMED_RECORD, codec.type().name() + ": " + e.getMessage());
                continue;
            } catch (RuntimeException e) {
                // a module's codec must throw only ProtocolException; if it does not, the record is still just skipped
                listener.onSkipped(DropReason.MALFORMED_RECORD, codec.type().name() + ": " + e);
                continue;
            }
            for (Event e : batch) {
                if (e instanceof InternalEvents.Clock c) {
                    clock = baseTimeMicros + c.offsetMicros();
                } else {
                    listener.onEvent(clock, e);
                    delivered++;
                }
            }
        }
        return delivered;
    }
}
