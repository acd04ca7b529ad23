package org.glouglou.protocol.fuzz;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.glouglou.protocol.Hex;
import org.glouglou.protocol.ProtocolConstants;
import org.glouglou.protocol.ProtocolException;
import org.glouglou.protocol.crypto.SessionCipher;
import org.glouglou.spi.testkit.TestVectors;

/**
 * Writes the fuzz targets' seed corpora from the test vectors (spec appendix A), in Jazzer's layout
 * {@code src/test/resources/org/glouglou/protocol/fuzz/<Class>Inputs/<method>/}: the vectors are the most interesting
 * valid and malformed datagrams we know, so every campaign starts from them. Run after the vectors change:
 * {@code mvn -pl protocol-spec test-compile exec:java -Dexec.classpathScope=test
 * -Dexec.mainClass=org.glouglou.protocol.fuzz.FuzzSeeds}.
 */
public final class FuzzSeeds {
    private FuzzSeeds() {
    }

    /** One datagram of a vector file, and its plaintext when it is sealed and opens under the file's key. */
    record Datagram(String name, byte[] bytes, byte[] plaintext) {
    }

    static List<Datagram> datagrams(Path resources) {
        List<Datagram> out = new ArrayList<>();
        try (Stream<Path> files = TestVectors.files(resources.resolve("vectors"))) {
            for (Path f : files.toList()) {
                ObjectNode v = TestVectors.read(f);
                String stem = f.getFileName().toString().replace(".json", "");
                byte[] key = v.has("key") ? Hex.decode(v.get("key").asText()) : null;
                int i = 0;
                for (JsonNode d : v.withArray("datagrams")) {
                    byte[] b = Hex.decode(d.get("hex").asText());
                    out.add(new Datagram(String.format("%s-%02d", stem, i++), b, plaintext(b, key)));
                }
            }
        }
        return out;
    }

    /** The datagram with its payload in clear and the sealed flag cleared; the datagram itself if unsealed. */
    static byte[] plaintext(byte[] d, byte[] key) {
        if (d.length < ProtocolConstants.HEADER_LENGTH || (d[1] & ProtocolConstants.FLAG_SEALED) == 0) {
            return d;
        }
        if (key == null) {
            return null;
        }
        ByteBuf buf = Unpooled.wrappedBuffer(d.clone());
        try {
            new SessionCipher(key).open(buf);
        } catch (ProtocolException e) {
            return null;
        }
        byte[] p = new byte[buf.readableBytes()];
        buf.readBytes(p);
        p[1] &= ~ProtocolConstants.FLAG_SEALED;
        return p;
    }

    static byte[] chunk(int kind, byte[] bytes) {
        return ByteBuffer.allocate(4 + bytes.length).put((byte) kind).put((byte) 10).putShort((short) bytes.length)
                .put(bytes).array();
    }

    public static void main(String[] args) throws IOException {
        Path resources = Path.of(args.length > 0 ? args[0] : "src/test/resources");
        Path base = resources.resolve("org/glouglou/protocol/fuzz");
        Path decoder = base.resolve("RecordDecoderFuzzTestInputs/headerAndRecords");
        Path cipher = base.resolve("SessionCipherFuzzTestInputs/open");
        Path receiver = base.resolve("ReceiverSessionsFuzzTestInputs/receive");
        for (Path p : List.of(decoder, cipher, receiver)) {
            Files.createDirectories(p);
        }
        for (Datagram d : datagrams(resources)) {
            Files.write(decoder.resolve(d.name()), d.bytes());
            if (d.plaintext() != null && d.plaintext() != d.bytes()) {
                Files.write(decoder.resolve(d.name() + "-opened"), d.plaintext());
            }
            if ((d.bytes().length > 1 && (d.bytes()[1] & ProtocolConstants.FLAG_SEALED) != 0)) {
                Files.write(cipher.resolve(d.name()), d.bytes());
            }
            if (d.plaintext() != null) {
                // control byte 0: round trip of this datagram, flipping bit 0x0123
                Files.write(cipher.resolve(d.name() + "-roundtrip"), concat(new byte[]{0, 1, 0x23}, d.plaintext()));
            }
            Files.write(receiver.resolve(d.name()), concat(new byte[]{0}, chunk(0, d.bytes())));
            Files.write(receiver.resolve(d.name() + "-plain"), concat(new byte[]{1}, chunk(0, d.bytes())));
            if (d.plaintext() != null && d.plaintext().length >= ProtocolConstants.HEADER_LENGTH) {
                // the payload sealed by the harness under a real session, as sequence 1
                byte[] payload = Arrays.copyOfRange(d.plaintext(), ProtocolConstants.HEADER_LENGTH,
                        d.plaintext().length);
                byte[] wrapped = concat(new byte[]{0, 0, 0, 0, 0, 0, 0, 1}, payload);
                Files.write(receiver.resolve(d.name() + "-session"), concat(new byte[]{2}, chunk(1, wrapped)));
            }
        }
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
