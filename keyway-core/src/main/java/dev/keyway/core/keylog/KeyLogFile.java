package dev.keyway.core.keylog;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.encoding.Hex;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A {@link KeyLog} that appends RFC 9850 lines to a file. Each line is written whole, with one write
 * under an exclusive file lock, so writers in this process (serialised on a per-file monitor, since a
 * JVM may not hold two locks on one file) and in other processes never interleave inside a line. A new
 * file is created with mode 0600: it holds secrets.
 */
public final class KeyLogFile implements KeyLog, Closeable {
    private static final ConcurrentHashMap<Path, Object> MONITORS = new ConcurrentHashMap<>();

    private final Path path;
    private final FileChannel channel;
    private final Object monitor;

    private KeyLogFile(Path path, FileChannel channel) {
        this.path = path;
        this.channel = channel;
        this.monitor = MONITORS.computeIfAbsent(path, p -> new Object());
    }

    /** Opens {@code path} for appending, creating it 0600 when it does not exist. */
    public static KeyLogFile open(Path path) {
        Path p = path.toAbsolutePath().normalize();
        try {
            FileChannel ch;
            if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
                FileAttribute<?> perms = PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));
                ch = FileChannel.open(p, Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                        StandardOpenOption.APPEND), perms);
            } else {
                ch = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
            }
            return new KeyLogFile(p, ch);
        } catch (IOException e) {
            throw new KeywayException(ErrorCode.IO, "cannot open key log " + path + ": " + e.getMessage(),
                    "check that the directory exists and is writable", e);
        }
    }

    public Path path() {
        return path;
    }

    @Override
    public void log(String label, byte[] clientRandom, byte[] secret) {
        KeyLogLabel known = KeyLogLabel.of(label);
        if (known == null) {
            throw new IllegalArgumentException("not an RFC 9850 label: " + label);
        }
        if (clientRandom.length != 32 || !known.allowsLength(secret.length)) {
            throw new IllegalArgumentException(label + " needs a 32-byte client random and " + known.lengths());
        }
        byte[] line = line(label, clientRandom, secret);
        try {
            synchronized (monitor) {
                try (FileLock ignored = channel.lock()) {
                    ByteBuffer buf = ByteBuffer.wrap(line);
                    while (buf.hasRemaining()) {
                        channel.write(buf);
                    }
                }
            }
        } catch (IOException e) {
            throw new KeywayException(ErrorCode.IO, "cannot write key log " + path + ": " + e.getMessage(),
                    "check the disk and the file's permissions", e);
        } finally {
            Arrays.fill(line, (byte) 0);
        }
    }

    static byte[] line(String label, byte[] clientRandom, byte[] secret) {
        char[] s = Hex.encode(secret).toCharArray();
        StringBuilder b = new StringBuilder(label.length() + 66 + s.length + 1);
        b.append(label).append(' ').append(Hex.encode(clientRandom)).append(' ').append(s).append('\n');
        Arrays.fill(s, '\0');
        byte[] out = b.toString().getBytes(StandardCharsets.US_ASCII);
        b.setLength(0);
        return out;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
