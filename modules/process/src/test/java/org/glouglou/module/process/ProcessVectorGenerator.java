package org.glouglou.module.process;

import static org.glouglou.module.process.ProcessEvents.*;

import java.nio.file.Path;
import java.util.List;
import org.glouglou.spi.ModuleRegistry;
import org.glouglou.spi.TimedEvent;
import org.glouglou.spi.testkit.VectorFile;

/** Writes the process module's test vectors (spec 4.2, appendix A) to src/test/resources/vectors. */
public final class ProcessVectorGenerator {
    static final long T0 = 1_763_683_200_000_000L;
    static final long PROBE = 7;

    public static void main(String[] args) {
        Path dir = Path.of(args.length > 0 ? args[0] : "src/test/resources/vectors");
        ModuleRegistry r = new ModuleRegistry(List.of(new ProcessModule()));
        VectorFile life = new VectorFile(r, "A process's life: FORK, EXEC, CONNPROC, EXIT (spec 4.2).", null);
        life.good("curl forked from a shell, runs, owns connection 12, exits", PROBE, 1, 1, List.of(new TimedEvent(
                PROBE, T0, new Fork(4242, 4100)),
                new TimedEvent(PROBE, T0 + 2000, new Exec(4242, 1000, "/usr/bin/curl",
                        List.of("curl", "-s", "https://example.org/"), false)),
                new TimedEvent(PROBE, T0 + 5000,
                        new ConnProc(12, 4242)),
                new TimedEvent(PROBE, T0 + 900_000, new Exit(4242, 0, 0))));
        life.good("killed by SIGKILL; exit code -1 zigzag-encoded", PROBE, 1, 2, List.of(new TimedEvent(PROBE, T0,
                new Exit(4300, -1, 9))));
        life.write(dir.resolve("process-life.json"));

        VectorFile bad = new VectorFile(r, "Malformed process records.", null);
        byte[] ok = bad.encode(PROBE, 1, 3, List.of(new TimedEvent(PROBE, T0, new Exec(1, 0, "/sbin/init", List.of(),
                false)), new TimedEvent(PROBE, T0, new Fork(2, 1))));
        byte[] flags = ok.clone();
        flags[26 + 3 + 2] = 2; // EXEC: pid(1) uid(1) flags
        bad.partial("EXEC with an unknown flag bit", flags, PROBE, List.of(new TimedEvent(PROBE, T0, new Fork(2, 1))),
                List.of("malformed_record"));
        byte[] many = ok.clone();
        many[26 + 3 + 3 + 11] = 33; // argument count after the 11-byte command string
        bad.partial("EXEC declaring 33 arguments", many, PROBE, List.of(new TimedEvent(PROBE, T0, new Fork(2, 1))),
                List.of("malformed_record"));
        bad.write(dir.resolve("malformed.json"));
    }
}
