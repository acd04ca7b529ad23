package org.glouglou.module.network.capture;

import org.glouglou.module.network.flow.FlowConfig;
import org.glouglou.spi.ConfigException;
import org.glouglou.spi.ProbeSource;

/** Creates the network module's probe source from {@link NetworkOptions}: a live interface or a capture file. */
public final class NetworkProbeFactory implements ProbeSource.Factory {
    @Override
    public Object options() {
        return new NetworkOptions();
    }

    @Override
    public ProbeSource create(Object options, ProbeSource.Context context) throws ConfigException {
        NetworkOptions o = (NetworkOptions) options;
        if (o.iface == null && o.read == null) {
            return null;
        }
        if (o.iface != null && o.read != null) {
            throw new ConfigException("network: give either --interface or --read, not both");
        }
        if (o.snaplen < 64 || o.snaplen > 262144) {
            throw new ConfigException("network: --snaplen " + o.snaplen + " is outside 64..262144");
        }
        if (o.maxFlows < 1 || o.maxNames < 1) {
            throw new ConfigException("network: --max-flows and --max-names must be at least 1");
        }
        if (o.idleTcp < 1 || o.idleUdp < 1 || o.idleOther < 1) {
            throw new ConfigException("network: idle timeouts must be at least 1 second");
        }
        if (o.read != null && o.filter != null) {
            throw new ConfigException("network: --filter applies to live capture; filter a file with tcpdump -r IN -w"
                    + " OUT 'FILTER' first");
        }
        if (o.realtime && o.read == null) {
            throw new ConfigException("network: --realtime paces a file given with --read");
        }
        int tick = context.tickMillis() > 0 ? context.tickMillis() : (int) (FlowConfig.DEFAULT_TICK / 1000);
        FlowConfig cfg = FlowConfig.defaults().withTick(tick * 1000L).withMaxFlows(o.maxFlows)
                .withIdle(o.idleTcp * 1_000_000L, o.idleUdp * 1_000_000L, o.idleOther * 1_000_000L);
        return new NetworkProbeSource(o, cfg, context.exportDestinations(), context::backlog);
    }
}
