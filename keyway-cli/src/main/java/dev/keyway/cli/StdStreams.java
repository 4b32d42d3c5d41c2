package dev.keyway.cli;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * The raw standard streams for binary data (picocli's writers carry text only). Tests that run the
 * CLI in process replace them.
 */
final class StdStreams {
    static volatile InputStream in = new FileInputStream(FileDescriptor.in);
    static volatile OutputStream out = new FileOutputStream(FileDescriptor.out);
    /** Raw standard error, for bytes that must pass through exactly (a remote command's stderr). */
    static volatile OutputStream err = new FileOutputStream(FileDescriptor.err);
    /**
     * Whether standard output is a terminal. Java 17 cannot ask about one stream (System.console() needs
     * stdin and stdout both to be terminals), so the ./keyway launcher tests it ({@code [ -t 1 ]}) and
     * says so in a system property; without the launcher, the console is the best guess.
     */
    static volatile boolean terminal = tty("keyway.stdout.tty");
    /** Whether standard error is a terminal: progress bars go there. */
    static volatile boolean errTerminal = tty("keyway.stderr.tty");
    /** Whether standard input is a terminal: a command that would read it to its end (several hosts' stdin) does not. */
    static volatile boolean inTerminal = tty("keyway.stdin.tty");

    private static boolean tty(String property) {
        String v = System.getProperty(property);
        return v != null ? v.equals("true") : System.console() != null;
    }

    private StdStreams() {
    }
}
