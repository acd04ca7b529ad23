package org.glouglou.module.network.capture;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.glouglou.module.network.NetworkModule;
import org.glouglou.spi.ConfigException;
import org.glouglou.spi.ProbeSource;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.OptionSpec;

class NetworkOptionsTest {
    @Command(name = "probe")
    static final class Probe {
    }

    static CommandLine commandLine(Object opts) {
        CommandLine cl = new CommandLine(new Probe());
        cl.addMixin("network", opts);
        return cl;
    }

    @Test
    void parsesAsAMixin() {
        ProbeSource.Factory f = new NetworkModule().probeSource();
        NetworkOptions o = (NetworkOptions) f.options();
        commandLine(o).parseArgs("-i", "eth0", "-f", "udp port 53", "--snaplen", "1500", "--promisc", "--max-flows",
                "10", "--idle-tcp", "5", "--idle-udp", "6", "--idle-other", "7", "--max-names", "8");
        assertEquals("eth0", o.iface);
        assertEquals("udp port 53", o.filter);
        assertEquals(1500, o.snaplen);
        assertTrue(o.promisc);
        assertEquals(List.of(10, 5L, 6L, 7L, 8), List.of(o.maxFlows, o.idleTcp, o.idleUdp, o.idleOther, o.maxNames));
        NetworkOptions d = new NetworkOptions();
        commandLine(d).parseArgs("-r", "x.pcap", "--realtime");
        assertEquals(Path.of("x.pcap"), d.read);
        assertTrue(d.realtime);
        assertEquals(262144, d.snaplen);
    }

    @Test
    void noInterfaceNoFileMeansNoSource() throws Exception {
        assertNull(new NetworkProbeFactory().create(new NetworkOptions(), TestContext.DEFAULT));
    }

    @Test
    void badCombinationsAreOneLineConfigErrors() {
        NetworkOptions o = new NetworkOptions();
        o.iface = "lo";
        o.read = Path.of("x");
        assertThrows(ConfigException.class, () -> new NetworkProbeFactory().create(o, TestContext.DEFAULT));
        NetworkOptions f = new NetworkOptions();
        f.read = Path.of("x");
        f.filter = "tcp";
        assertThrows(ConfigException.class, () -> new NetworkProbeFactory().create(f, TestContext.DEFAULT));
        NetworkOptions r = new NetworkOptions();
        r.iface = "lo";
        r.realtime = true;
        assertThrows(ConfigException.class, () -> new NetworkProbeFactory().create(r, TestContext.DEFAULT));
    }

    @Test
    void namesDoNotClashWithTheProbesGenericOptions() {
        Set<String> generic = Set.of("--server", "--probe-id", "--secret-file", "--print", "--user", "--chroot",
                "--config", "--tick", "--max-datagram", "--plain");
        Set<String> ours = new HashSet<>();
        for (OptionSpec s : commandLine(new NetworkOptions()).getCommandSpec().options()) {
            ours.addAll(List.of(s.names()));
        }
        assertTrue(ours.contains("--interface"));
        ours.retainAll(generic);
        assertTrue(ours.isEmpty(), "clash: " + ours);
    }

    @Test
    void offlineFileWithRealtimeIsPacedAtCaptureSpeed() throws Exception {
        NetworkOptions o = new NetworkOptions();
        o.read = Path.of("src/test/resources/captures/edge_cases.pcap"); // 20 packets over 190 ms
        o.realtime = true;
        ProbeSource s = new NetworkProbeFactory().create(o, TestContext.DEFAULT);
        assertTrue(s.finite());
        s.openPrivileged();
        long t0 = System.nanoTime();
        s.run((t, e) -> {
        });
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms >= 180, "replayed in " + ms + " ms");
        assertEquals(20, s.stats().get("packets_captured"));
    }
}
