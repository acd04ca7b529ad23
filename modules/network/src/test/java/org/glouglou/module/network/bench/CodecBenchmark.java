package org.glouglou.module.network.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.glouglou.protocol.DropReason;
import org.glouglou.protocol.ProtocolConstants;
import org.glouglou.protocol.ProtocolException;
import org.glouglou.protocol.RecordDecoder;
import org.glouglou.protocol.crypto.SessionCipher;
import org.glouglou.spi.Event;
import org.glouglou.spi.TimedEvent;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Encode and decode throughput of network events (spec 4.1, 9), in events per second, for 100 connection lives
 * (NEWCONN, 8 DATA, DELCONN each) over IPv4 or IPv6, plain or sealed with ChaCha20-Poly1305. Run with
 * scripts/bench-codec.sh.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(2)
@State(Scope.Thread)
public class CodecBenchmark {
    static final int FLOWS = 100;
    static final int DATA_TICKS = 8;
    static final int EVENTS = FLOWS * (DATA_TICKS + 2);

    @Param({"4", "6"})
    int family;

    @Param({"false", "true"})
    boolean sealed;

    List<TimedEvent> events;
    List<byte[]> datagrams;
    ByteBuf scratch;
    SessionCipher opener;
    RecordDecoder decoder;

    @Setup(Level.Trial)
    public void setup() {
        events = FlowMix.connectionLives(FLOWS, DATA_TICKS, family == 6, 1_700_000_000_000_000L);
        datagrams = new ArrayList<>();
        FlowMix.encode(events, ProtocolConstants.DEFAULT_MAX_DATAGRAM, sealed ? WireCost.KEY : null, false, d -> {
            byte[] b = new byte[d.readableBytes()];
            d.readBytes(b);
            datagrams.add(b);
        });
        scratch = Unpooled.buffer(ProtocolConstants.DEFAULT_MAX_DATAGRAM);
        opener = new SessionCipher(WireCost.KEY);
        decoder = new RecordDecoder(FlowMix.REGISTRY);
    }

    @Benchmark
    @OperationsPerInvocation(EVENTS)
    public void encode(Blackhole bh) {
        FlowMix.encode(events, ProtocolConstants.DEFAULT_MAX_DATAGRAM, sealed ? WireCost.KEY : null, false,
                bh::consume);
    }

    @Benchmark
    @OperationsPerInvocation(EVENTS)
    public void decode(Blackhole bh) throws ProtocolException {
        RecordDecoder.Listener sink = new RecordDecoder.Listener() {
            @Override
            public void onEvent(long timeMicros, Event event) {
                bh.consume(event);
            }

            @Override
            public void onSkipped(DropReason reason, String detail) {
                throw new IllegalStateException(detail);
            }
        };
        for (byte[] d : datagrams) {
            // opening is in place: decode a fresh copy each time, as a receiver gets a fresh datagram
            scratch.clear().writeBytes(d);
            if (sealed) {
                opener.open(scratch);
            }
            long base = scratch.getLong(18);
            scratch.skipBytes(ProtocolConstants.HEADER_LENGTH);
            decoder.decode(scratch, base, sink);
        }
    }
}
