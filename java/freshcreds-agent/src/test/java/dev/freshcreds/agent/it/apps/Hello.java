package dev.freshcreds.agent.it.apps;

/** The start-up benchmark's smallest application: prints one line. */
public final class Hello {
    private Hello() {}

    public static void main(String[] args) {
        System.out.println("hello");
    }
}
