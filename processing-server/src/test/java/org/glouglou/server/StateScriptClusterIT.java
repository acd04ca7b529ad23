package org.glouglou.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lettuce.core.cluster.SlotHash;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.LongStream;
import org.glouglou.server.store.MergeProperty;
import org.glouglou.server.store.StateScript;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The merge property of {@link MergeProperty} on a real 3-master Redis Cluster: a key and its marks and closed
 * contributors share one slot (the key is their hash tag), so the script runs on the key's master, and the totals add
 * up exactly there too.
 */
class StateScriptClusterIT {
    @RegisterExtension
    static final RedisClusterProcess CLUSTER = new RedisClusterProcess(3);

    @BeforeAll
    static void load() {
        for (int port : CLUSTER.ports()) {
            CLUSTER.node(port).scriptLoad(StateScript.TEXT);
        }
    }

    static LongStream seeds() {
        return LongStream.range(100, 115);
    }

    @ParameterizedTest
    @MethodSource("seeds")
    void contributionsAddUpExactlyOnEveryMaster(long seed) {
        new MergeProperty(CLUSTER.sync(), seed).run();
    }

    @Test
    void aKeyAndItsCompanionsShareItsSlotAndKeysSpreadOverEveryMaster() {
        Set<Integer> slots = new HashSet<>();
        for (int i = 0; i < 64; i++) {
            String k = "gg:link:10.0.0." + i + "|10.0.1.1";
            int slot = SlotHash.getSlot(k);
            assertEquals(slot, SlotHash.getSlot(StateScript.markKey(k)));
            assertEquals(slot, SlotHash.getSlot(StateScript.closedKey(k)));
            slots.add(slot / (16384 / 3 + 1));
        }
        assertTrue(slots.size() == 3, "links spread over the three masters' slot ranges: " + slots);
    }
}
