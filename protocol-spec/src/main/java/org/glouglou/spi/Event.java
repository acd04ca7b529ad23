package org.glouglou.spi;

/** An event a module defines. Implementations are immutable records; {@link #type()} is a constant per class. */
public interface Event {
    EventType type();
}
