package dev.keyway.remote;

import dev.keyway.core.KeywayException;
import dev.keyway.core.encoding.Printable;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Map;

/**
 * The host's side of PUT and GET (docs/REMOTE.md, "Wire protocol"), for {@link Requests}: a file copied into an
 * attached session's confined paths, or out of them. The client's side is {@link FileTransfer}.
 */
final class FileRequests {
    /** A file copied in may be at most this large. */
    static final long MAX_FILE = 64L << 30;
    private final RemoteHost host;

    FileRequests(RemoteHost host) {
        this.host = host;
    }

    /** PUT: the file arrives under the credit window into a temporary name, renamed over the target once whole. */
    void put(HostConnection hc, HostSession s, Fields.Reader r) {
        String path = r.str();
        long size = r.i64();
        r.end();
        if (size < 0 || size > MAX_FILE) {
            throw KeywayException.policy("a file of " + size + " bytes (the limit is " + MAX_FILE + ")", "copy a smaller file");
        }
        Path target = s.confine(path, true);
        if (Files.isDirectory(target)) {
            throw KeywayException.usage(Printable.escape(path) + " is a directory", "give the file's name too");
        }
        Path tmp;
        try {
            tmp = Files.createTempFile(target.getParent(), "." + target.getFileName(), ".part",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (IOException e) {
            throw HostSession.io("cannot write in " + target.getParent(), e);
        }
        Incoming q = new Incoming(hc);
        hc.side = q::add;
        boolean done = false;
        try (OutputStream out = Files.newOutputStream(tmp)) {
            Requests.ok(hc);
            MessageDigest md = Receipt.sha256();
            long n = 0;
            while (true) {
                Frame f = q.take();
                if (f.type() == Frame.FILE_END) {
                    byte[] expect = f.payload();
                    if (n != size || !MessageDigest.isEqual(expect, md.digest())) {
                        throw KeywayException.malformed("the file arrived with " + n + " of " + size + " bytes or a different SHA-256", "copy it again");
                    }
                    break;
                }
                if (f.type() != Frame.FILE_DATA) {
                    throw KeywayException.malformed("a file transfer was interrupted by another frame", "copy it again");
                }
                n += f.payload().length;
                if (n > size) {
                    throw KeywayException.malformed("the file is longer than announced", "copy it again");
                }
                out.write(f.payload());
                md.update(f.payload());
                hc.send(new Frame(Frame.CREDIT, new Fields.Writer().u32(f.payload().length)));
            }
            out.close();
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            done = true;
            host.audit("put", hc.clientName, s.id, s.config.name(), "ok", Map.of("path", target.toString(), "bytes", Long.toString(n)));
        } catch (IOException e) {
            throw HostSession.io("cannot write " + target, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("the connection ended");
        } finally {
            hc.side = null;
            if (!done) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // a .part file is left; it is never read
                }
            }
        }
        Requests.ok(hc);
    }

    /** GET: the file in chunks, then its SHA-256. */
    void get(HostConnection hc, HostSession s, Fields.Reader r) {
        String path = r.str();
        r.end();
        Path source = s.confine(path, false);
        if (!Files.isRegularFile(source)) {
            throw KeywayException.usage(Printable.escape(path) + " is not a regular file", "give a file");
        }
        MessageDigest md = Receipt.sha256();
        long n = 0;
        try (InputStream in = Files.newInputStream(source)) {
            byte[] buf = new byte[Frame.CHUNK];
            int k;
            while ((k = in.read(buf)) > 0) {
                md.update(buf, 0, k);
                n += k;
                hc.send(new Frame(Frame.FILE_DATA, Arrays.copyOf(buf, k)));
            }
        } catch (IOException e) {
            throw HostSession.io("cannot read " + source, e);
        }
        hc.send(new Frame(Frame.FILE_END, md.digest()));
        host.audit("get", hc.clientName, s.id, s.config.name(), "ok", Map.of("path", source.toString(), "bytes", Long.toString(n)));
    }

    /**
     * The frames of a PUT as the connection's reader hands them over (null: the connection ended, as a FILE_END
     * that cannot match), with the file data queued counted against the credit window.
     */
    private static final class Incoming {
        private final HostConnection hc;
        private final ArrayDeque<Frame> q = new ArrayDeque<>();
        private long queued;

        Incoming(HostConnection hc) {
            this.hc = hc;
        }

        synchronized void add(Frame f) {
            if (f != null && f.type() == Frame.FILE_DATA) {
                queued += f.payload().length;
                if (queued > ForegroundRun.WINDOW) {
                    hc.fail(KeywayException.malformed("file data beyond the credit window", "wait for CREDIT"));
                }
            }
            q.add(f == null ? new Frame(Frame.FILE_END, new byte[0]) : f);
            notifyAll();
        }

        synchronized Frame take() throws InterruptedException {
            while (q.isEmpty()) {
                wait();
            }
            Frame f = q.poll();
            if (f.type() == Frame.FILE_DATA) {
                queued -= f.payload().length;
            }
            return f;
        }
    }
}
