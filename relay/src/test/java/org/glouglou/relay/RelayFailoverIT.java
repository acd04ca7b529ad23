package org.glouglou.relay;

import static org.glouglou.relay.RelayTestNet.identity;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lettuce.core.api.sync.RedisCommands;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.glouglou.protocol.ProtocolConstants;
import org.glouglou.protocol.internal.InternalEvents;
import org.glouglou.protocol.session.ProbeSession;
import org.glouglou.protocol.transport.ExportPipeline;
import org.glouglou.protocol.transport.Uplink;
import org.glouglou.relay.RelayTestNet.Identity;
import org.glouglou.server.GlouglouServer;
import org.glouglou.server.ingest.ProbeStream;
import org.glouglou.spi.testkit.RedisServerProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * probe -> relay 1 -> {relay 2a, relay 2b} -> server (spec 5.6, 5.8). Relay 2a is killed: relay 1 switches to 2b within
 * 2 s, sends 2b every origin payload not yet durable, the probe's session goes on, and every payload the probe emitted
 * ends acknowledged durable at the probe (nothing lost, whatever went into the dead relay); origin sequence numbers
 * are end to end, so any datagram lost for good (an empty one: a PING) is counted at the server, never hidden; relay
 * 1's STATS at the server show the failover within 3 s.
 */
class RelayFailoverIT {
    @RegisterExtension
    static final RedisServerProcess REDIS = new RedisServerProcess();

    static final Identity PROBE = identity(7, "captor");
    static final Identity R1 = identity(101, "site-relay");
    static final Identity R2A = identity(201, "dmz-a");
    static final Identity R2B = identity(202, "dmz-b");

    @Test
    void killingTheFirstUpstreamSwitchesToTheSecondWithinTwoSecondsAndNothingIsLost() throws Exception {
        RedisCommands<String, String> r = REDIS.sync();
        r.flushall();
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
        try (GlouglouServer server = RelayTestNet.server(REDIS.uri(), List.of(PROBE, R1, R2A, R2B));
                Relay r2b = RelayTestNet.relay(R2B, List.of(R1), 4096, server.udpAddress())) {
            Relay r2a = RelayTestNet.relay(R2A, List.of(R1), 4096, server.udpAddress());
            try (Relay r1 = RelayTestNet.relay(R1, List.of(PROBE), 4096, r2a.address(), r2b.address())) {
                // a probe sending a small datagram every 5 ms (200/s)
                ExportPipeline pipeline = new ExportPipeline(RelayTestNet.REGISTRY,
                        ProtocolConstants.DEFAULT_MAX_DATAGRAM, 1024, false);
                ProbeSession session = new ProbeSession(RelayTestNet.REGISTRY, PROBE.id(), PROBE.secret(), "captor",
                        "test", false);
                try (Uplink probe = new Uplink(List.of(r1.address()), session, RelayTestNet.REGISTRY, pipeline,
                        Uplink.Config.defaults())) {
                    probe.start();
                    assertTrue(RelayTestNet.waitFor(() -> probe.established() && r1.uplink().established() && r2a
                            .uplink().established() && r2b.uplink().established(), 10_000));
                    long[] n = new long[1];
                    timer.scheduleAtFixedRate(() -> {
                        pipeline.emit(System.currentTimeMillis() * 1000, new InternalEvents.Stats(Map.of("n",
                                ++n[0])));
                        pipeline.flush();
                    }, 5, 5, TimeUnit.MILLISECONDS);
                    assertTrue(RelayTestNet.waitFor(() -> origin(server) != null && origin(server).path().equals(
                            "101,201"), 5000), "events first go through relay 2a");
                    long before = n[0];
                    assertTrue(RelayTestNet.waitFor(() -> n[0] > before + 100, 5000), "the probe emits");

                    long killed = System.currentTimeMillis();
                    r2a.close(); // a crash: its socket is gone, nothing more is sent
                    assertTrue(RelayTestNet.waitFor(() -> origin(server).path().equals("101,202"), 5000),
                            "events go through relay 2b");
                    long switched = System.currentTimeMillis() - killed;
                    assertTrue(RelayTestNet.waitFor(() -> "1".equals(r.hget("gg:probe:101", "stat.failovers")),
                            3000), "relay 1's STATS show the failover within 3 s");
                    long statsAfter = System.currentTimeMillis() - killed;
                    timer.shutdownNow();
                    long emitted = n[0];
                    assertTrue(RelayTestNet.waitFor(() -> probe.unacknowledged() == 0, 10_000), probe
                            .unacknowledged() + " of the probe's payloads never acknowledged durable");
                    long sent = session.sequence();
                    assertTrue(RelayTestNet.waitFor(() -> origin(server).datagrams() + origin(server).lost() >= sent,
                            5000), "every origin datagram is either received or counted as lost");
                    ProbeStream o = origin(server);
                    System.out.printf("failover after %d ms, relay STATS after %d ms; origin emitted %d, sent %d"
                            + " datagrams, received %d, lost %d; probe resent %d; relay 1 %s%n", switched, statsAfter,
                            emitted, sent, o.datagrams(), o.lost(), probe.resendBuffer().resent(), r1.counters());
                    assertTrue(switched < 2000, "switched after " + switched + " ms");
                    assertTrue(RelayTestNet.waitFor(() -> String.valueOf(emitted).equals(r.hget("gg:probe:7",
                            "stat.n")), 3000), "the last STATS arrived: " + r.hget("gg:probe:7", "stat.n"));
                    assertEquals(1, r1.uplink().failovers());
                    assertTrue(RelayTestNet.waitFor(() -> String.valueOf(origin(server).lost()).equals(r.hget(
                            "gg:probe:7", "lost")), 3000), "the loss is in gg:probe:7");
                    assertEquals("101,202", r.hget("gg:probe:7", "path"));
                }
            }
        } finally {
            timer.shutdownNow();
        }
    }

    static ProbeStream origin(GlouglouServer s) {
        return s.core().stream(PROBE.id());
    }
}
