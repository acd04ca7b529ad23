package org.glouglou.module.network.capture;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.glouglou.module.network.dns.DnsResponseParser;
import org.glouglou.module.network.flow.FlowConfig;
import org.glouglou.spi.ConfigException;

/**
 * Coverage-guided fuzzing of everything that reads untrusted bytes: frames through the whole pipeline (decoder, flow
 * table, DNS, hop estimate), DNS messages, and capture files. Without JAZZER_FUZZ=1 only the seeds run.
 */
class PacketFuzzTest {
    static final int[] LINKS = {LinkType.NULL, LinkType.ETHERNET, LinkType.RAW, LinkType.LOOP, LinkType.LINUX_SLL,
            LinkType.LINUX_SLL2};

    @FuzzTest(maxDuration = "30s")
    void pipelineNeverThrows(FuzzedDataProvider data) {
        PacketPipeline p = new PacketPipeline(FlowConfig.defaults().withMaxFlows(4), 4, List.of(), (t, e) -> {
        });
        long ts = 0;
        while (data.remainingBytes() > 2) {
            int link = data.pickValue(LINKS);
            ts += data.consumeInt(0, 2_000_000);
            byte[] b = data.consumeBytes(data.consumeInt(0, 300));
            p.packet(ts, link, b, 0, b.length, b.length + data.consumeInt(0, 100));
        }
        p.finish();
    }

    @FuzzTest(maxDuration = "30s")
    void dnsNeverThrows(byte[] msg) {
        new DnsResponseParser().parse(msg, 0, msg.length, msg.length % 2 == 0);
    }

    @FuzzTest(maxDuration = "30s")
    void captureFileNeverThrows(byte[] content) throws Exception {
        Path f = Files.createTempFile("fuzz", ".pcap");
        try {
            Files.write(f, content);
            try (CaptureFileReader r = CaptureFileReader.open(f, 64)) {
                r.read((ts, lt, d, off, cap, wire) -> {
                    if (off < 0 || cap < 0 || off + cap > d.length) {
                        throw new AssertionError("slice out of the buffer");
                    }
                });
            } catch (ConfigException expected) {
                // not a capture: the one allowed outcome besides reading it
            }
        } finally {
            Files.delete(f);
        }
    }
}
