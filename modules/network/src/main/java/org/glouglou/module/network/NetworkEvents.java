package org.glouglou.module.network;

import java.net.InetAddress;
import java.util.List;
import org.glouglou.spi.Event;
import org.glouglou.spi.EventType;

/**
 * Events of the network module, id 1 (spec section 4.1). DATA and DELCONN name their flow by the probe-local
 * connection id of its NEWCONN; their {@code flow} field is not on the wire: the sender fills it, and a receiver that
 * tracks NEWCONN may fill it (it is null after decoding).
 */
public final class NetworkEvents {
    public static final int MODULE_ID = 1;
    public static final EventType NEWCONN = new EventType(MODULE_ID, 1, "NEWCONN");
    public static final EventType DELCONN = new EventType(MODULE_ID, 2, "DELCONN");
    public static final EventType DATA = new EventType(MODULE_ID, 3, "DATA");
    public static final EventType NAME = new EventType(MODULE_ID, 4, "NAME");
    public static final EventType TRACE = new EventType(MODULE_ID, 5, "TRACE");

    private NetworkEvents() {
    }

    /** A flow's first packet. */
    public record NewConn(long conn, FlowKey flow) implements Event {
        @Override
        public EventType type() {
            return NEWCONN;
        }
    }

    /**
     * Traffic of one flow during one tick, per direction: packets and IP-layer bytes (src to dst, dst to src).
     */
    public record Data(long conn, long srcPkts, long srcBytes, long dstPkts, long dstBytes, FlowKey flow)
            implements
                Event {
        @Override
        public EventType type() {
            return DATA;
        }

        public Data withFlow(FlowKey f) {
            return new Data(conn, srcPkts, srcBytes, dstPkts, dstBytes, f);
        }
    }

    /** Why a flow ended; wire codes are explicit. */
    public enum Reason {
        FIN(1, "fin"), RST(2, "rst"), IDLE(3, "idle"), EVICTED(4, "evicted"), END(5, "end"), SHUTDOWN(6, "shutdown");

        public final int code;
        public final String label;

        Reason(int code, String label) {
            this.code = code;
            this.label = label;
        }

        public static Reason valueOf(int code) {
            for (Reason r : values()) {
                if (r.code == code) {
                    return r;
                }
            }
            return null;
        }

        public static Reason ofLabel(String label) {
            for (Reason r : values()) {
                if (r.label.equals(label)) {
                    return r;
                }
            }
            throw new IllegalArgumentException("unknown DELCONN reason " + label);
        }
    }

    /** A flow's end, with its totals since NEWCONN. */
    public record DelConn(long conn, Reason reason, long srcPkts, long srcBytes, long dstPkts, long dstBytes,
            FlowKey flow) implements Event {
        @Override
        public EventType type() {
            return DELCONN;
        }

        public DelConn withFlow(FlowKey f) {
            return new DelConn(conn, reason, srcPkts, srcBytes, dstPkts, dstBytes, f);
        }
    }

    /** Where a name came from; wire codes are explicit. */
    public enum NameSource {
        DNS_A(1, "dns_a"), DNS_AAAA(2, "dns_aaaa"), DNS_CNAME(3, "dns_cname"), DNS_PTR(4, "dns_ptr"), MDNS(5,
                "mdns"), CONFIG(6, "config");

        public final int code;
        public final String label;

        NameSource(int code, String label) {
            this.code = code;
            this.label = label;
        }

        public static NameSource valueOf(int code) {
            for (NameSource s : values()) {
                if (s.code == code) {
                    return s;
                }
            }
            return null;
        }

        public static NameSource ofLabel(String label) {
            for (NameSource s : values()) {
                if (s.label.equals(label)) {
                    return s;
                }
            }
            throw new IllegalArgumentException("unknown NAME source " + label);
        }
    }

    /**
     * An address has a name. For DNS_CNAME, {@code name} is the name that was asked, reached through a CNAME chain
     * ending at this address.
     */
    public record Name(InetAddress addr, String name, NameSource source, long ttlSeconds) implements Event {
        @Override
        public EventType type() {
            return NAME;
        }
    }

    /** How a distance was found; wire codes are explicit. */
    public enum TraceMethod {
        TTL_ESTIMATE(1, "ttl"), TRACEROUTE(2, "traceroute");

        public final int code;
        public final String label;

        TraceMethod(int code, String label) {
            this.code = code;
            this.label = label;
        }

        public static TraceMethod valueOf(int code) {
            for (TraceMethod m : values()) {
                if (m.code == code) {
                    return m;
                }
            }
            return null;
        }

        public static TraceMethod ofLabel(String label) {
            for (TraceMethod m : values()) {
                if (m.label.equals(label)) {
                    return m;
                }
            }
            throw new IllegalArgumentException("unknown TRACE method " + label);
        }
    }

    /** Distance of an address from the probe in hops, and the path when known (nearest hop first). */
    public record Trace(InetAddress addr, int hops, TraceMethod method, List<InetAddress> path) implements Event {
        @Override
        public EventType type() {
            return TRACE;
        }
    }
}
