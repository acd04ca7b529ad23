package org.glouglou.probe;

import java.nio.file.Path;
import org.glouglou.platform.Privileges;
import org.glouglou.spi.ConfigException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The probe's privilege drop: after the capture handles and the socket are open, and before the first untrusted
 * packet is read (OpenBSD privsep order). Started unprivileged (for instance with CAP_NET_RAW only), there is nothing
 * to drop.
 */
final class PrivilegeDrop {
    private static final Logger LOG = LoggerFactory.getLogger(PrivilegeDrop.class);

    private PrivilegeDrop() {
    }

    static void apply(String user, Path chroot) throws ConfigException {
        if (!Privileges.isRoot()) {
            if (chroot != null) {
                throw new ConfigException("--chroot needs the probe to start as root");
            }
            return;
        }
        LOG.info("dropped privileges: {}", Privileges.drop(user, chroot));
    }
}
