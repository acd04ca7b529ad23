package org.glouglou.viz.gs;

/** Entry point of the glouglou desktop viewer. */
public final class ViewerMain {
    private ViewerMain() {
    }

    public static void main(String[] args) {
        System.err.println("glouglou desktop viewer: not implemented yet (issue 6); nothing to run");
        System.exit(2);
    }
}
