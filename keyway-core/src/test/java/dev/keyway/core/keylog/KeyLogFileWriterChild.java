package dev.keyway.core.keylog;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Random;

/**
 * Not a test: the main class that {@link KeyLogFileTest} starts in child JVMs to write one key log from
 * several processes at once. Every line is derived from (writer, index) so the parent can check each
 * line it reads back byte for byte.
 *
 * <p>Arguments: key log path, writer id, line count, go file (the writer waits until it exists, so all
 * writers start together).
 */
public final class KeyLogFileWriterChild {

    private KeyLogFileWriterChild() {
    }

    public static void main(String[] args) throws Exception {
        Path path = Path.of(args[0]);
        int writer = Integer.parseInt(args[1]);
        int count = Integer.parseInt(args[2]);
        Path go = Path.of(args[3]);
        long deadline = System.nanoTime() + 15_000_000_000L;
        while (!Files.exists(go)) {
            if (System.nanoTime() > deadline) {
                System.err.println("go file never appeared");
                System.exit(2);
            }
            Thread.sleep(1);
        }
        try (KeyLogFile log = KeyLogFile.open(path)) {
            for (int i = 0; i < count; i++) {
                log.log(label(i), clientRandom(writer, i), secret(writer, i));
            }
        }
        System.exit(0);
    }

    /** Mostly multi-kilobyte ECH_CONFIG lines (bigger than a pipe buffer or page), some short ones. */
    static String label(int index) {
        return index % 5 == 4 ? "CLIENT_RANDOM" : "ECH_CONFIG";
    }

    static byte[] clientRandom(int writer, int index) {
        byte[] r = new byte[32];
        new Random(31L * writer + 7L * index + 1).nextBytes(r);
        ByteBuffer.wrap(r).putInt(writer).putInt(index);
        return r;
    }

    static byte[] secret(int writer, int index) {
        Random rnd = new Random(1_000_003L * writer + index);
        int length = "CLIENT_RANDOM".equals(label(index)) ? 48 : 3000 + rnd.nextInt(7000);
        byte[] s = new byte[length];
        rnd.nextBytes(s);
        return s;
    }

    /** The exact text of one line, built without KeyLogFile's own formatting. */
    static String expectedLine(int writer, int index) {
        HexFormat hex = HexFormat.of();
        return label(index) + " " + hex.formatHex(clientRandom(writer, index)) + " " + hex.formatHex(secret(writer, index)) + "\n";
    }
}
