package org.glouglou.module.network.capture;

import java.net.InetSocketAddress;
import java.util.List;
import org.glouglou.spi.ProbeSource;

/** A probe context for tests: no export destinations unless given, the default 100 ms tick. */
record TestContext(List<InetSocketAddress> exportDestinations, int tickMillis) implements ProbeSource.Context {
    static final TestContext DEFAULT = new TestContext(List.of(), 100);
}
