package org.glouglou.server;

/** Entry point of the glouglou processing server. */
public final class ServerMain {
    private ServerMain() {
    }

    public static void main(String[] args) {
        System.err.println("glouglou processing server: not implemented yet (issues 4 and 5); nothing to run");
        System.exit(2);
    }
}
