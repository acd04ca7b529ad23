package org.glouglou.protocol.internal;

import static org.glouglou.protocol.internal.InternalEvents.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.glouglou.protocol.DropReason;
import org.glouglou.protocol.Hex;
import org.glouglou.protocol.ProtocolConstants;
import org.glouglou.protocol.ProtocolException;
import org.glouglou.protocol.Varint;
import org.glouglou.protocol.Wire;
import org.glouglou.spi.BaseEventCodec;
import org.glouglou.spi.EventCodec;
import org.glouglou.spi.GlouglouModule;

/** Module 0: handshake, keep-alive, notices, statistics, relay forwarding and the clock (spec section 5). */
public final class InternalModule implements GlouglouModule {
    public static final InternalModule INSTANCE = new InternalModule();

    /** Bounds of variable fields (spec 5.1). */
    static final int MAX_NAME = 64;
    static final int MAX_MODULES = 32;
    static final int MAX_NOTICE = 512;
    static final int MAX_COUNTERS = 64;
    static final int MAX_COUNTER_NAME = 32;
    static final int MAX_PATH = 8;

    private static final int N = ProtocolConstants.NONCE_LENGTH;

    private final List<EventCodec<?>> codecs = List.of(new HelloCodec(), new ChallengeCodec(), new AuthCodec(),
            new AuthOkCodec(), new AuthFailCodec(), new PingCodec(), new PongCodec(), new NoticeCodec(),
            new StatsCodec(), new ForwardCodec(), new ClockCodec(), new ByeCodec(), new AckCodec(),
            new ForwardAckCodec());

    private InternalModule() {
    }

    @Override
    public int id() {
        return ProtocolConstants.INTERNAL_MODULE_ID;
    }

    @Override
    public String name() {
        return "glouglou";
    }

    @Override
    public String version() {
        return "3";
    }

    @Override
    public List<EventCodec<?>> codecs() {
        return codecs;
    }

    static final class HelloCodec extends BaseEventCodec<Hello> {
        HelloCodec() {
            super(HELLO, Hello.class, N + 8 + 2 * (2 + MAX_NAME) + 1 + MAX_MODULES * (1 + 2 * (1 + MAX_NAME)));
        }

        @Override
        public void encode(Hello e, ByteBuf out) {
            out.writeBytes(e.clientNonce());
            out.writeLong(e.boot());
            Wire.writeString(out, e.probeName(), MAX_NAME);
            Wire.writeString(out, e.software(), MAX_NAME);
            int n = Math.min(e.modules().size(), MAX_MODULES);
            out.writeByte(n);
            for (int i = 0; i < n; i++) {
                ModuleInfo m = e.modules().get(i);
                out.writeByte(m.id());
                Wire.writeString(out, m.name(), MAX_NAME);
                Wire.writeString(out, m.version(), MAX_NAME);
            }
        }

        @Override
        public Hello decode(ByteBuf in) throws ProtocolException {
            byte[] nonce = Wire.readBytes(in, N, "client nonce");
            long boot = Wire.readU64(in, "boot");
            String name = Wire.readString(in, MAX_NAME, "probe name");
            String sw = Wire.readString(in, MAX_NAME, "software");
            int n = Wire.readU8(in, "module count");
            if (n > MAX_MODULES) {
                throw new ProtocolException(DropReason.MALFORMED_RECORD, n + " modules, at most " + MAX_MODULES);
            }
            List<ModuleInfo> mods = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                mods.add(new ModuleInfo(Wire.readU8(in, "module id"), Wire.readString(in, MAX_NAME, "module name"),
                        Wire.readString(in, MAX_NAME, "module version")));
            }
            return new Hello(nonce, boot, name, sw, List.copyOf(mods));
        }

        @Override
        public void writeJson(Hello e, ObjectNode node) {
            node.put("client_nonce", Hex.encode(e.clientNonce()));
            node.put("boot", e.boot());
            node.put("name", e.probeName());
            node.put("software", e.software());
            ArrayNode a = node.putArray("modules");
            for (ModuleInfo m : e.modules()) {
                a.addObject().put("id", m.id()).put("name", m.name()).put("version", m.version());
            }
        }

        @Override
        public Hello readJson(ObjectNode node) {
            List<ModuleInfo> mods = new ArrayList<>();
            for (JsonNode m : node.path("modules")) {
                mods.add(new ModuleInfo(m.path("id").asInt(), m.path("name").asText(), m.path("version").asText()));
            }
            return new Hello(Hex.decode(node.path("client_nonce").asText()), node.path("boot").asLong(), node.path(
                    "name").asText(),
                    node.path("software").asText(), List.copyOf(mods));
        }
    }

    static final class ChallengeCodec extends BaseEventCodec<Challenge> {
        ChallengeCodec() {
            super(CHALLENGE, Challenge.class, N + 4 + 8);
        }

        @Override
        public void encode(Challenge e, ByteBuf out) {
            out.writeBytes(e.serverNonce());
            out.writeInt((int) e.sessionId());
            out.writeLong(e.helloTag());
        }

        @Override
        public Challenge decode(ByteBuf in) throws ProtocolException {
            return new Challenge(Wire.readBytes(in, N, "server nonce"), Wire.readU32(in, "session id"), Wire.readU64(
                    in, "hello tag"));
        }

        @Override
        public void writeJson(Challenge e, ObjectNode node) {
            node.put("server_nonce", Hex.encode(e.serverNonce())).put("session", e.sessionId()).put("hello_tag",
                    String.format("%016x", e.helloTag()));
        }

        @Override
        public Challenge readJson(ObjectNode node) {
            return new Challenge(Hex.decode(node.path("server_nonce").asText()), node.path("session").asLong(),
                    Long.parseUnsignedLong(node.path("hello_tag").asText(), 16));
        }
    }

    static final class AuthCodec extends BaseEventCodec<Auth> {
        AuthCodec() {
            super(AUTH, Auth.class, N);
        }

        @Override
        public void encode(Auth e, ByteBuf out) {
            out.writeBytes(e.proof());
        }

        @Override
        public Auth decode(ByteBuf in) throws ProtocolException {
            return new Auth(Wire.readBytes(in, N, "proof"));
        }

        @Override
        public void writeJson(Auth e, ObjectNode node) {
            node.put("proof", Hex.encode(e.proof()));
        }

        @Override
        public Auth readJson(ObjectNode node) {
            return new Auth(Hex.decode(node.path("proof").asText()));
        }
    }

    static final class AuthOkCodec extends BaseEventCodec<AuthOk> {
        AuthOkCodec() {
            super(AUTH_OK, AuthOk.class, N + 5);
        }

        @Override
        public void encode(AuthOk e, ByteBuf out) {
            out.writeBytes(e.proof());
            Varint.write(out, e.keepaliveSeconds());
        }

        @Override
        public AuthOk decode(ByteBuf in) throws ProtocolException {
            return new AuthOk(Wire.readBytes(in, N, "proof"), Varint.readBounded(in, 86400, "keepalive"));
        }

        @Override
        public void writeJson(AuthOk e, ObjectNode node) {
            node.put("proof", Hex.encode(e.proof())).put("keepalive", e.keepaliveSeconds());
        }

        @Override
        public AuthOk readJson(ObjectNode node) {
            return new AuthOk(Hex.decode(node.path("proof").asText()), node.path("keepalive").asInt());
        }
    }

    static final class AuthFailCodec extends BaseEventCodec<AuthFail> {
        AuthFailCodec() {
            super(AUTH_FAIL, AuthFail.class, 1 + 2 + MAX_NOTICE);
        }

        @Override
        public void encode(AuthFail e, ByteBuf out) {
            out.writeByte(e.code());
            Wire.writeString(out, e.message(), MAX_NOTICE);
        }

        @Override
        public AuthFail decode(ByteBuf in) throws ProtocolException {
            return new AuthFail(Wire.readU8(in, "code"), Wire.readString(in, MAX_NOTICE, "message"));
        }

        @Override
        public void writeJson(AuthFail e, ObjectNode node) {
            node.put("code", e.code()).put("message", e.message());
        }

        @Override
        public AuthFail readJson(ObjectNode node) {
            return new AuthFail(node.path("code").asInt(), node.path("message").asText());
        }
    }

    static final class PingCodec extends BaseEventCodec<Ping> {
        PingCodec() {
            super(PING, Ping.class, 10);
        }

        @Override
        public void encode(Ping e, ByteBuf out) {
            Varint.write(out, e.nonce());
        }

        @Override
        public Ping decode(ByteBuf in) throws ProtocolException {
            return new Ping(Varint.read(in));
        }

        @Override
        public void writeJson(Ping e, ObjectNode node) {
            node.put("nonce", e.nonce());
        }

        @Override
        public Ping readJson(ObjectNode node) {
            return new Ping(node.path("nonce").asLong());
        }
    }

    static final class PongCodec extends BaseEventCodec<Pong> {
        PongCodec() {
            super(PONG, Pong.class, 10);
        }

        @Override
        public void encode(Pong e, ByteBuf out) {
            Varint.write(out, e.nonce());
        }

        @Override
        public Pong decode(ByteBuf in) throws ProtocolException {
            return new Pong(Varint.read(in));
        }

        @Override
        public void writeJson(Pong e, ObjectNode node) {
            node.put("nonce", e.nonce());
        }

        @Override
        public Pong readJson(ObjectNode node) {
            return new Pong(node.path("nonce").asLong());
        }
    }

    static final class NoticeCodec extends BaseEventCodec<Notice> {
        NoticeCodec() {
            super(NOTICE, Notice.class, 1 + 2 + MAX_NOTICE);
        }

        @Override
        public void encode(Notice e, ByteBuf out) {
            out.writeByte(e.severity());
            Wire.writeString(out, e.text(), MAX_NOTICE);
        }

        @Override
        public Notice decode(ByteBuf in) throws ProtocolException {
            int sev = Wire.readU8(in, "severity");
            if (sev > 7) {
                throw new ProtocolException(DropReason.MALFORMED_RECORD, "severity " + sev + " is over 7");
            }
            return new Notice(sev, Wire.readString(in, MAX_NOTICE, "text"));
        }

        @Override
        public void writeJson(Notice e, ObjectNode node) {
            node.put("severity", e.severity()).put("text", e.text());
        }

        @Override
        public Notice readJson(ObjectNode node) {
            return new Notice(node.path("severity").asInt(), node.path("text").asText());
        }
    }

    static final class StatsCodec extends BaseEventCodec<Stats> {
        StatsCodec() {
            super(STATS, Stats.class, 1 + MAX_COUNTERS * (1 + MAX_COUNTER_NAME + 10));
        }

        @Override
        public void encode(Stats e, ByteBuf out) {
            int n = Math.min(e.counters().size(), MAX_COUNTERS);
            out.writeByte(n);
            Iterator<Map.Entry<String, Long>> it = e.counters().entrySet().iterator();
            for (int i = 0; i < n; i++) {
                Map.Entry<String, Long> c = it.next();
                Wire.writeString(out, c.getKey(), MAX_COUNTER_NAME);
                Varint.write(out, c.getValue());
            }
        }

        @Override
        public Stats decode(ByteBuf in) throws ProtocolException {
            int n = Wire.readU8(in, "counter count");
            if (n > MAX_COUNTERS) {
                throw new ProtocolException(DropReason.MALFORMED_RECORD, n + " counters, at most " + MAX_COUNTERS);
            }
            Map<String, Long> m = new LinkedHashMap<>();
            for (int i = 0; i < n; i++) {
                m.put(Wire.readString(in, MAX_COUNTER_NAME, "counter name"), Varint.read(in));
            }
            return new Stats(m);
        }

        @Override
        public void writeJson(Stats e, ObjectNode node) {
            ObjectNode c = node.putObject("counters");
            e.counters().forEach(c::put);
        }

        @Override
        public Stats readJson(ObjectNode node) {
            Map<String, Long> m = new LinkedHashMap<>();
            node.path("counters").fields().forEachRemaining(f -> m.put(f.getKey(), f.getValue().asLong()));
            return new Stats(m);
        }
    }

    static final class ForwardCodec extends BaseEventCodec<Forward> {
        ForwardCodec() {
            super(FORWARD, Forward.class, ProtocolConstants.MAX_RECORD_BODY);
        }

        @Override
        public void encode(Forward e, ByteBuf out) {
            out.writeInt((int) e.originProbe());
            out.writeLong(e.originBoot());
            out.writeLong(e.originSequence());
            out.writeLong(e.originBaseTime());
            out.writeByte(e.path().length);
            for (long hop : e.path()) {
                out.writeInt((int) hop);
            }
            Varint.write(out, e.records().length);
            out.writeBytes(e.records());
        }

        @Override
        public Forward decode(ByteBuf in) throws ProtocolException {
            long probe = Wire.readU32(in, "origin probe");
            if (probe == 0) {
                throw new ProtocolException(DropReason.MALFORMED_RECORD, "origin probe id 0 is reserved");
            }
            long boot = Wire.readU64(in, "origin boot");
            long seq = Wire.readU64(in, "origin sequence");
            long base = Wire.readU64(in, "origin base time");
            int hops = Wire.readU8(in, "hop count");
            if (hops < 1 || hops > MAX_PATH) {
                throw new ProtocolException(DropReason.MALFORMED_RECORD, hops + " hops, must be 1.." + MAX_PATH);
            }
            long[] path = new long[hops];
            for (int i = 0; i < hops; i++) {
                path[i] = Wire.readU32(in, "hop");
            }
            int len = Varint.readBounded(in, in.readableBytes(), "forwarded records length");
            return new Forward(probe, boot, seq, base, path, Wire.readBytes(in, len, "forwarded records"));
        }

        @Override
        public void writeJson(Forward e, ObjectNode node) {
            node.put("origin_probe", e.originProbe()).put("origin_boot", e.originBoot())
                    .put("origin_sequence", e.originSequence()).put("origin_base_time", e.originBaseTime());
            ArrayNode p = node.putArray("path");
            for (long hop : e.path()) {
                p.add(hop);
            }
            node.put("records", Hex.encode(e.records()));
        }

        @Override
        public Forward readJson(ObjectNode node) {
            JsonNode p = node.path("path");
            long[] path = new long[p.size()];
            for (int i = 0; i < path.length; i++) {
                path[i] = p.get(i).asLong();
            }
            return new Forward(node.path("origin_probe").asLong(), node.path("origin_boot").asLong(),
                    node.path("origin_sequence").asLong(), node.path("origin_base_time").asLong(), path,
                    Hex.decode(node.path("records").asText()));
        }
    }

    static final class ClockCodec extends BaseEventCodec<Clock> {
        ClockCodec() {
            super(CLOCK, Clock.class, 10);
        }

        @Override
        public void encode(Clock e, ByteBuf out) {
            Varint.writeSigned(out, e.offsetMicros());
        }

        @Override
        public Clock decode(ByteBuf in) throws ProtocolException {
            return new Clock(Varint.readSigned(in));
        }

        @Override
        public void writeJson(Clock e, ObjectNode node) {
            node.put("offset", e.offsetMicros());
        }

        @Override
        public Clock readJson(ObjectNode node) {
            return new Clock(node.path("offset").asLong());
        }
    }

    static final class ByeCodec extends BaseEventCodec<Bye> {
        ByeCodec() {
            super(BYE, Bye.class, 1);
        }

        @Override
        public void encode(Bye e, ByteBuf out) {
            out.writeByte(e.reason());
        }

        @Override
        public Bye decode(ByteBuf in) throws ProtocolException {
            return new Bye(Wire.readU8(in, "reason"));
        }

        @Override
        public void writeJson(Bye e, ObjectNode node) {
            node.put("reason", e.reason());
        }

        @Override
        public Bye readJson(ObjectNode node) {
            return new Bye(node.path("reason").asInt());
        }
    }

    /** Kind byte of ACK and FORWARD_ACK (spec 5.8): 1 received, 2 durable; JSON labels. */
    static int readAckKind(ByteBuf in) throws ProtocolException {
        int kind = Wire.readU8(in, "ack kind");
        if (kind != Ack.RECEIVED && kind != Ack.DURABLE) {
            throw new ProtocolException(DropReason.MALFORMED_RECORD, "ack kind " + kind + " is neither 1 nor 2");
        }
        return kind;
    }

    static String ackKindLabel(int kind) {
        return kind == Ack.DURABLE ? "durable" : "received";
    }

    static int ackKind(String label) {
        return "durable".equals(label) ? Ack.DURABLE : Ack.RECEIVED;
    }

    /**
     * Ranges on the wire (spec 5.8): count u8 (1..32); the first range's first sequence number as a varint, every
     * later one as the gap from the previous range's last (first - previous last - 2, so ranges never touch); each
     * range's length less one as a varint.
     */
    static void writeRanges(SeqRanges r, ByteBuf out) {
        out.writeByte(r.count());
        long prev = 0;
        for (int i = 0; i < r.count(); i++) {
            Varint.write(out, i == 0 ? r.first(0) : r.first(i) - prev - 2);
            Varint.write(out, r.last(i) - r.first(i));
            prev = r.last(i);
        }
    }

    static SeqRanges readRanges(ByteBuf in) throws ProtocolException {
        int n = Wire.readU8(in, "range count");
        if (n < 1 || n > SeqRanges.MAX_RANGES) {
            throw new ProtocolException(DropReason.MALFORMED_RECORD, n + " ranges, must be 1.." + SeqRanges.MAX_RANGES);
        }
        long[] b = new long[2 * n];
        long prev = 0;
        for (int i = 0; i < n; i++) {
            long v = Varint.read(in);
            long len = Varint.read(in);
            long first = i == 0 ? v : prev + 2 + v;
            long last = first + len;
            // unsigned overflow past 2^63 would wrap: sequence numbers never get there (a boot would need 2^63)
            if (first < 1 || v < 0 || len < 0 || last < first || i > 0 && first <= prev + 1) {
                throw new ProtocolException(DropReason.MALFORMED_RECORD, "range " + i + " out of order or overflowing");
            }
            b[2 * i] = first;
            b[2 * i + 1] = last;
            prev = last;
        }
        return new SeqRanges(b);
    }

    static void writeRangesJson(SeqRanges r, ObjectNode node) {
        ArrayNode a = node.putArray("ranges");
        for (int i = 0; i < r.count(); i++) {
            a.addArray().add(r.first(i)).add(r.last(i));
        }
    }

    static SeqRanges readRangesJson(ObjectNode node) {
        JsonNode a = node.path("ranges");
        long[] b = new long[2 * a.size()];
        for (int i = 0; i < a.size(); i++) {
            b[2 * i] = a.get(i).get(0).asLong();
            b[2 * i + 1] = a.get(i).get(1).asLong();
        }
        return new SeqRanges(b);
    }

    /** 2 + 32 ranges of two 10-byte varints. */
    static final int MAX_RANGES_BYTES = 1 + SeqRanges.MAX_RANGES * 20;

    static final class AckCodec extends BaseEventCodec<Ack> {
        AckCodec() {
            super(ACK, Ack.class, 1 + MAX_RANGES_BYTES);
        }

        @Override
        public void encode(Ack e, ByteBuf out) {
            out.writeByte(e.kind());
            writeRanges(e.ranges(), out);
        }

        @Override
        public Ack decode(ByteBuf in) throws ProtocolException {
            int kind = readAckKind(in);
            return new Ack(kind, readRanges(in));
        }

        @Override
        public void writeJson(Ack e, ObjectNode node) {
            node.put("kind", ackKindLabel(e.kind()));
            writeRangesJson(e.ranges(), node);
        }

        @Override
        public Ack readJson(ObjectNode node) {
            return new Ack(ackKind(node.path("kind").asText()), readRangesJson(node));
        }
    }

    static final class ForwardAckCodec extends BaseEventCodec<ForwardAck> {
        ForwardAckCodec() {
            super(FORWARD_ACK, ForwardAck.class, 4 + 8 + 1 + MAX_RANGES_BYTES);
        }

        @Override
        public void encode(ForwardAck e, ByteBuf out) {
            out.writeInt((int) e.originProbe());
            out.writeLong(e.originBoot());
            out.writeByte(e.kind());
            writeRanges(e.ranges(), out);
        }

        @Override
        public ForwardAck decode(ByteBuf in) throws ProtocolException {
            long probe = Wire.readU32(in, "origin probe");
            if (probe == 0) {
                throw new ProtocolException(DropReason.MALFORMED_RECORD, "origin probe id 0 is reserved");
            }
            long boot = Wire.readU64(in, "origin boot");
            int kind = readAckKind(in);
            return new ForwardAck(probe, boot, kind, readRanges(in));
        }

        @Override
        public void writeJson(ForwardAck e, ObjectNode node) {
            node.put("origin_probe", e.originProbe()).put("origin_boot", e.originBoot()).put("kind", ackKindLabel(e
                    .kind()));
            writeRangesJson(e.ranges(), node);
        }

        @Override
        public ForwardAck readJson(ObjectNode node) {
            return new ForwardAck(node.path("origin_probe").asLong(), node.path("origin_boot").asLong(), ackKind(node
                    .path("kind").asText()), readRangesJson(node));
        }
    }
}
