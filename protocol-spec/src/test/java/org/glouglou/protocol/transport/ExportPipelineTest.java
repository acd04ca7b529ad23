package org.glouglou.protocol.transport;

import static org.junit.jupiter.api.Assertions.*;

import org.glouglou.protocol.ProtocolConstants;
import org.glouglou.protocol.internal.InternalEvents.Notice;
import org.glouglou.spi.ModuleRegistry;
import org.junit.jupiter.api.Test;

/** The export queue's two modes: a file replay never loses a payload, a live capture drops and counts. */
class ExportPipelineTest {
    private static final ModuleRegistry REGISTRY = ModuleRegistry.internalOnly();

    @Test
    void aFileReplayKeepsWhatAnInterruptedThreadQueues() {
        // a probe stopping on SIGTERM ends its flows while the tick timer is being shut down: the timer thread's
        // interrupt must not drop the payload holding those last DELCONNs
        ExportPipeline p = new ExportPipeline(REGISTRY, ProtocolConstants.DEFAULT_MAX_DATAGRAM, 4, true);
        p.emit(1, new Notice(6, "last words"));
        Thread.currentThread().interrupt();
        try {
            p.flush();
        } finally {
            assertTrue(Thread.interrupted(), "the interrupt is kept for the caller");
        }
        assertEquals(0, p.eventsDropped(), "an interrupted flush dropped the payload");
        assertEquals(1, p.queued());
    }

    @Test
    void aLiveCaptureDropsAndCountsWhenTheQueueIsFull() {
        ExportPipeline p = new ExportPipeline(REGISTRY, ProtocolConstants.DEFAULT_MAX_DATAGRAM, 4, false);
        for (int i = 0; i < 6; i++) {
            p.emit(i, new Notice(6, "n" + i));
            p.flush();
        }
        assertEquals(4, p.queued());
        assertEquals(2, p.eventsDropped());
        assertEquals(2, p.payloadsDropped());
    }
}
