package org.glouglou.spi;

/** Where a probe source puts its events. Implementations never block the caller: they coalesce, then drop and count. */
@FunctionalInterface
public interface EventSink {
    void emit(long timeMicros, Event event);
}
