package dev.keyway.remote;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.io.AtomicFile;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;

/**
 * The client's side of PUT and GET (docs/REMOTE.md, "Wire protocol"): a file sent in chunks under the host's
 * credit window and ended with its SHA-256, or received and checked against the host's. The host's side is
 * {@link FileRequests}.
 */
final class FileTransfer {
    private FileTransfer() {
    }

    /** Copies a local file into the session (a relative path is under the session's working directory). */
    static void put(RemoteSession.Link link, Path local, String remote) {
        long size;
        try {
            size = Files.size(local);
        } catch (IOException e) {
            throw new KeywayException(ErrorCode.IO, "cannot read " + local + " (" + AtomicFile.describe(e) + ")", "check the path");
        }
        link.send(Frame.PUT, new Fields.Writer().str(remote).i64(size));
        link.expect(Frame.OK);
        MessageDigest md = Receipt.sha256();
        StdinPump credit = new StdinPump(link, null);
        try (InputStream in = Files.newInputStream(local)) {
            byte[] buf = new byte[Frame.CHUNK];
            int n;
            long sent = 0;
            while ((n = in.read(buf)) > 0 && sent < size) {
                n = (int) Math.min(n, size - sent);
                while (!credit.take(n)) {
                    Frame f = link.next();
                    if (f.type() != Frame.CREDIT) {
                        throw link.unexpected(f);
                    }
                    credit.credit((int) f.reader().u32());
                }
                md.update(buf, 0, n);
                link.send(Frame.FILE_DATA, Arrays.copyOf(buf, n));
                sent += n;
            }
            link.send(Frame.FILE_END, md.digest());
        } catch (IOException e) {
            throw new KeywayException(ErrorCode.IO, "cannot read " + local + " (" + AtomicFile.describe(e) + ")", "check the path");
        }
        while (true) {
            Frame f = link.next();
            if (f.type() == Frame.OK) {
                return;
            }
            if (f.type() != Frame.CREDIT) {
                throw link.unexpected(f);
            }
        }
    }

    /** Copies a file out of the session into {@code out}; returns its size. Its SHA-256 is checked at the end. */
    static long get(RemoteSession.Link link, String remote, OutputStream out) {
        link.send(Frame.GET, new Fields.Writer().str(remote));
        MessageDigest md = Receipt.sha256();
        long n = 0;
        try {
            while (true) {
                Frame f = link.next();
                if (f.type() == Frame.FILE_DATA) {
                    out.write(f.payload());
                    md.update(f.payload());
                    n += f.payload().length;
                } else if (f.type() == Frame.FILE_END) {
                    if (!MessageDigest.isEqual(md.digest(), f.payload())) {
                        throw KeywayException.authFailed("the copied file's SHA-256 does not match the host's", "copy it again");
                    }
                    return n;
                } else {
                    throw link.unexpected(f);
                }
            }
        } catch (IOException e) {
            throw new KeywayException(ErrorCode.IO, "cannot write the copy (" + AtomicFile.describe(e) + ")", "check the path");
        }
    }
}
