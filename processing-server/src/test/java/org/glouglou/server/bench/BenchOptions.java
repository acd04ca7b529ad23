package org.glouglou.server.bench;

import java.util.HashMap;
import java.util.Map;

/** The benches' command lines: {@code --name value} pairs over defaults. */
public final class BenchOptions {
    private BenchOptions() {
    }

    /** {@code defaults} with each {@code --name value} pair of {@code args} put over it. */
    public static Map<String, String> parse(String[] args, Map<String, String> defaults) {
        Map<String, String> a = new HashMap<>(defaults);
        for (int i = 0; i + 1 < args.length; i += 2) {
            a.put(args[i], args[i + 1]);
        }
        return a;
    }
}
