package org.glouglou.protocol;

import static org.glouglou.protocol.internal.InternalEvents.*;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.glouglou.protocol.internal.InternalModule;
import org.glouglou.spi.Event;
import org.glouglou.spi.EventCodec;
import org.glouglou.spi.GlouglouModule;
import org.glouglou.spi.testkit.ModuleCompatibilityKit;

/** The protocol's own module passes the same kit as every plug-in. */
class InternalModuleCompatibilityTest extends ModuleCompatibilityKit {
    @Override
    protected GlouglouModule module() {
        return InternalModule.INSTANCE;
    }

    @Override
    protected boolean delivered(EventCodec<?> codec) {
        return codec.type() != CLOCK;
    }

    static byte[] bytes(Random r, int n) {
        byte[] b = new byte[n];
        r.nextBytes(b);
        return b;
    }

    static String text(Random r, int max) {
        StringBuilder sb = new StringBuilder();
        int n = r.nextInt(max + 1);
        for (int i = 0; i < n; i++) {
            // mostly ASCII, some multi-byte characters to exercise UTF-8 handling
            sb.append(r.nextInt(10) == 0 ? (char) (0x00e0 + r.nextInt(20)) : (char) ('a' + r.nextInt(26)));
        }
        return sb.toString();
    }

    @Override
    protected Event randomEvent(EventCodec<?> codec, Random r) {
        return switch (codec.type().name()) {
            case "HELLO" -> {
                List<ModuleInfo> mods = new ArrayList<>();
                for (int i = r.nextInt(4); i > 0; i--) {
                    mods.add(new ModuleInfo(1 + r.nextInt(255), text(r, 10), text(r, 5)));
                }
                yield new Hello(bytes(r, 32), r.nextLong(), text(r, 30), text(r, 20), List.copyOf(mods));
            }
            case "CHALLENGE" -> new Challenge(bytes(r, 32), r.nextInt() & 0xFFFFFFFFL, r.nextLong());
            case "AUTH" -> new Auth(bytes(r, 32));
            case "AUTH_OK" -> new AuthOk(bytes(r, 32), r.nextInt(86401));
            case "AUTH_FAIL" -> new AuthFail(r.nextInt(256), text(r, 100));
            case "PING" -> new Ping(r.nextLong());
            case "PONG" -> new Pong(r.nextLong());
            case "NOTICE" -> new Notice(r.nextInt(8), text(r, 200));
            case "STATS" -> {
                Map<String, Long> m = new LinkedHashMap<>();
                for (int i = r.nextInt(10); i > 0; i--) {
                    m.put("c" + i + text(r, 8), r.nextLong() >>> r.nextInt(64));
                }
                yield new Stats(m);
            }
            case "FORWARD" -> {
                long[] path = new long[1 + r.nextInt(8)];
                for (int i = 0; i < path.length; i++) {
                    path[i] = 1 + (r.nextInt() & 0x7FFFFFFFL);
                }
                yield new Forward(1 + r.nextInt(100000), r.nextLong(), r.nextLong() >>> 1,
                        r.nextLong() >>> 8, path, bytes(r, r.nextInt(300)));
            }
            case "CLOCK" -> new Clock(r.nextLong() >> r.nextInt(64));
            case "BYE" -> new Bye(r.nextInt(256));
            case "ACK" -> new Ack(1 + r.nextInt(2), randomRanges(r));
            case "FORWARD_ACK" -> new ForwardAck(1 + (r.nextInt() & 0x7FFFFFFFL), r.nextLong(), 1 + r.nextInt(2),
                    randomRanges(r));
            default -> throw new IllegalArgumentException(codec.type().toString());
        };
    }

    /** 1 to 32 ascending, disjoint ranges, small and huge sequence numbers alike. */
    static SeqRanges randomRanges(Random r) {
        int n = 1 + r.nextInt(SeqRanges.MAX_RANGES);
        long[] b = new long[2 * n];
        long at = r.nextBoolean() ? 1 + r.nextInt(1000) : 1 + (r.nextLong() >>> 8);
        for (int i = 0; i < n; i++) {
            b[2 * i] = at;
            b[2 * i + 1] = at + r.nextInt(r.nextBoolean() ? 3 : 5000);
            at = b[2 * i + 1] + 2 + r.nextInt(100);
        }
        return new SeqRanges(b);
    }
}
