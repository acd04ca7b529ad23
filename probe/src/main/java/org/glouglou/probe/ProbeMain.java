package org.glouglou.probe;

/** Entry point of the glouglou probe. */
public final class ProbeMain {
    private ProbeMain() {
    }

    public static void main(String[] args) {
        System.err.println("glouglou probe: not implemented yet (issue 3); nothing to run");
        System.exit(2);
    }
}
