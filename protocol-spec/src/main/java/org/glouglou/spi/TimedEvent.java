package org.glouglou.spi;

/**
 * An event with the probe that observed it and when.
 *
 * @param probeId    the probe that captured it (after a relay: the original probe, never the relay)
 * @param timeMicros microseconds since the Unix epoch, as the probe's clock saw it
 */
public record TimedEvent(long probeId, long timeMicros, Event event) {
}
