package org.glouglou.module.network.bench;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.glouglou.spi.TimedEvent;

/**
 * Prints the bytes on the wire per event and per flow (spec section 9) for the benchmark's connection lives and for
 * a real capture's flows, next to NetFlow v5 and IPFIX for the same flows. UDP payload bytes throughout: the IP and
 * UDP headers cost every protocol the same per datagram. DATA carries cumulative totals (spec 4.1); the rows marked
 * "+ ACK" add the acknowledgements the receiver sends back (spec 5.8, {@link FlowMix#ackBytes}).
 */
public final class WireCost {
    /** NetFlow v5: 24-byte header, 48-byte records, at most 30 records a datagram; one record per direction. */
    static final int NETFLOW5_HEADER = 24, NETFLOW5_RECORD = 48, NETFLOW5_PER_DATAGRAM = 30;
    /**
     * IPFIX data record for the template sourceIPv4Address(4) destinationIPv4Address(4) sourceTransportPort(2)
     * destinationTransportPort(2) protocolIdentifier(1) packetDeltaCount(8) octetDeltaCount(8)
     * flowStartMilliseconds(8) flowEndMilliseconds(8): 45 bytes; with IPv6 addresses (16 + 16): 69 bytes.
     */
    static final int IPFIX_V4 = 45, IPFIX_V6 = 69;
    /** RFC 5103 biflow: reversePacketDeltaCount and reverseOctetDeltaCount, 8 bytes each. */
    static final int IPFIX_REVERSE = 16;
    /** IPFIX message header 16 + data set header 4. */
    static final int IPFIX_MESSAGE_OVERHEAD = 20;
    static final byte[] KEY = new byte[32];

    private WireCost() {
    }

    /** NetFlow v5 bytes for n unidirectional records, packed 30 a datagram. */
    static double netflow5(long records) {
        long datagrams = (records + NETFLOW5_PER_DATAGRAM - 1) / NETFLOW5_PER_DATAGRAM;
        return records * NETFLOW5_RECORD + datagrams * NETFLOW5_HEADER;
    }

    /** IPFIX bytes for n records of one size, packed into 1200-byte messages (template sets not counted). */
    static double ipfix(long records, int recordSize) {
        long perMessage = (1200 - IPFIX_MESSAGE_OVERHEAD) / recordSize;
        long messages = (records + perMessage - 1) / perMessage;
        return records * recordSize + messages * IPFIX_MESSAGE_OVERHEAD;
    }

    static String line(String what, FlowMix.Cost c, long flows) {
        return String.format(Locale.ROOT, "  %-44s %8d bytes %5d datagrams %6d events  %6.2f B/event  %7.2f B/flow%s",
                what, c.bytes(), c.datagrams(), c.events(), (double) c.bytes() / c.events(), (double) c.bytes()
                        / flows,
                c.ackBytes() == 0
                        ? ""
                        : String.format(Locale.ROOT, "  (ACK %d bytes, %.2f B/flow)", c.ackBytes(),
                                (double) c.ackBytes() / flows));
    }

    /** NEWCONN, DATA and DELCONN events of the real network pipeline over a capture file. */
    static List<TimedEvent> probeFlowEvents(Path pcap) throws Exception {
        List<TimedEvent> out = new java.util.ArrayList<>();
        org.glouglou.module.network.capture.NetworkOptions o = new org.glouglou.module.network.capture.NetworkOptions();
        o.read = pcap;
        org.glouglou.spi.ProbeSource src = new org.glouglou.module.network.capture.NetworkProbeFactory().create(o,
                new org.glouglou.spi.ProbeSource.Context() {
                    @Override
                    public List<java.net.InetSocketAddress> exportDestinations() {
                        return List.of();
                    }

                    @Override
                    public int tickMillis() {
                        return 100;
                    }
                });
        src.openPrivileged();
        src.run((t, e) -> {
            String type = e.type().name();
            if (type.equals("NEWCONN") || type.equals("DATA") || type.equals("DELCONN")) {
                out.add(new TimedEvent(1, t, e));
            }
        });
        return out;
    }

    public static void main(String[] args) throws Exception {
        Path tsv = Path.of(args.length > 0
                ? args[0]
                : System.getProperty("glouglou.pcaps", "../shared/pcaps")
                        + "/groundtruth/web_browsing__ntopng-e2e_test_01.flows.tsv");
        System.out.println("glouglou v3 wire cost (UDP payload; header 26, tag 16, datagrams of at most 1200 bytes)");
        for (boolean v6 : new boolean[]{false, true}) {
            List<TimedEvent> lives = FlowMix.connectionLives(100, 8, v6, 1_700_000_000_000_000L);
            System.out.println("connection lives, " + (v6 ? "IPv6" : "IPv4")
                    + ": 100 flows x (NEWCONN, 8 DATA, DELCONN)");
            System.out.println(line("plain, packed", FlowMix.cost(lives, null, false), 100));
            System.out.println(line("sealed, packed", FlowMix.cost(lives, KEY, false), 100));
        }
        List<FlowMix.Flow> flows = FlowMix.readTsv(tsv);
        long n = flows.size();
        long v6 = flows.stream().filter(f -> f.a().getAddress().length == 16).count();
        System.out
                .println("capture " + tsv.getFileName() + ": " + n + " flows (" + v6 + " IPv6), DATA per 100 ms tick");
        List<TimedEvent> ev = FlowMix.events(flows, 1);
        FlowMix.Cost packed = FlowMix.cost(ev, KEY, false);
        FlowMix.Cost ticked = FlowMix.cost(ev, KEY, true);
        System.out.println(line("sealed, packed (conn ids from 1)", packed, n));
        System.out.println(line("  + ACK", FlowMix.costWithAcks(ev, KEY, false), n));
        System.out.println(line("sealed, packed (conn ids from 2^21: 4 bytes)", FlowMix.cost(FlowMix.events(flows,
                1L << 21), KEY, false), n));
        System.out.println(line("sealed, one datagram per tick at least", ticked, n));
        System.out.println(line("sealed, packed, closing tick's DATA folded", FlowMix.cost(FlowMix.events(flows, 1,
                true), KEY, false), n));
        System.out.println(line("plain, packed", FlowMix.cost(ev, null, false), n));
        long v4 = n - v6;
        // the real thing: the probe's own pipeline on the capture, only its flow events (NAME and TRACE left out, as
        // NetFlow and IPFIX have no such records)
        Path pcap = Path.of(tsv.toString().replace("/groundtruth/", "/").replace(".flows.tsv", ".pcap"));
        if (java.nio.file.Files.exists(pcap)) {
            List<TimedEvent> real = probeFlowEvents(pcap);
            System.out.println(line("sealed, packed, the probe's own events", FlowMix.cost(real, KEY, false), n));
            System.out.println(line("  + ACK", FlowMix.costWithAcks(real, KEY, false), n));
            System.out.println(line("sealed, one datagram per tick, probe's events", FlowMix.cost(real, KEY, true),
                    n));
            System.out.println(line("  + ACK", FlowMix.costWithAcks(real, KEY, true), n));
        }
        System.out.println("same flows in other formats (one record per flow and direction, at flow end):");
        System.out.printf(Locale.ROOT, "  %-44s %8.0f bytes  %7.2f B/flow%n",
                "NetFlow v5, 2 records a flow (IPv4 only)",
                netflow5(2 * n), netflow5(2 * n) / n);
        System.out.printf(Locale.ROOT, "  %-44s %8.0f bytes  %7.2f B/flow%n", "NetFlow v5, 1 record a flow",
                netflow5(n),
                netflow5(n) / n);
        double ipfixUni = ipfix(2 * v4, IPFIX_V4) + ipfix(2 * v6, IPFIX_V6);
        double ipfixBi = ipfix(v4, IPFIX_V4 + IPFIX_REVERSE) + ipfix(v6, IPFIX_V6 + IPFIX_REVERSE);
        System.out.printf(Locale.ROOT, "  %-44s %8.0f bytes  %7.2f B/flow%n", "IPFIX 45/69-byte records, 2 a flow",
                ipfixUni, ipfixUni / n);
        System.out.printf(Locale.ROOT, "  %-44s %8.0f bytes  %7.2f B/flow%n",
                "IPFIX biflow (RFC 5103) 61/85 bytes, 1 a flow",
                ipfixBi, ipfixBi / n);
        long data = ev.stream().filter(e -> e.event().type().name().equals("DATA")).count();
        System.out.printf(Locale.ROOT, "  mix: %.2f DATA events a flow%n", (double) data / n);
    }
}
