package org.glouglou.module.network.graph;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Map;
import org.glouglou.spi.graph.GraphElement;
import org.junit.jupiter.api.Test;

/** A link hash as the server writes it becomes an edge whose per-probe shares add up to its totals. */
class NetworkGraphSideTest {
    @Test
    void anEdgeShowsEachProbesShare() {
        Map<String, String> f = Map.ofEntries(Map.entry("a", "10.0.0.1"), Map.entry("b", "10.0.0.2"), Map.entry(
                "pkts_ab", "7"), Map.entry("bytes_ab", "700"), Map.entry("pkts_ba", "3"), Map.entry("bytes_ba", "90"),
                Map.entry("pkts_ab.1", "5"), Map.entry("bytes_ab.1", "500"), Map.entry("pkts_ba.1", "3"), Map.entry(
                        "bytes_ba.1", "90"),
                Map.entry("pkts_ab.2", "2"), Map.entry("bytes_ab.2", "200"), Map.entry(
                        "seen.1", "1000"),
                Map.entry("seen.2", "1001"));
        GraphElement.Edge e = (GraphElement.Edge) new NetworkGraphSide().element("gg:link:10.0.0.1|10.0.0.2", f);
        Map<String, Object> a = e.attributes();
        assertArrayEquals(new String[]{"1", "2"}, (String[]) a.get("probes"));
        assertEquals(590L, a.get("bytes.1"));
        assertEquals(8L, a.get("pkts.1"));
        assertEquals(200L, a.get("bytes.2"));
        assertEquals(2L, a.get("pkts.2"));
        assertEquals((long) a.get("bytes"), (long) a.get("bytes.1") + (long) a.get("bytes.2"), "shares add up");
    }
}
