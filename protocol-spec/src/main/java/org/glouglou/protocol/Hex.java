package org.glouglou.protocol;

import java.util.HexFormat;

/** Lower-case hex, for byte fields in the JSON form and in test vectors. */
public final class Hex {
    private static final HexFormat HEX = HexFormat.of();

    private Hex() {
    }

    public static String encode(byte[] b) {
        return HEX.formatHex(b);
    }

    public static byte[] decode(String s) {
        return HEX.parseHex(s.replaceAll("\\s+", ""));
    }
}
