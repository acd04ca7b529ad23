package org.glouglou.spi.server;

/**
 * One established probe session as a module's server side sees it (issue 4). The core makes one per session and
 * module; {@link #state()} is what the module's {@link ServerSide#openSession} returned for it.
 */
public interface ProbeContext {
    /** The probe's id in the secrets file. */
    long probeId();

    /** The session id, unique per probe while the session lives. */
    long sessionId();

    /** The probe's name from the receiver's secrets file (never the name the probe claims). */
    String probeName();

    /** This module's state for this session, or null. */
    Object state();
}
