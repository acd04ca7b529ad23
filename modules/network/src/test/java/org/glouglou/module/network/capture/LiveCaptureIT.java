package org.glouglou.module.network.capture;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.*;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.glouglou.module.network.NetworkEvents.DelConn;
import org.glouglou.module.network.NetworkEvents.NewConn;
import org.glouglou.spi.ConfigException;
import org.glouglou.spi.Event;
import org.glouglou.spi.ProbeSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Live capture on the loopback interface through libpcap: needs root (or CAP_NET_RAW) and libpcap installed. */
class LiveCaptureIT {
    @BeforeAll
    static void needsRootAndLibpcap() throws Exception {
        String uid = Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("Uid:"))
                .findFirst().orElse("Uid: -1").split("\\s+")[1];
        assumeTrue(uid.equals("0"), "live capture test skipped: not running as root (uid " + uid + ")");
        try {
            org.pcap4j.core.Pcaps.libVersion();
        } catch (Throwable t) {
            assumeTrue(false, "live capture test skipped: libpcap not loadable (" + t + ")");
        }
    }

    static ProbeSource open(String iface, String filter, List<InetSocketAddress> exports) throws Exception {
        NetworkOptions o = new NetworkOptions();
        o.iface = iface;
        o.filter = filter;
        ProbeSource s = new NetworkProbeFactory().create(o, new TestContext(exports, 100));
        s.openPrivileged();
        return s;
    }

    /** lo has Ethernet framing, any the Linux cooked header: both decoders run live. */
    @ParameterizedTest
    @ValueSource(strings = {"lo", "any"})
    void seesUdpFlowOnLoopbackAndNotTheExportTraffic(String iface) throws Exception {
        try (DatagramSocket rx = new DatagramSocket(0, InetAddress.getLoopbackAddress());
                DatagramSocket tx = new DatagramSocket(0, InetAddress.getLoopbackAddress());
                DatagramSocket export = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            int port = rx.getLocalPort();
            InetSocketAddress exportTo = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
            // the export destination is another socket: its traffic must be invisible
            InetSocketAddress exportDest = new InetSocketAddress(InetAddress.getLoopbackAddress(), export
                    .getLocalPort());
            // other users of this machine send on lo too: the filter keeps only this test's sockets
            ProbeSource s = open(iface, "udp and host 127.0.0.1 and (port " + port + " or port " + export
                    .getLocalPort() + ")", List.of(exportDest));
            List<Event> ev = new CopyOnWriteArrayList<>();
            Thread t = new Thread(() -> {
                try {
                    s.run((ts, e) -> ev.add(e));
                } catch (Exception e) {
                    ev.add(null);
                }
            });
            t.start();
            Thread.sleep(300); // the handle is open; let run() reach its read loop
            for (int i = 0; i < 5; i++) {
                tx.send(new DatagramPacket(new byte[100], 100, exportTo));
                tx.send(new DatagramPacket(new byte[50], 50, exportDest));
            }
            long deadline = System.currentTimeMillis() + 5000;
            while (System.currentTimeMillis() < deadline && ev.stream().noneMatch(e -> e instanceof NewConn)) {
                Thread.sleep(50);
            }
            Thread.sleep(300);
            s.stop();
            t.join(5000);
            assertFalse(t.isAlive(), "run() did not return after stop()");
            List<NewConn> conns = ev.stream().filter(e -> e instanceof NewConn).map(e -> (NewConn) e).toList();
            assertEquals(1, conns.size(), "flows seen: " + conns);
            assertEquals(port, conns.get(0).flow().dport());
            DelConn d = ev.stream().filter(e -> e instanceof DelConn).map(e -> (DelConn) e).findFirst().orElseThrow();
            assertEquals(5, d.srcPkts());
            assertEquals(5 * (20 + 8 + 100), d.srcBytes());
            assertEquals(5, s.stats().get("export_excluded"));
            assertTrue(s.stats().containsKey("kernel_dropped"));
            assertEquals(10, s.stats().get("packets_captured"));
        }
    }

    @Test
    void unknownInterfaceListsTheAvailableOnes() {
        ConfigException e = assertThrows(ConfigException.class, () -> open("nosuch0", null, List.of()));
        assertTrue(e.getMessage().startsWith("no capture interface named nosuch0; available: "), e.getMessage());
        assertTrue(e.getMessage().contains("lo"), e.getMessage());
    }

    @Test
    void badFilterGivesTheLibpcapMessage() {
        ConfigException e = assertThrows(ConfigException.class, () -> open("lo", "udp and and", List.of()));
        assertTrue(e.getMessage().startsWith("bad capture filter \"udp and and\": "), e.getMessage());
        assertTrue(e.getMessage().contains("syntax error"), e.getMessage());
    }
}
