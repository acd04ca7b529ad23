package org.glouglou.protocol;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** SPEC.md's appendix A quotes the vector files exactly: a vector that changes without the spec fails the build. */
class SpecAppendixTest {
    @Test
    void appendixMatchesTheVectorFiles() throws IOException {
        String spec = Files.readString(Path.of("SPEC.md"), StandardCharsets.UTF_8);
        assertEquals(SpecAppendix.render(Path.of("src/test/resources")), SpecAppendix.current(spec),
                "SPEC.md appendix A differs from the vectors: regenerate it with SpecAppendix (see its comment)");
    }

    @Test
    void appendixQuotesEveryDatagram() throws IOException {
        String appendix = SpecAppendix.render(Path.of("src/test/resources"));
        int datagrams = 0;
        for (Path f : org.glouglou.spi.testkit.TestVectors.files(Path.of("src/test/resources/vectors")).toList()) {
            datagrams += org.glouglou.spi.testkit.TestVectors.read(f).withArray("datagrams").size();
        }
        assertEquals(datagrams, appendix.split("\n#### A\\.", -1).length - 1, "one subsection per datagram");
        assertTrue(appendix.contains("`kat/handshake.json`"));
    }
}
