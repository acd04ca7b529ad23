package org.glouglou.spi.server;

/**
 * One run of a probe (its boot, spec 5.8) as a module's server side sees it: the state of a probe's events belongs
 * to (probe id, boot), whichever session, relay or failover brought them. The core makes one per boot and module;
 * {@link #state()} is what the module's {@link ServerSide#openStream} returned for it.
 */
public interface ProbeContext {
    /** The probe's id in the secrets file. */
    long probeId();

    /**
     * The probe's boot (from its HELLO, or from the FORWARD that carried its events): with the probe id, what names
     * its connection ids and sequence numbers across sessions and receivers.
     */
    long boot();

    /** The probe's name from the receiver's secrets file (never the name the probe claims). */
    String probeName();

    /** This module's state for this boot, or null. */
    Object state();

    /**
     * The event being handled cannot be applied now (it needs state the server is still fetching, e.g. a connection
     * whose start another server took): its datagram is not acknowledged, so the probe sends it again, by which time
     * the state is there. Whatever the module already wrote for the event stays (writes are idempotent). Only valid
     * during {@link ServerSide#onEvent}.
     *
     * @param reason a stable lower-case label, counted by the core
     */
    void retryLater(String reason);
}
