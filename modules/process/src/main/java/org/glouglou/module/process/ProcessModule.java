package org.glouglou.module.process;

import static org.glouglou.module.process.ProcessEvents.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.glouglou.protocol.DropReason;
import org.glouglou.protocol.ProtocolException;
import org.glouglou.protocol.Varint;
import org.glouglou.protocol.Wire;
import org.glouglou.spi.BaseEventCodec;
import org.glouglou.spi.EventCodec;
import org.glouglou.spi.GlouglouModule;

/** The process module: processes starting and ending, and which process owns a connection (spec section 4.2). */
public final class ProcessModule implements GlouglouModule {
    /** 256: longer than typical executable paths, short enough to keep EXEC within a datagram with others. */
    static final int MAX_COMMAND = 256;
    /** 32 arguments, 1024 bytes together: enough to recognise a command line, bounded for the wire. */
    static final int MAX_ARGS = 32;
    static final int MAX_ARGS_BYTES = 1024;
    /** pids are 22 bits on Linux (pid_max 4194304); 32 bits leave room for other systems. */
    static final long MAX_PID = 0xFFFFFFFFL;

    private final List<EventCodec<?>> codecs = List.of(new ForkCodec(), new ExecCodec(), new ExitCodec(),
            new ConnProcCodec());

    @Override
    public int id() {
        return MODULE_ID;
    }

    @Override
    public String name() {
        return "process";
    }

    @Override
    public String version() {
        return "1.0";
    }

    @Override
    public List<EventCodec<?>> codecs() {
        return codecs;
    }

    static long readPid(ByteBuf in, String field) throws ProtocolException {
        long pid = Varint.read(in);
        if (pid < 0 || pid > MAX_PID) {
            throw new ProtocolException(DropReason.MALFORMED_RECORD, field + " " + Long.toUnsignedString(pid)
                    + " is over 32 bits");
        }
        return pid;
    }

    /** Cuts arguments to the bounds; returns the kept ones. */
    static List<String> boundArgs(List<String> args) {
        List<String> kept = new ArrayList<>();
        int bytes = 0;
        for (String a : args) {
            int n = a.getBytes(StandardCharsets.UTF_8).length;
            if (kept.size() == MAX_ARGS || bytes + n > MAX_ARGS_BYTES) {
                break;
            }
            kept.add(a);
            bytes += n;
        }
        return kept;
    }

    static final class ForkCodec extends BaseEventCodec<Fork> {
        ForkCodec() {
            super(FORK, Fork.class, 10);
        }

        @Override
        public void encode(Fork e, ByteBuf out) {
            Varint.write(out, e.pid());
            Varint.write(out, e.ppid());
        }

        @Override
        public Fork decode(ByteBuf in) throws ProtocolException {
            return new Fork(readPid(in, "pid"), readPid(in, "ppid"));
        }

        @Override
        public void writeJson(Fork e, ObjectNode node) {
            node.put("pid", e.pid()).put("ppid", e.ppid());
        }

        @Override
        public Fork readJson(ObjectNode node) {
            return new Fork(node.path("pid").asLong(), node.path("ppid").asLong());
        }

        @Override
        public String toText(Fork e) {
            return "process " + e.pid() + " forked from " + e.ppid();
        }
    }

    static final class ExecCodec extends BaseEventCodec<Exec> {
        ExecCodec() {
            super(EXEC, Exec.class, 5 + 5 + 1 + 2 + MAX_COMMAND + 1 + MAX_ARGS * 2 + MAX_ARGS_BYTES);
        }

        @Override
        public void encode(Exec e, ByteBuf out) {
            Varint.write(out, e.pid());
            Varint.write(out, e.uid());
            List<String> args = boundArgs(e.args());
            boolean cut = e.truncated() || args.size() < e.args().size()
                    || e.command().getBytes(StandardCharsets.UTF_8).length > MAX_COMMAND;
            out.writeByte(cut ? 1 : 0);
            Wire.writeString(out, e.command(), MAX_COMMAND);
            out.writeByte(args.size());
            for (String a : args) {
                Wire.writeString(out, a, MAX_ARGS_BYTES);
            }
        }

        @Override
        public Exec decode(ByteBuf in) throws ProtocolException {
            long pid = readPid(in, "pid");
            long uid = readPid(in, "uid");
            int flags = Wire.readU8(in, "flags");
            if ((flags & ~1) != 0) {
                throw new ProtocolException(DropReason.MALFORMED_RECORD, "EXEC flags 0x" + Integer.toHexString(flags));
            }
            String cmd = Wire.readString(in, MAX_COMMAND, "command");
            int n = Wire.readU8(in, "argument count");
            if (n > MAX_ARGS) {
                throw new ProtocolException(DropReason.MALFORMED_RECORD, n + " arguments, at most " + MAX_ARGS);
            }
            List<String> args = new ArrayList<>(n);
            int total = 0;
            for (int i = 0; i < n; i++) {
                String a = Wire.readString(in, MAX_ARGS_BYTES - total, "argument");
                total += a.getBytes(StandardCharsets.UTF_8).length;
                args.add(a);
            }
            return new Exec(pid, uid, cmd, List.copyOf(args), flags == 1);
        }

        @Override
        public void writeJson(Exec e, ObjectNode node) {
            node.put("pid", e.pid()).put("uid", e.uid()).put("command", e.command());
            ArrayNode a = node.putArray("args");
            e.args().forEach(a::add);
            node.put("truncated", e.truncated());
        }

        @Override
        public Exec readJson(ObjectNode node) {
            List<String> args = new ArrayList<>();
            for (JsonNode a : node.path("args")) {
                args.add(a.asText());
            }
            return new Exec(node.path("pid").asLong(), node.path("uid").asLong(), node.path("command").asText(),
                    List.copyOf(args), node.path("truncated").asBoolean());
        }

        @Override
        public String toText(Exec e) {
            return "process " + e.pid() + " (uid " + e.uid() + ") runs " + String.join(" ", e.args().isEmpty()
                    ? List.of(e.command())
                    : e.args());
        }
    }

    static final class ExitCodec extends BaseEventCodec<Exit> {
        ExitCodec() {
            super(EXIT, Exit.class, 5 + 5 + 1);
        }

        @Override
        public void encode(Exit e, ByteBuf out) {
            Varint.write(out, e.pid());
            Varint.writeSigned(out, e.code());
            out.writeByte(e.signal());
        }

        @Override
        public Exit decode(ByteBuf in) throws ProtocolException {
            long pid = readPid(in, "pid");
            long code = Varint.readSigned(in);
            if (code < Integer.MIN_VALUE || code > Integer.MAX_VALUE) {
                throw new ProtocolException(DropReason.MALFORMED_RECORD, "exit code " + code + " is over 32 bits");
            }
            return new Exit(pid, (int) code, Wire.readU8(in, "signal"));
        }

        @Override
        public void writeJson(Exit e, ObjectNode node) {
            node.put("pid", e.pid()).put("code", e.code()).put("signal", e.signal());
        }

        @Override
        public Exit readJson(ObjectNode node) {
            return new Exit(node.path("pid").asLong(), node.path("code").asInt(), node.path("signal").asInt());
        }

        @Override
        public String toText(Exit e) {
            return "process " + e.pid() + (e.signal() != 0
                    ? " killed by signal " + e.signal()
                    : " exited "
                            + e.code());
        }
    }

    static final class ConnProcCodec extends BaseEventCodec<ConnProc> {
        ConnProcCodec() {
            super(CONNPROC, ConnProc.class, 15);
        }

        @Override
        public void encode(ConnProc e, ByteBuf out) {
            Varint.write(out, e.conn());
            Varint.write(out, e.pid());
        }

        @Override
        public ConnProc decode(ByteBuf in) throws ProtocolException {
            return new ConnProc(Varint.read(in), readPid(in, "pid"));
        }

        @Override
        public void writeJson(ConnProc e, ObjectNode node) {
            node.put("conn", e.conn()).put("pid", e.pid());
        }

        @Override
        public ConnProc readJson(ObjectNode node) {
            return new ConnProc(node.path("conn").asLong(), node.path("pid").asLong());
        }
    }
}
