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
import java.nio.file.Files;
import java.nio.file.attribute.BasicFileAttributes;
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
    /** One monitor per file (by inode, so a symlink and the real path share it). */
    private static final ConcurrentHashMap<Object, Object> MONITORS = new ConcurrentHashMap<>();

    private final Path path;
    private final Object monitor;
    /** Guarded by {@link #monitor}; reopened if an interrupt closed it. */
    private FileChannel channel;
    private volatile boolean closed;

    private KeyLogFile(Path path, FileChannel channel, Object monitor) {
        this.path = path;
        this.channel = channel;
        this.monitor = monitor;
    }

    /** Opens {@code path} for appending, creating it 0600 when it does not exist. */
    public static KeyLogFile open(Path path) {
        Path p = path.toAbsolutePath().normalize();
        try {
            FileChannel ch = openChannel(p);
            Object key = Files.readAttributes(p, BasicFileAttributes.class).fileKey();
            if (key == null) {
                key = p.toRealPath();
            }
            return new KeyLogFile(p, ch, MONITORS.computeIfAbsent(key, k -> new Object()));
        } catch (IOException e) {
            throw new KeywayException(ErrorCode.IO, "cannot open key log " + path + ": " + e.getMessage(),
                    "check that the directory exists and is writable", e);
        }
    }

    private static FileChannel openChannel(Path p) throws IOException {
        if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            FileAttribute<?> perms = PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));
            return FileChannel.open(p, Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.APPEND), perms);
        }
        return FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
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
                // FileChannel is interruptible: an interrupted caller would close it for everyone. Clear the
                // flag for the write and restore it after; reopen if an interrupt closed the channel anyway.
                boolean interrupted = Thread.interrupted();
                try {
                    if (closed) {
                        throw new IOException("the key log was closed");
                    }
                    if (!channel.isOpen()) {
                        channel = openChannel(path);
                    }
                    try (FileLock ignored = channel.lock()) {
                        ByteBuffer buf = ByteBuffer.wrap(line);
                        while (buf.hasRemaining()) {
                            channel.write(buf);
                        }
                    }
                } finally {
                    if (interrupted) {
                        Thread.currentThread().interrupt();
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
        synchronized (monitor) {
            closed = true;
            channel.close();
        }
    }
}
