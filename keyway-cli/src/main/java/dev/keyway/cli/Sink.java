package dev.keyway.cli;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.armor.ArmorOutputStream;
import dev.keyway.core.io.AtomicFile;
import dev.keyway.envelope.EnvelopeReader;

import java.io.Closeable;
import java.io.FileInputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Where a command's bulk output goes: standard output (streamed; a failure may leave partial output),
 * a device such as /dev/null (written directly), or a file, which appears only on {@link #commit()}.
 */
final class Sink implements Closeable {
    private final OutputStream stream;
    private final AtomicFile.Output file;
    private ArmorOutputStream armor;

    private Sink(OutputStream stream, AtomicFile.Output file) {
        this.stream = stream;
        this.file = file;
    }

    /** @param privateFile create a new file with mode 0600 (plaintext) */
    static Sink open(String path, boolean privateFile) {
        if (path == null || path.equals("-")) {
            return new Sink(StdStreams.out, null);
        }
        Path p = Path.of(path);
        if (Files.exists(p) && !Files.isRegularFile(p) && !Files.isDirectory(p)) {
            try {
                return new Sink(Files.newOutputStream(p), null);
            } catch (IOException e) {
                throw new KeywayException(ErrorCode.IO, "cannot write " + path + " (" + AtomicFile.describe(e) + ")", "check the path");
            }
        }
        AtomicFile.Output out = AtomicFile.create(p, privateFile);
        return new Sink(out.stream(), out);
    }

    /**
     * A new file at {@code path}, never anything else: unlike {@link #open}, an existing device, FIFO or a link to one
     * is refused as existing rather than written to (batch outputs, whose names come from the inputs).
     */
    static Sink newFile(Path path, boolean privateFile) {
        AtomicFile.Output out = AtomicFile.create(path, privateFile);
        return new Sink(out.stream(), out);
    }

    boolean isStdout() {
        return stream == StdStreams.out && file == null;
    }

    OutputStream stream() {
        return stream;
    }

    /** Where to write an envelope: the stream itself, or its armored text form (finished by {@link #commit()}). */
    OutputStream envelope(boolean armored) {
        if (!armored) {
            return stream;
        }
        armor = new ArmorOutputStream(stream, EnvelopeReader.ARMOR_LABEL);
        return armor;
    }

    /** Flushes everything written so far (to disk, for a file). */
    void sync() throws IOException {
        stream.flush();
        if (file != null) {
            file.sync();
        }
    }

    /** Makes a file output appear under its name; for other outputs, flushes. */
    void commit() throws IOException {
        if (armor != null) {
            armor.finish();
        }
        stream.flush();
        if (file != null) {
            file.commit();
        }
    }

    @Override
    public void close() throws IOException {
        if (file != null) {
            file.close();
        } else if (!isStdout()) {
            stream.close();
        } else {
            stream.flush();
        }
    }

    /** Opens a command's input: a file (with a progress bar on a terminal when large) or standard input. */
    static InputStream input(String path, PrintWriter err, String verb) {
        if (path == null || path.equals("-")) {
            return StdStreams.in;
        }
        Path p = Path.of(path);
        try {
            if (Files.isDirectory(p)) {
                throw KeywayException.usage(path + " is a directory", "give a file");
            }
            long size = Files.isRegularFile(p) ? Files.size(p) : -1;
            InputStream in = new FileInputStream(p.toFile());
            return size > Progress.THRESHOLD ? new Progress(in, err, verb, size) : in;
        } catch (NoSuchFileException | FileNotFoundException e) {
            if (!Files.exists(p)) {
                throw KeywayException.usage("cannot read " + path + " (no such file)", "check the path");
            }
            throw new KeywayException(ErrorCode.IO, "cannot read " + path + " (permission denied)", "check the path");
        } catch (IOException e) {
            throw new KeywayException(ErrorCode.IO, "cannot read " + path + " (" + AtomicFile.describe(e) + ")", "check the path");
        }
    }
}
