package org.glouglou.protocol;

import static org.glouglou.protocol.internal.InternalEvents.*;

import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.glouglou.protocol.crypto.HandshakeCrypto;
import org.glouglou.protocol.crypto.HandshakeCrypto.Transcript;
import org.glouglou.spi.JsonForm;
import org.glouglou.spi.ModuleRegistry;
import org.glouglou.spi.TimedEvent;
import org.glouglou.spi.testkit.VectorFile;

/**
 * Writes the protocol's own test vectors (spec appendix A) into src/test/resources/vectors. Run once when the
 * protocol changes, review the diff, commit: {@code mvn -pl protocol-spec test-compile exec:java
 * -Dexec.classpathScope=test -Dexec.mainClass=org.glouglou.protocol.VectorGenerator}. Keys and nonces are fixed so
 * the files are reproducible.
 */
public final class VectorGenerator {
    static final long T0 = 1_763_683_200_000_000L; // 2025-11-21T00:00:00Z in microseconds
    static final long PROBE = 7;

    static byte[] seq(int n, int start) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (start + i);
        }
        return b;
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 ? args[0] : "src/test/resources/vectors");
        ModuleRegistry r = ModuleRegistry.internalOnly();

        VectorFile hs = new VectorFile(r, "Handshake records travel unsealed, one record a datagram (spec 5.2).",
                null);
        hs.good("HELLO from probe 7", PROBE, 0, 0, List.of(new TimedEvent(PROBE, T0, new Hello(seq(32, 0),
                T0 - 60_000_000, "edge-router", "glouglou-probe 0.1", List.of(new ModuleInfo(1, "network", "1.0"))))));
        hs.good("CHALLENGE assigning session 0x01020304", PROBE, 0x01020304L, 0, List.of(new TimedEvent(PROBE, T0
                + 1500, new Challenge(seq(32, 0x40), 0x01020304L, Challenge.tagOf(seq(32, 0))))));
        hs.good("AUTH", PROBE, 0x01020304L, 0, List.of(new TimedEvent(PROBE, T0 + 3000, new Auth(seq(32, 0x80)))));
        hs.good("AUTH_FAIL (a hint only: unauthenticated)", PROBE, 0, 0, List.of(new TimedEvent(PROBE, T0,
                new AuthFail(AuthFail.UNKNOWN_PROBE, "probe 7 is not known here"))));
        hs.write(dir.resolve("handshake-records.json"));

        byte[] key = seq(32, 0xA0);
        VectorFile sealed = new VectorFile(r, "A sealed session: ChaCha20-Poly1305 under the probe-to-receiver key,"
                + " nonce = session id || sequence, header as associated data; one anti-replay window (spec 5.3, 5.4).",
                key);
        Map<String, Long> counters = new LinkedHashMap<>();
        counters.put("packets_captured", 131072L);
        counters.put("kernel_dropped", 12L);
        counters.put("datagrams_sent", 300L);
        byte[] first = sealed.good("STATS, NOTICE and PING; the later events carry a CLOCK record", PROBE,
                0x01020304L, 1, List.of(new TimedEvent(PROBE, T0, new Stats(counters)), new TimedEvent(PROBE, T0,
                        new Notice(5, "capture started on eth0")), new TimedEvent(PROBE, T0 + 250_000, new Ping(42))));
        sealed.dropped("the same datagram again", first, "replayed");
        byte[] tag = first.clone();
        tag[tag.length - 1] ^= 1;
        sealed.dropped("sequence 1 again with its last tag bit flipped", tag, "replayed");
        byte[] second = sealed.encode(PROBE, 0x01020304L, 2, List.of(new TimedEvent(PROBE, T0 + 300_000,
                new Pong(42))));
        byte[] badTag = second.clone();
        badTag[badTag.length - 1] ^= 1;
        sealed.dropped("sequence 2 with its last tag bit flipped", badTag, "bad_tag");
        byte[] badAad = second.clone();
        badAad[18] ^= 1; // base time is associated data
        sealed.dropped("sequence 2 with one header bit flipped (associated data)", badAad, "bad_tag");
        byte[] badCipher = second.clone();
        badCipher[ProtocolConstants.HEADER_LENGTH] ^= 0x10;
        sealed.dropped("sequence 2 with one ciphertext bit flipped", badCipher, "bad_tag");
        sealed.good("sequence 2 intact (the failed copies did not consume it)", PROBE, 0x01020304L, 2,
                List.of(new TimedEvent(PROBE, T0 + 300_000, new Pong(42))));
        sealed.good("sequence 5: a gap of two (lost in transit)", PROBE, 0x01020304L, 5, List.of(new TimedEvent(
                PROBE, T0 + 400_000, new Bye(Bye.SHUTDOWN))));
        sealed.good("sequence 4 arrives late, inside the window", PROBE, 0x01020304L, 4, List.of(new TimedEvent(
                PROBE, T0 + 350_000, new Ping(43))));
        sealed.write(dir.resolve("sealed-session.json"));

        VectorFile down = new VectorFile(r, "Receiver to probe: sealed under the down key, its own sequence numbers"
                + " (spec 5.2, 5.3).", seq(32, 0xC0));
        down.good("AUTH_OK: the receiver's proof and the keep-alive interval", PROBE, 0x01020304L, 1, List.of(
                new TimedEvent(PROBE, T0 + 4000, new AuthOk(seq(32, 0x60), 10))));
        down.good("PONG answering PING 42", PROBE, 0x01020304L, 2, List.of(new TimedEvent(PROBE, T0 + 250_500,
                new Pong(42))));
        down.good("PONG with the acknowledgements: 1 to 40 durable, 41 to 44 received", PROBE, 0x01020304L, 3,
                List.of(new TimedEvent(PROBE, T0 + 500_500, new Pong(43)), new TimedEvent(PROBE, T0 + 500_500,
                        new Ack(Ack.DURABLE, SeqRanges.of(1, 40))),
                        new TimedEvent(PROBE, T0 + 500_500, new Ack(
                                Ack.RECEIVED, SeqRanges.of(41, 44)))));
        down.write(dir.resolve("sealed-downstream.json"));

        VectorFile bad = new VectorFile(r, "Malformed datagrams: dropped whole, or records skipped by length"
                + " (spec 3.3, 7).", null);
        byte[] ok = bad.encode(PROBE, 0, 1, List.of(new TimedEvent(PROBE, T0, new Ping(1))));
        bad.dropped("10 bytes: shorter than a header", Arrays.copyOf(ok, 10), "truncated_header");
        byte[] v2 = ok.clone();
        v2[0] = 2;
        bad.dropped("version 2", v2, "bad_version");
        byte[] flags = ok.clone();
        flags[1] = (byte) 0x80;
        bad.dropped("reserved flag bit 7 set", flags, "bad_flags");
        byte[] p0 = ok.clone();
        p0[2] = p0[3] = p0[4] = p0[5] = 0;
        bad.dropped("probe id 0", p0, "unknown_probe");
        byte[] two = bad.encode(PROBE, 0, 1, List.of(new TimedEvent(PROBE, T0, new Ping(1)), new TimedEvent(PROBE,
                T0, new Notice(6, "x"))));
        byte[] unknownModule = insertRecord(two, 26 + 3 + 1, 200, 1, new byte[]{1, 2, 3});
        bad.partial("a record of unknown module 200 between two good ones", unknownModule, PROBE, List.of(
                new TimedEvent(PROBE, T0, new Ping(1)), new TimedEvent(PROBE, T0, new Notice(6, "x"))),
                List.of(
                        "unknown_module"));
        byte[] unknownType = insertRecord(two, 26 + 3 + 1, 0, 99, new byte[]{9});
        bad.partial("a record of unknown type 99 of module 0", unknownType, PROBE, List.of(new TimedEvent(PROBE, T0,
                new Ping(1)), new TimedEvent(PROBE, T0, new Notice(6, "x"))), List.of("unknown_type"));
        byte[] badBody = insertRecord(two, 26 + 3 + 1, 0, 6, new byte[]{(byte) 0x80});
        bad.partial("a PING whose varint runs past its record", badBody, PROBE, List.of(new TimedEvent(PROBE, T0,
                new Ping(1)), new TimedEvent(PROBE, T0, new Notice(6, "x"))), List.of("malformed_record"));
        byte[] past = two.clone();
        past[26 + 3 + 1 + 2] = 0x7F; // NOTICE record length 127: past the end
        bad.partial("the second record's length runs past the end", past, PROBE, List.of(new TimedEvent(PROBE, T0,
                new Ping(1))), List.of("length_past_end"));
        bad.partial("two trailing bytes, less than a record header", concat(two, new byte[]{0, 6}), PROBE, List.of(
                new TimedEvent(PROBE, T0, new Ping(1)), new TimedEvent(PROBE, T0, new Notice(6, "x"))),
                List.of(
                        "length_past_end"));
        bad.write(dir.resolve("malformed.json"));

        VectorFile fwd = new VectorFile(r, "A relay's FORWARD record carrying probe 9's records (spec 5.6).", null);
        byte[] inner = bad.encode(9, 0x0A0B0C0DL, 77, List.of(new TimedEvent(9, T0, new Stats(Map.of(
                "packets_captured", 5L)))));
        byte[] innerRecords = Arrays.copyOfRange(inner, ProtocolConstants.HEADER_LENGTH, inner.length);
        fwd.good("relay 3 forwards probe 9's datagram 77", 3, 0x11111111L, 1, List.of(new TimedEvent(3, T0 + 10,
                new Forward(9, T0 - 3_600_000_000L, 77, T0, new long[]{3}, innerRecords))));
        fwd.good("the server acknowledges probe 9's datagrams 70 to 77 and 79 as durable, through relay 3", 3,
                0x11111111L, 1, List.of(new TimedEvent(3, T0 + 200_000, new ForwardAck(9, T0 - 3_600_000_000L,
                        Ack.DURABLE, new SeqRanges(new long[]{70, 77, 79, 79})))));
        fwd.write(dir.resolve("forward.json"));

        Transcript t = new Transcript(PROBE, 0x01020304L, seq(32, 0), seq(32, 0x40), HandshakeCrypto.sha256(
                "hello payload".getBytes()));
        byte[] secret = seq(32, 0x10);
        HandshakeCrypto.SessionKeys k = HandshakeCrypto.keys(secret, t);
        ObjectNode kat = JsonForm.MAPPER.createObjectNode();
        kat.put("description", "Handshake known answers (spec 5.2): proofs are HMAC-SHA256(secret, label || probe"
                + " id || session id || client nonce || server nonce || SHA-256(HELLO payload)); keys are"
                + " HKDF-SHA256(secret, salt = client nonce || server nonce, info = label || probe id || session id ||"
                + " hello hash), 64 bytes: up then down.");
        kat.put("secret", Hex.encode(secret)).put("probe", PROBE).put("session", 0x01020304L);
        kat.put("client_nonce", Hex.encode(t.clientNonce())).put("server_nonce", Hex.encode(t.serverNonce()));
        kat.put("hello_hash", Hex.encode(t.helloHash()));
        kat.put("probe_proof", Hex.encode(HandshakeCrypto.probeProof(secret, t)));
        kat.put("receiver_proof", Hex.encode(HandshakeCrypto.receiverProof(secret, t)));
        kat.put("up_key", Hex.encode(k.up())).put("down_key", Hex.encode(k.down()));
        Files.createDirectories(dir.resolveSibling("kat"));
        Files.writeString(dir.resolveSibling("kat").resolve("handshake.json"), JsonForm.MAPPER.copy().enable(
                SerializationFeature.INDENT_OUTPUT).writeValueAsString(kat) + "\n");
    }

    /** Inserts a raw record at {@code at} (a record boundary). */
    static byte[] insertRecord(byte[] d, int at, int module, int type, byte[] body) {
        if (body.length > 127) {
            throw new IllegalArgumentException("a one-byte length only");
        }
        byte[] rec = new byte[3 + body.length];
        rec[0] = (byte) module;
        rec[1] = (byte) type;
        rec[2] = (byte) body.length;
        System.arraycopy(body, 0, rec, 3, body.length);
        return concat(Arrays.copyOf(d, at), rec, Arrays.copyOfRange(d, at, d.length));
    }

    static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int o = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, o, p.length);
            o += p.length;
        }
        return out;
    }
}
