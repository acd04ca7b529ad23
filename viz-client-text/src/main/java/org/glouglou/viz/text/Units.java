package org.glouglou.viz.text;

import java.util.Locale;

/** Byte counts and rates in the units people read at a glance (1.2 MB, 340 kB/s), decimal as network tools use. */
final class Units {
    private Units() {
    }

    static String bytes(long b) {
        if (b < 1000) {
            return b + " B";
        }
        String[] u = {"kB", "MB", "GB", "TB", "PB"};
        double v = b;
        int i = -1;
        while (v >= 1000 && i < u.length - 1) {
            v /= 1000;
            i++;
        }
        return String.format(Locale.ROOT, v < 10 ? "%.1f %s" : "%.0f %s", v, u[i]);
    }

    static String rate(long bytesPerSecond) {
        return bytes(bytesPerSecond) + "/s";
    }
}
