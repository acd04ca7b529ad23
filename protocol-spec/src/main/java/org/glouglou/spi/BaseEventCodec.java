package org.glouglou.spi;

/** Holds what every codec repeats: its type, its event class and its bound. */
public abstract class BaseEventCodec<E extends Event> implements EventCodec<E> {
    private final EventType type;
    private final Class<E> eventClass;
    private final int maxBodyLength;

    protected BaseEventCodec(EventType type, Class<E> eventClass, int maxBodyLength) {
        this.type = type;
        this.eventClass = eventClass;
        this.maxBodyLength = maxBodyLength;
    }

    @Override
    public final EventType type() {
        return type;
    }

    @Override
    public final Class<E> eventClass() {
        return eventClass;
    }

    @Override
    public final int maxBodyLength() {
        return maxBodyLength;
    }
}
