package org.glouglou.module.network.bench;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.glouglou.spi.TimedEvent;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Wire cost of spec section 9: a flow's whole life in fewer bytes than one NetFlow v5 record (48.8 with its header
 * share), measured on the probe's own events for the reference capture with cumulative DATA (spec 4.1) and the
 * acknowledgements coming back (spec 5.8): 47.5 bytes a flow, sealed, datagrams filled, under the goal of 48. The
 * bounds hold what v3 reaches, so that a codec, flow-table or acknowledgement change that costs bytes fails here.
 */
class WireCostTest {
    static final Path TSV = Path.of(System.getProperty("glouglou.pcaps", "../../../shared/pcaps"),
            "groundtruth/web_browsing__ntopng-e2e_test_01.flows.tsv");

    @Test
    void aRealCapturesFlowsCostLessThanTheTwoNetflowV5RecordsOfABidirectionalFlow() throws Exception {
        Assumptions.assumeTrue(Files.exists(TSV), "ground truth not found: " + TSV);
        List<FlowMix.Flow> flows = FlowMix.readTsv(TSV);
        assertEquals(177, flows.size());
        double perFlow = FlowMix.cost(FlowMix.events(flows, 1), WireCost.KEY, false).bytes() / 177.0;
        // measured 60.3 with 3.1 cumulative DATA a flow (a simulation with a DATA in the closing tick too): 61 guards
        // it
        assertTrue(perFlow < 61, perFlow + " bytes a flow, sealed");
        assertTrue(perFlow < WireCost.netflow5(2 * 177) / 177, "NetFlow v5 needs a record per direction");
        double folded = FlowMix.cost(FlowMix.events(flows, 1, true), WireCost.KEY, false).bytes() / 177.0;
        assertTrue(folded < perFlow, "folding the closing tick's DATA saves bytes");
    }

    @Test
    void theProbesOwnFlowEventsCostLessThanOneNetflowV5RecordAFlow() throws Exception {
        Path pcap = TSV.getParent().getParent().resolve("web_browsing__ntopng-e2e_test_01.pcap");
        Assumptions.assumeTrue(Files.exists(pcap), "capture not found: " + pcap);
        List<TimedEvent> events = WireCost.probeFlowEvents(pcap);
        assertEquals(177, events.stream().filter(e -> e.event().type().name().equals("DELCONN")).count());
        FlowMix.Cost c = FlowMix.costWithAcks(events, WireCost.KEY, false);
        double perFlow = c.bytes() / 177.0;
        assertTrue(c.ackBytes() > 0, "the ACKs are counted");
        assertTrue(perFlow < 48, perFlow + " bytes a flow, sealed, ACKs included: the goal is under 48");
        assertTrue(perFlow < WireCost.netflow5(177) / 177, perFlow + " bytes a flow, sealed; NetFlow v5 needs "
                + WireCost.netflow5(177) / 177 + " for one direction");
    }

    @Test
    void aShortIpv4ConnectionsLifeCostsUnderSixtyFourBytes() {
        // NEWCONN, 3 DATA (cumulative), DELCONN for each of 100 flows: a short web flow (measured 61.1 bytes)
        List<TimedEvent> lives = FlowMix.connectionLives(100, 3, false, 1_700_000_000_000_000L);
        FlowMix.Cost c = FlowMix.cost(lives, WireCost.KEY, false);
        assertEquals(500, c.events());
        assertTrue(c.bytes() / 100.0 < 64, c.bytes() / 100.0 + " bytes a flow");
    }

    @Test
    void sealingCostsSixteenBytesADatagram() {
        List<TimedEvent> lives = FlowMix.connectionLives(100, 8, true, 1_700_000_000_000_000L);
        FlowMix.Cost plain = FlowMix.cost(lives, null, false);
        FlowMix.Cost sealed = FlowMix.cost(lives, WireCost.KEY, false);
        assertEquals(plain.datagrams(), sealed.datagrams(), "the encoder reserves the tag even when plain");
        assertEquals(plain.bytes() + 16 * sealed.datagrams(), sealed.bytes());
    }

    @Test
    void ipfixTemplateSizes() {
        assertEquals(4 + 4 + 2 + 2 + 1 + 8 + 8 + 8 + 8, WireCost.IPFIX_V4);
        assertEquals(16 + 16 + 2 + 2 + 1 + 8 + 8 + 8 + 8, WireCost.IPFIX_V6);
        assertEquals(30 * 48 + 24, WireCost.netflow5(30), 0);
    }
}
