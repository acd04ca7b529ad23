package org.glouglou.module.network.bench;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.glouglou.spi.TimedEvent;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Wire cost of spec section 9. The aim, a flow's whole life in fewer bytes than one NetFlow v5 record (48.8 with its
 * header share), is not reached by v3 on the reference capture (62.8; 54.9 with the closing tick folded): these tests
 * hold what v3 does reach, so that a codec change that costs bytes fails here.
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
        // measured 62.8 with 3.1 DATA a flow: 64 guards against regressions
        assertTrue(perFlow < 64, perFlow + " bytes a flow, sealed");
        assertTrue(perFlow < WireCost.netflow5(2 * 177) / 177, "NetFlow v5 needs a record per direction");
        double folded = FlowMix.cost(FlowMix.events(flows, 1, true), WireCost.KEY, false).bytes() / 177.0;
        assertTrue(folded < perFlow, "folding the closing tick's DATA saves bytes");
    }

    @Test
    void aShortIpv4ConnectionsLifeCostsUnderSixtyFourBytes() {
        // NEWCONN, 3 DATA, DELCONN for each of 100 flows: a short web flow (measured 63.3 bytes)
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
