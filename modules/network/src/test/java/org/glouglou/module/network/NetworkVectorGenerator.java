package org.glouglou.module.network;

import static org.glouglou.module.network.NetworkEvents.*;

import java.net.InetAddress;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.glouglou.spi.ModuleRegistry;
import org.glouglou.spi.TimedEvent;
import org.glouglou.spi.testkit.VectorFile;

/**
 * Writes the network module's test vectors (spec 4.1, appendix A) to src/test/resources/vectors. Run when the
 * module's wire format changes, review the diff, commit.
 */
public final class NetworkVectorGenerator {
    static final long T0 = 1_763_683_200_000_000L;
    static final long PROBE = 7;

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 ? args[0] : "src/test/resources/vectors");
        ModuleRegistry r = new ModuleRegistry(List.of(new NetworkModule()));
        InetAddress a4 = InetAddress.getByName("192.0.2.1");
        InetAddress b4 = InetAddress.getByName("198.51.100.7");
        InetAddress a6 = InetAddress.getByName("2001:db8::1");
        InetAddress b6 = InetAddress.getByName("2001:db8:ffff::443");
        FlowKey tcp4 = new FlowKey(6, a4, 51000, b4, 443);
        FlowKey udp6 = new FlowKey(17, a6, 53124, b6, 443);

        VectorFile life = new VectorFile(r, "A TCP flow's life over IPv4 and a UDP flow over IPv6: NEWCONN, DATA per"
                + " tick, DELCONN with totals (spec 4.1).", null);
        life.good("two NEWCONN in one record", PROBE, 1, 1, List.of(new TimedEvent(PROBE, T0, new NewConn(1, tcp4)),
                new TimedEvent(PROBE, T0, new NewConn(2, udp6))));
        life.good("DATA for both flows in one tick, one record", PROBE, 1, 2, List.of(new TimedEvent(PROBE, T0
                + 100_000, new Data(1, 3, 180, 2, 3000, null)), new TimedEvent(PROBE, T0 + 100_000,
                        new Data(2, 10,
                                12000, 8, 1400, null))));
        life.good("DELCONN by FIN and at end of capture", PROBE, 1, 3, List.of(new TimedEvent(PROBE, T0 + 250_000,
                new DelConn(1, Reason.FIN, 6, 400, 5, 4200, null)),
                new TimedEvent(PROBE, T0 + 900_000, new DelConn(2,
                        Reason.END, 10, 12000, 8, 1400, null))));
        life.write(dir.resolve("flow-life.json"));

        VectorFile names = new VectorFile(r, "NAME from DNS answers and TRACE from TTLs (spec 4.1).", null);
        names.good("A answer, CNAME chain, AAAA, PTR", PROBE, 1, 4, List.of(new TimedEvent(PROBE, T0, new Name(b4,
                "www.example.org", NameSource.DNS_CNAME, 300)), new TimedEvent(PROBE, T0,
                        new Name(b4,
                                "edge.example.net", NameSource.DNS_A, 60)),
                new TimedEvent(PROBE, T0, new Name(b6, "example.org",
                        NameSource.DNS_AAAA, 3600)),
                new TimedEvent(PROBE, T0, new Name(a4, "host1.example.com",
                        NameSource.DNS_PTR, 86400))));
        names.good("TRACE by TTL estimate, and one with a path", PROBE, 1, 5, List.of(new TimedEvent(PROBE, T0,
                new Trace(b4, 11, TraceMethod.TTL_ESTIMATE, List.of())),
                new TimedEvent(PROBE, T0, new Trace(b6, 2,
                        TraceMethod.TRACEROUTE, List.of(a6, b6)))));
        names.write(dir.resolve("names-traces.json"));

        VectorFile bad = new VectorFile(r, "Malformed network records: skipped whole, the next record still read.",
                null);
        byte[] ok = bad.encode(PROBE, 1, 6, List.of(new TimedEvent(PROBE, T0, new NewConn(1, tcp4)), new TimedEvent(
                PROBE, T0, new Data(1, 1, 60, 0, 0, null))));
        byte[] fam = ok.clone();
        fam[26 + 3 + 1 + 1] = 5; // NEWCONN: conn(1) proto(1) family
        bad.partial("NEWCONN with address family 5", fam, PROBE, List.of(new TimedEvent(PROBE, T0, new Data(1, 1, 60,
                0, 0, null))), List.of("malformed_record"));
        byte[] del = bad.encode(PROBE, 1, 7, List.of(new TimedEvent(PROBE, T0, new DelConn(1, Reason.RST, 1, 40, 1,
                40, null)), new TimedEvent(PROBE, T0, new NewConn(2, tcp4))));
        byte[] reason = del.clone();
        reason[26 + 3 + 1] = 9;
        bad.partial("DELCONN with unknown reason 9", reason, PROBE, List.of(new TimedEvent(PROBE, T0, new NewConn(2,
                tcp4))), List.of("malformed_record"));
        byte[] cut = Arrays.copyOf(ok, ok.length - 1);
        // keep the framing intact: the DATA record (after the 18-byte NEWCONN record) declares one byte less
        cut[26 + 3 + 15 + 2] = (byte) (cut[26 + 3 + 15 + 2] - 1);
        bad.partial("DATA record one byte short: its last varint is cut", cut, PROBE, List.of(new TimedEvent(PROBE,
                T0, new NewConn(1, tcp4))), List.of("malformed_record"));
        bad.write(dir.resolve("malformed.json"));
    }
}
