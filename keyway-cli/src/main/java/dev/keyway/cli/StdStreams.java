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
    /** Whether standard output is a terminal, as far as Java can tell (no console when it is redirected). */
    static volatile boolean terminal = System.console() != null;

    private StdStreams() {
    }
}
