package dev.keyway.core.io;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;

import java.io.Closeable;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Writes a file so that it either appears complete or not at all: the bytes go to a temporary file in the
 * same directory (created with the final permissions, so a secret is never world-readable, not even
 * briefly), which is renamed over the final name only after it was written and flushed.
 */
public final class AtomicFile {
    public static final Set<PosixFilePermission> PRIVATE = PosixFilePermissions.fromString("rw-------");

    private AtomicFile() {
    }

    /**
     * Writes {@code content} as a new file (never replacing one): {@link #create}, write, {@link Output#commit}.
     *
     * @param privateFile create with mode 0600
     */
    public static void write(Path target, byte[] content, boolean privateFile) {
        try (Output out = create(target, privateFile)) {
            out.stream().write(content);
            out.commit();
        } catch (IOException e) {
            throw new KeywayException(ErrorCode.IO, "cannot write " + target + " (" + describe(e) + ")",
                    "check the directory exists and is writable");
        }
    }

    /**
     * Starts writing {@code target} as a stream: bytes go to a temporary file beside it, which
     * {@link Output#commit()} renames to the target; closing without a commit deletes the temporary file,
     * so a failure part-way leaves no output at all. An existing target is refused now and again at commit.
     */
    public static Output create(Path target, boolean privateFile) {
        Path abs = target.toAbsolutePath();
        // a link (even a dangling one) is an existing file: it is neither written through nor replaced
        if (Files.exists(abs, LinkOption.NOFOLLOW_LINKS)) {
            throw new KeywayException(ErrorCode.USAGE, target + " already exists", "choose another name or remove it first");
        }
        try {
            Path tmp = createTemp(abs.getParent(), abs.getFileName().toString(), privateFile);
            return new Output(target, abs, tmp);
        } catch (IOException e) {
            throw new KeywayException(ErrorCode.IO, "cannot write " + target + " (" + describe(e) + ")",
                    "check the directory exists and is writable");
        }
    }

    /** A file being written; see {@link #create}. */
    public static final class Output implements Closeable {
        private final Path target;
        private final Path abs;
        private final Path tmp;
        private final FileChannel channel;
        private final OutputStream stream;
        private boolean committed;
        private boolean closed;

        private Output(Path target, Path abs, Path tmp) throws IOException {
            this.target = target;
            this.abs = abs;
            this.tmp = tmp;
            FileChannel ch;
            try {
                ch = FileChannel.open(tmp, StandardOpenOption.WRITE);
            } catch (IOException e) {
                Pending.forget(tmp);
                throw e;
            }
            this.channel = ch;
            this.stream = Channels.newOutputStream(channel);
        }

        /** Flushes the bytes to disk (before a caller records that the output is complete). */
        public void sync() {
            try {
                channel.force(true);
            } catch (IOException e) {
                throw new KeywayException(ErrorCode.IO, "cannot write " + target + " (" + describe(e) + ")",
                        "check free disk space");
            }
        }

        /** Where to write; do not close it, close this object. */
        public OutputStream stream() {
            return stream;
        }

        /**
         * Flushes to disk and gives the file its name: a hard link from the target to the temporary file, which the
         * file system refuses atomically when the target exists (a file, a directory or any link made since
         * {@link #create}), then the temporary name is removed. Where hard links are not supported, a check and a
         * rename instead, which leaves a moment in which a target made by another process would be replaced.
         */
        public void commit() {
            try {
                channel.force(true);
                channel.close();
                if (Files.exists(abs, LinkOption.NOFOLLOW_LINKS)) {
                    throw new FileAlreadyExistsException(abs.toString());
                }
                if (!linked()) {
                    try {
                        Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE);
                    } catch (AtomicMoveNotSupportedException e) {
                        Files.move(tmp, abs);
                    }
                }
                committed = true;
            } catch (FileAlreadyExistsException e) {
                throw new KeywayException(ErrorCode.USAGE, target + " already exists", "choose another name or remove it first");
            } catch (IOException e) {
                throw new KeywayException(ErrorCode.IO, "cannot write " + target + " (" + describe(e) + ")",
                        "check the directory exists and is writable");
            }
        }

        /** Names the file by a hard link; false when the file system cannot (the caller renames instead). */
        private boolean linked() throws IOException {
            try {
                Files.createLink(abs, tmp);
            } catch (FileAlreadyExistsException e) {
                throw e;
            } catch (UnsupportedOperationException | FileSystemException e) {
                // no hard links here (FAT, some network and FUSE file systems); the rename is what is left
                if (e instanceof FileSystemException fse && Files.exists(abs, LinkOption.NOFOLLOW_LINKS)) {
                    throw new FileAlreadyExistsException(fse.getFile());
                }
                return false;
            }
            try {
                Files.delete(tmp);
            } catch (IOException e) {
                // the file is in place under its name; a leftover hidden name goes with the exit hook
            }
            return true;
        }

        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            try {
                channel.close();
            } catch (IOException ignored) {
                // nothing was committed; the file is removed below
            }
            if (!committed) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // the temporary name is hidden and unique; nothing more to do
                }
            }
            Pending.forget(tmp);
        }
    }

    /**
     * The temporary files being written in this process, deleted by one shutdown hook when the JVM exits part-way
     * (Ctrl-C, a kill; SIGKILL still leaves them). Many files may be written at once (batch mode), so one hook and a
     * set rather than a hook per file. Worker threads keep running while the hook runs and until the JVM halts, so a
     * file is created and recorded under one lock, which the hook takes before it deletes: a file is then either
     * recorded (and deleted by the hook) or never created.
     */
    private static final class Pending {
        private static final Set<Path> LIVE = ConcurrentHashMap.newKeySet();
        private static final Object CREATING = new Object();
        private static volatile boolean exiting;

        static {
            Runtime.getRuntime().addShutdownHook(new Thread(Pending::deleteAll, "keyway-output-cleanup"));
        }

        interface Create {
            Path create() throws IOException;
        }

        /** Runs {@code create} and records the file it made, unless the JVM is exiting. */
        static Path create(Create create) throws IOException {
            if (exiting) { // without the lock: threads that go on trying while the JVM exits do not crowd the hook out of it
                throw new InterruptedIOException("the program is exiting");
            }
            synchronized (CREATING) {
                if (exiting) {
                    throw new InterruptedIOException("the program is exiting");
                }
                Path made = create.create();
                LIVE.add(made);
                return made;
            }
        }

        static void forget(Path tmp) {
            LIVE.remove(tmp);
        }

        private static void deleteAll() {
            synchronized (CREATING) {
                exiting = true;
            }
            for (Path tmp : LIVE) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // nothing more can be done while the JVM exits
                }
            }
        }
    }

    /**
     * A new, uniquely named hidden file beside the target. Private files are created 0600; others with
     * the process's umask, as any program's output (Files.createTempFile would force 0600 on both).
     */
    private static Path createTemp(Path dir, String name, boolean privateFile) throws IOException {
        boolean posix = dir.getFileSystem().supportedFileAttributeViews().contains("posix");
        String base = shortened(name);
        for (int attempt = 0; ; attempt++) {
            Path tmp = dir.resolve("." + base + "." + Long.toUnsignedString(TEMP_NAMES.nextLong(), 36) + ".tmp");
            try {
                return Pending.create(() -> privateFile && posix
                        ? Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PRIVATE))
                        : Files.createFile(tmp));
            } catch (FileAlreadyExistsException e) {
                if (attempt > 100) {
                    throw e;
                }
            }
        }
    }

    /**
     * The target's name as the temporary name carries it: cut to {@link #TEMP_BASE_BYTES} bytes of UTF-8 (at a
     * character boundary), so that a target whose name is as long as the file system allows (255 bytes) still has a
     * temporary name it allows ("." + name + "." + 13 + ".tmp" adds 19 bytes).
     */
    private static String shortened(String name) {
        if (name.getBytes(StandardCharsets.UTF_8).length <= TEMP_BASE_BYTES) {
            return name;
        }
        StringBuilder sb = new StringBuilder();
        int bytes = 0;
        for (int i = 0; i < name.length(); ) {
            int cp = name.codePointAt(i);
            int n = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8).length;
            if (bytes + n > TEMP_BASE_BYTES) {
                break;
            }
            sb.appendCodePoint(cp);
            bytes += n;
            i += Character.charCount(cp);
        }
        return sb.toString();
    }

    private static final int TEMP_BASE_BYTES = 200;

    private static final SecureRandom TEMP_NAMES = new SecureRandom();

    /** A short description of an I/O failure for one-line messages. */
    public static String describe(IOException e) {
        if (e instanceof NoSuchFileException) {
            return "no such file or directory";
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        String m = e.getMessage();
        return m == null ? e.getClass().getSimpleName() : m;
    }
}
