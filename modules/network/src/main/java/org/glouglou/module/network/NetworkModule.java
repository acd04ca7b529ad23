package org.glouglou.module.network;

import static org.glouglou.module.network.NetworkEvents.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import org.glouglou.module.network.capture.NetworkProbeFactory;
import org.glouglou.module.network.server.NetworkKeys;
import org.glouglou.protocol.DropReason;
import org.glouglou.protocol.ProtocolException;
import org.glouglou.protocol.Varint;
import org.glouglou.protocol.Wire;
import org.glouglou.spi.BaseEventCodec;
import org.glouglou.spi.EventCodec;
import org.glouglou.spi.GlouglouModule;
import org.glouglou.spi.ProbeSource;

/** The network module: flows, traffic, names and distances seen in captured packets (spec section 4.1). */
public final class NetworkModule implements GlouglouModule {
    /** 253: the longest DNS name in text form. */
    static final int MAX_NAME = 253;
    /** 32: more hops than any real path (traceroute's default maximum is 30). */
    static final int MAX_PATH = 32;

    private final List<EventCodec<?>> codecs = List.of(new NewConnCodec(), new DelConnCodec(), new DataCodec(),
            new NameCodec(), new TraceCodec());

    @Override
    public int id() {
        return MODULE_ID;
    }

    @Override
    public String name() {
        return "network";
    }

    @Override
    public String version() {
        return "1.0";
    }

    @Override
    public List<EventCodec<?>> codecs() {
        return codecs;
    }

    /** The server half: flows, links, hosts and names as Redis hashes (issue 4). */
    @Override
    public org.glouglou.spi.server.ServerSide serverSide() {
        return new org.glouglou.module.network.server.NetworkServerSide();
    }

    /** The viewer half: hosts and host pairs as graph elements (issue 5). */
    @Override
    public org.glouglou.spi.graph.GraphSide graphSide() {
        return new org.glouglou.module.network.graph.NetworkGraphSide();
    }

    /** The probe half: capture, flow table, DNS names, distances (issue 3). */
    @Override
    public ProbeSource.Factory probeSource() {
        return new NetworkProbeFactory();
    }

    public static String protoName(int proto) {
        return switch (proto) {
            case 1 -> "icmp";
            case 6 -> "tcp";
            case 17 -> "udp";
            case 58 -> "icmpv6";
            case 132 -> "sctp";
            default -> "ip" + proto;
        };
    }

    static void writeFlowJson(FlowKey f, ObjectNode node) {
        if (f != null) {
            node.put("proto", f.proto()).put("src", NetworkKeys.text(f.src())).put("sport", f.sport())
                    .put("dst", NetworkKeys.text(f.dst())).put("dport", f.dport());
        }
    }

    static FlowKey readFlowJson(ObjectNode node) {
        if (!node.has("src")) {
            return null;
        }
        return new FlowKey(node.path("proto").asInt(), parse(node.path("src").asText()), node.path("sport").asInt(),
                parse(node.path("dst").asText()), node.path("dport").asInt());
    }

    /** Parses a literal IPv4 or IPv6 address; never a DNS lookup. */
    static InetAddress parse(String literal) {
        if (!literal.matches("[0-9a-fA-F.:]+")) {
            throw new IllegalArgumentException("not an IP address literal: " + literal);
        }
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an IP address literal: " + literal, e);
        }
    }

    static final class NewConnCodec extends BaseEventCodec<NewConn> {
        NewConnCodec() {
            super(NEWCONN, NewConn.class, 10 + 1 + 1 + 32 + 4);
        }

        @Override
        public void encode(NewConn e, ByteBuf out) {
            FlowKey f = e.flow();
            Varint.write(out, e.conn());
            out.writeByte(f.proto());
            byte[] s = f.src().getAddress();
            byte[] d = f.dst().getAddress();
            out.writeByte(s.length == 4 ? 4 : 6);
            out.writeBytes(s);
            out.writeBytes(d);
            out.writeShort(f.sport());
            out.writeShort(f.dport());
        }

        @Override
        public NewConn decode(ByteBuf in) throws ProtocolException {
            long conn = Varint.read(in);
            int proto = Wire.readU8(in, "proto");
            int family = Wire.readU8(in, "family");
            int len = family == 4 ? 4 : family == 6 ? 16 : -1;
            if (len < 0) {
                throw new ProtocolException(DropReason.MALFORMED_RECORD, "family " + family + " is neither 4 nor 6");
            }
            byte[] s = Wire.readBytes(in, len, "src");
            byte[] d = Wire.readBytes(in, len, "dst");
            int sport = Wire.readU16(in, "sport");
            int dport = Wire.readU16(in, "dport");
            try {
                return new NewConn(conn, new FlowKey(proto, InetAddress.getByAddress(s), sport,
                        InetAddress.getByAddress(d), dport));
            } catch (UnknownHostException ex) {
                throw new AssertionError(ex); // length is 4 or 16
            }
        }

        @Override
        public void writeJson(NewConn e, ObjectNode node) {
            node.put("conn", e.conn());
            writeFlowJson(e.flow(), node);
        }

        @Override
        public NewConn readJson(ObjectNode node) {
            return new NewConn(node.path("conn").asLong(), readFlowJson(node));
        }
    }

    static final class DataCodec extends BaseEventCodec<Data> {
        DataCodec() {
            super(DATA, Data.class, 50);
        }

        @Override
        public void encode(Data e, ByteBuf out) {
            Varint.write(out, e.conn());
            Varint.write(out, e.srcPkts());
            Varint.write(out, e.srcBytes());
            Varint.write(out, e.dstPkts());
            Varint.write(out, e.dstBytes());
        }

        @Override
        public Data decode(ByteBuf in) throws ProtocolException {
            return new Data(Varint.read(in), Varint.read(in), Varint.read(in), Varint.read(in), Varint.read(in),
                    null);
        }

        @Override
        public void writeJson(Data e, ObjectNode node) {
            node.put("conn", e.conn());
            writeFlowJson(e.flow(), node);
            node.put("src_pkts", e.srcPkts()).put("src_bytes", e.srcBytes()).put("dst_pkts", e.dstPkts())
                    .put("dst_bytes", e.dstBytes());
        }

        @Override
        public Data readJson(ObjectNode node) {
            return new Data(node.path("conn").asLong(), node.path("src_pkts").asLong(),
                    node.path("src_bytes").asLong(), node.path("dst_pkts").asLong(), node.path("dst_bytes").asLong(),
                    readFlowJson(node));
        }
    }

    static final class DelConnCodec extends BaseEventCodec<DelConn> {
        DelConnCodec() {
            super(DELCONN, DelConn.class, 51);
        }

        @Override
        public void encode(DelConn e, ByteBuf out) {
            Varint.write(out, e.conn());
            out.writeByte(e.reason().code);
            Varint.write(out, e.srcPkts());
            Varint.write(out, e.srcBytes());
            Varint.write(out, e.dstPkts());
            Varint.write(out, e.dstBytes());
        }

        @Override
        public DelConn decode(ByteBuf in) throws ProtocolException {
            long conn = Varint.read(in);
            int code = Wire.readU8(in, "reason");
            Reason r = Reason.valueOf(code);
            if (r == null) {
                throw new ProtocolException(DropReason.MALFORMED_RECORD, "unknown DELCONN reason " + code);
            }
            return new DelConn(conn, r, Varint.read(in), Varint.read(in), Varint.read(in), Varint.read(in), null);
        }

        @Override
        public void writeJson(DelConn e, ObjectNode node) {
            node.put("conn", e.conn());
            writeFlowJson(e.flow(), node);
            node.put("reason", e.reason().label).put("src_pkts", e.srcPkts()).put("src_bytes", e.srcBytes())
                    .put("dst_pkts", e.dstPkts()).put("dst_bytes", e.dstBytes());
        }

        @Override
        public DelConn readJson(ObjectNode node) {
            return new DelConn(node.path("conn").asLong(), Reason.ofLabel(node.path("reason").asText()),
                    node.path("src_pkts").asLong(), node.path("src_bytes").asLong(), node.path("dst_pkts").asLong(),
                    node.path("dst_bytes").asLong(), readFlowJson(node));
        }
    }

    static final class NameCodec extends BaseEventCodec<Name> {
        NameCodec() {
            super(NAME, Name.class, 17 + 1 + 10 + 2 + MAX_NAME);
        }

        @Override
        public void encode(Name e, ByteBuf out) {
            Wire.writeAddress(out, e.addr());
            out.writeByte(e.source().code);
            Varint.write(out, e.ttlSeconds());
            Wire.writeString(out, e.name(), MAX_NAME);
        }

        @Override
        public Name decode(ByteBuf in) throws ProtocolException {
            InetAddress a = Wire.readAddress(in, "addr");
            int code = Wire.readU8(in, "source");
            NameSource s = NameSource.valueOf(code);
            if (s == null) {
                throw new ProtocolException(DropReason.MALFORMED_RECORD, "unknown NAME source " + code);
            }
            long ttl = Varint.read(in);
            String name = Wire.readString(in, MAX_NAME, "name");
            if (name.isEmpty()) {
                throw new ProtocolException(DropReason.MALFORMED_RECORD, "empty name");
            }
            return new Name(a, name, s, ttl);
        }

        @Override
        public void writeJson(Name e, ObjectNode node) {
            node.put("addr", NetworkKeys.text(e.addr())).put("name", e.name()).put("source", e.source().label)
                    .put("ttl", e.ttlSeconds());
        }

        @Override
        public Name readJson(ObjectNode node) {
            return new Name(parse(node.path("addr").asText()), node.path("name").asText(),
                    NameSource.ofLabel(node.path("source").asText()), node.path("ttl").asLong());
        }

        @Override
        public String toText(Name e) {
            return e.name() + " is " + NetworkKeys.text(e.addr());
        }
    }

    static final class TraceCodec extends BaseEventCodec<Trace> {
        TraceCodec() {
            super(TRACE, Trace.class, 17 + 1 + 1 + 1 + MAX_PATH * 17);
        }

        @Override
        public void encode(Trace e, ByteBuf out) {
            Wire.writeAddress(out, e.addr());
            out.writeByte(e.hops());
            out.writeByte(e.method().code);
            int n = Math.min(e.path().size(), MAX_PATH);
            out.writeByte(n);
            for (int i = 0; i < n; i++) {
                Wire.writeAddress(out, e.path().get(i));
            }
        }

        @Override
        public Trace decode(ByteBuf in) throws ProtocolException {
            InetAddress a = Wire.readAddress(in, "addr");
            int hops = Wire.readU8(in, "hops");
            int code = Wire.readU8(in, "method");
            TraceMethod m = TraceMethod.valueOf(code);
            if (m == null) {
                throw new ProtocolException(DropReason.MALFORMED_RECORD, "unknown TRACE method " + code);
            }
            int n = Wire.readU8(in, "path length");
            if (n > MAX_PATH) {
                throw new ProtocolException(DropReason.MALFORMED_RECORD, "path of " + n + " hops, at most "
                        + MAX_PATH);
            }
            List<InetAddress> path = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                path.add(Wire.readAddress(in, "path hop"));
            }
            return new Trace(a, hops, m, List.copyOf(path));
        }

        @Override
        public void writeJson(Trace e, ObjectNode node) {
            node.put("addr", NetworkKeys.text(e.addr())).put("hops", e.hops()).put("method", e.method().label);
            ArrayNode p = node.putArray("path");
            e.path().forEach(h -> p.add(NetworkKeys.text(h)));
        }

        @Override
        public Trace readJson(ObjectNode node) {
            List<InetAddress> path = new ArrayList<>();
            for (JsonNode h : node.path("path")) {
                path.add(parse(h.asText()));
            }
            return new Trace(parse(node.path("addr").asText()), node.path("hops").asInt(),
                    TraceMethod.ofLabel(node.path("method").asText()), List.copyOf(path));
        }
    }
}
