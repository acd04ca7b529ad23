package org.glouglou.spi;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import org.glouglou.protocol.ProtocolException;

/**
 * Wire codec and JSON form of one event type. A record may hold several bodies of the same type back to back, so
 * {@link #decode} reads exactly one body and leaves the rest.
 */
public interface EventCodec<E extends Event> {
    EventType type();

    Class<E> eventClass();

    /** Writes one body. Must not write more than {@link #maxBodyLength()} bytes. */
    void encode(E event, ByteBuf out);

    /**
     * Reads one body from {@code in}, which holds no more than what is left of the record. Never reads past it and
     * never throws anything but {@link ProtocolException} (Jazzer checks this).
     */
    E decode(ByteBuf in) throws ProtocolException;

    /** Upper bound of one encoded body; the encoder relies on it to size datagrams. */
    int maxBodyLength();

    /** Adds this event's fields to {@code node}; {@code module}, {@code type}, {@code time} and {@code probe} are already set. */
    void writeJson(E event, ObjectNode node);

    /** Reads an event back from its JSON form (test vectors, tools). */
    E readJson(ObjectNode node);

    /** One readable line for logs and the text client; the default is the JSON fields. */
    default String toText(E event) {
        ObjectNode node = JsonForm.MAPPER.createObjectNode();
        writeJson(event, node);
        return type().name() + " " + node;
    }

    @SuppressWarnings("unchecked")
    default void encodeAny(Event event, ByteBuf out) {
        encode((E) event, out);
    }

    @SuppressWarnings("unchecked")
    default void writeJsonAny(Event event, ObjectNode node) {
        writeJson((E) event, node);
    }

    @SuppressWarnings("unchecked")
    default String toTextAny(Event event) {
        return toText((E) event);
    }
}
