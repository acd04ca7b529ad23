package org.glouglou.viz.text;

/** Entry point of the glouglou text client. */
public final class TextClientMain {
    private TextClientMain() {
    }

    public static void main(String[] args) {
        System.err.println("glouglou text client: not implemented yet (issue 6); nothing to run");
        System.exit(2);
    }
}
