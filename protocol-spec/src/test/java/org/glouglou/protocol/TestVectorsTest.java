package org.glouglou.protocol;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.glouglou.protocol.crypto.HandshakeCrypto;
import org.glouglou.protocol.crypto.HandshakeCrypto.Transcript;
import org.glouglou.spi.ModuleRegistry;
import org.glouglou.spi.testkit.TestVectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Runs every protocol test vector of spec appendix A (the files under src/test/resources/vectors). */
class TestVectorsTest {
    static final Path DIR = Path.of("src/test/resources/vectors");

    static Stream<Path> vectors() {
        return TestVectors.files(DIR);
    }

    @ParameterizedTest
    @MethodSource("vectors")
    void vector(Path file) {
        TestVectors.check(ModuleRegistry.internalOnly(), file);
    }

    @Test
    void allVectorFilesArePresent() {
        assertEquals(5, vectors().count(), "handshake-records, sealed-session, sealed-downstream, malformed, forward");
    }

    @Test
    void handshakeKnownAnswers() {
        ObjectNode k = TestVectors.read(Path.of("src/test/resources/kat/handshake.json"));
        byte[] secret = Hex.decode(k.get("secret").asText());
        Transcript t = new Transcript(k.get("probe").asLong(), k.get("session").asLong(), Hex.decode(k.get(
                "client_nonce").asText()), Hex.decode(k.get("server_nonce").asText()), Hex.decode(k.get("hello_hash")
                        .asText()));
        assertEquals(k.get("probe_proof").asText(), Hex.encode(HandshakeCrypto.probeProof(secret, t)));
        assertEquals(k.get("receiver_proof").asText(), Hex.encode(HandshakeCrypto.receiverProof(secret, t)));
        HandshakeCrypto.SessionKeys keys = HandshakeCrypto.keys(secret, t);
        assertEquals(k.get("up_key").asText(), Hex.encode(keys.up()));
        assertEquals(k.get("down_key").asText(), Hex.encode(keys.down()));
        assertNotEquals(k.get("probe_proof").asText(), k.get("receiver_proof").asText());
    }
}
