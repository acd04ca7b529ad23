package org.glouglou.module.process;

import static org.glouglou.module.process.ProcessEvents.*;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.glouglou.spi.Event;
import org.glouglou.spi.EventCodec;
import org.glouglou.spi.GlouglouModule;
import org.glouglou.spi.testkit.ModuleCompatibilityKit;

class ProcessModuleCompatibilityTest extends ModuleCompatibilityKit {
    @Override
    protected GlouglouModule module() {
        return new ProcessModule();
    }

    static String word(Random r, int max) {
        StringBuilder sb = new StringBuilder();
        for (int i = r.nextInt(max + 1); i > 0; i--) {
            sb.append((char) ('a' + r.nextInt(26)));
        }
        return sb.toString();
    }

    @Override
    protected Event randomEvent(EventCodec<?> codec, Random r) {
        long pid = r.nextInt(4_194_304);
        return switch (codec.type().name()) {
            case "FORK" -> new Fork(pid, r.nextInt(4_194_304));
            case "EXEC" -> {
                List<String> args = new ArrayList<>();
                for (int i = r.nextInt(8); i > 0; i--) {
                    args.add(word(r, 20));
                }
                yield new Exec(pid, r.nextInt(70000), "/usr/bin/" + word(r, 12), List.copyOf(args), r.nextBoolean());
            }
            case "EXIT" -> new Exit(pid, r.nextInt(), r.nextInt(65));
            case "CONNPROC" -> new ConnProc(1 + (r.nextLong() >>> r.nextInt(64)), pid);
            default -> throw new IllegalArgumentException(codec.type().toString());
        };
    }
}
