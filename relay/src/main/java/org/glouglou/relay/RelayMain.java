package org.glouglou.relay;

/** Entry point of the glouglou relay. */
public final class RelayMain {
    private RelayMain() {
    }

    public static void main(String[] args) {
        System.err.println("glouglou relay: not implemented yet (issue 7); nothing to run");
        System.exit(2);
    }
}
