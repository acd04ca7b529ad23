package org.glouglou.module.network;

import static org.glouglou.module.network.NetworkEvents.*;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.glouglou.spi.Event;
import org.glouglou.spi.EventCodec;
import org.glouglou.spi.GlouglouModule;
import org.glouglou.spi.testkit.ModuleCompatibilityKit;

class NetworkModuleCompatibilityTest extends ModuleCompatibilityKit {
    @Override
    protected GlouglouModule module() {
        return new NetworkModule();
    }

    static InetAddress addr(Random r, boolean v6) {
        byte[] b = new byte[v6 ? 16 : 4];
        r.nextBytes(b);
        try {
            return InetAddress.getByAddress(b);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    static FlowKey flow(Random r) {
        boolean v6 = r.nextBoolean();
        int[] protos = {6, 17, 1, 58, 132, 47};
        return new FlowKey(protos[r.nextInt(protos.length)], addr(r, v6), r.nextInt(65536), addr(r, v6), r.nextInt(
                65536));
    }

    static long count(Random r) {
        return r.nextLong() >>> (1 + r.nextInt(63));
    }

    @Override
    protected Event randomEvent(EventCodec<?> codec, Random r) {
        long conn = 1 + (r.nextLong() >>> (1 + r.nextInt(63)));
        return switch (codec.type().name()) {
            case "NEWCONN" -> new NewConn(conn, flow(r));
            case "DATA" -> new Data(conn, count(r), count(r), count(r), count(r), r.nextBoolean() ? flow(r) : null);
            case "DELCONN" -> new DelConn(conn, Reason.values()[r.nextInt(Reason.values().length)], count(r), count(r),
                    count(r), count(r), r.nextBoolean() ? flow(r) : null);
            case "NAME" -> {
                StringBuilder name = new StringBuilder();
                for (int i = 1 + r.nextInt(4); i > 0; i--) {
                    name.append("x").append(r.nextInt(100000)).append('.');
                }
                yield new Name(addr(r, r.nextBoolean()), name.append("example").toString(), NameSource.values()[r
                        .nextInt(NameSource.values().length)], r.nextInt(86400 * 7));
            }
            case "TRACE" -> {
                List<InetAddress> path = new ArrayList<>();
                for (int i = r.nextInt(5); i > 0; i--) {
                    path.add(addr(r, r.nextBoolean()));
                }
                yield new Trace(addr(r, r.nextBoolean()), r.nextInt(256), TraceMethod.values()[r.nextInt(TraceMethod
                        .values().length)], List.copyOf(path));
            }
            default -> throw new IllegalArgumentException(codec.type().toString());
        };
    }

    /** DATA and DELCONN carry only the connection id on the wire. */
    @Override
    protected Event wireForm(Event e) {
        if (e instanceof Data d) {
            return d.withFlow(null);
        }
        if (e instanceof DelConn d) {
            return d.withFlow(null);
        }
        return e;
    }
}
