package dev.keyway.core.keylog;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.encoding.Hex;
import dev.keyway.core.encoding.Printable;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A key log file read and checked line by line (RFC 9850 section 2): comments and blank lines are
 * skipped; every other line must be {@code LABEL SP 64-hex-client-random SP hex-secret} with a known
 * label and a secret of the length that label allows. Bad lines are kept as {@link Problem}s, by line
 * number, so a caller can report all of them; good lines are grouped by connection (client random).
 */
public final class ParsedKeyLog {
    /** Longest line accepted: an ECH_CONFIG of 65535 bytes in hex, plus label and random. */
    static final int MAX_LINE = 2 * 65535 + 128;
    /** Key logs bigger than this are refused before reading. */
    static final long MAX_FILE = 256L << 20;

    /**
     * One bad line. The message may quote the line (an unknown label) exactly as read: print it through
     * {@link dev.keyway.core.encoding.Printable#escape(String)}.
     */
    public record Problem(int line, String message) {
        @Override
        public String toString() {
            return "line " + line + ": " + message;
        }
    }

    /** The secrets logged for one connection, by label; each value is where it was found. */
    public static final class Connection {
        private final byte[] clientRandom;
        private final EnumMap<KeyLogLabel, byte[]> secrets = new EnumMap<>(KeyLogLabel.class);
        private final EnumMap<KeyLogLabel, Integer> lines = new EnumMap<>(KeyLogLabel.class);

        Connection(byte[] clientRandom) {
            this.clientRandom = clientRandom;
        }

        public byte[] clientRandom() {
            return clientRandom.clone();
        }

        public String clientRandomHex() {
            return Hex.encode(clientRandom);
        }

        /** Labels present, in RFC order. */
        public List<KeyLogLabel> labels() {
            return List.copyOf(secrets.keySet());
        }

        /** The secret for a label, or null. */
        public byte[] secret(KeyLogLabel label) {
            byte[] s = secrets.get(label);
            return s == null ? null : s.clone();
        }

        /** The line a label was read from, or 0. */
        public int line(KeyLogLabel label) {
            return lines.getOrDefault(label, 0);
        }

        /** True when TLS 1.3 application data can be decrypted: both handshake and both traffic secrets. */
        public boolean tls13Complete() {
            return secrets.keySet().containsAll(List.of(KeyLogLabel.CLIENT_HANDSHAKE_TRAFFIC_SECRET,
                    KeyLogLabel.SERVER_HANDSHAKE_TRAFFIC_SECRET, KeyLogLabel.CLIENT_TRAFFIC_SECRET_0,
                    KeyLogLabel.SERVER_TRAFFIC_SECRET_0));
        }

        /** True when a TLS 1.2 (or older) master secret is present. */
        public boolean tls12Complete() {
            return secrets.containsKey(KeyLogLabel.CLIENT_RANDOM);
        }

        /** What a tool such as Wireshark could do with these secrets, in a few words. */
        public String verdict() {
            if (tls12Complete()) {
                return "decryptable (TLS 1.2 master secret)";
            }
            if (tls13Complete()) {
                return "decryptable (TLS 1.3 handshake and traffic secrets)";
            }
            List<String> missing = new ArrayList<>();
            for (KeyLogLabel l : List.of(KeyLogLabel.CLIENT_HANDSHAKE_TRAFFIC_SECRET, KeyLogLabel.SERVER_HANDSHAKE_TRAFFIC_SECRET,
                    KeyLogLabel.CLIENT_TRAFFIC_SECRET_0, KeyLogLabel.SERVER_TRAFFIC_SECRET_0)) {
                if (!secrets.containsKey(l)) {
                    missing.add(l.name());
                }
            }
            return "not decryptable: missing " + String.join(", ", missing);
        }
    }

    private final List<Problem> problems;
    private final Map<String, Connection> connections;
    private final int entries;

    private ParsedKeyLog(List<Problem> problems, Map<String, Connection> connections, int entries) {
        this.problems = Collections.unmodifiableList(problems);
        this.connections = connections;
        this.entries = entries;
    }

    /** Reads a key log file. A missing or oversized file is a KeywayException; bad lines are problems. */
    public static ParsedKeyLog read(Path path) {
        try {
            if (Files.size(path) > MAX_FILE) {
                throw KeywayException.malformed("key log " + path + " is larger than " + (MAX_FILE >> 20) + " MiB",
                        "give the key log of the capture only");
            }
            try (InputStream in = Files.newInputStream(path)) {
                return read(in);
            }
        } catch (NoSuchFileException e) {
            throw new KeywayException(ErrorCode.IO, "key log " + path + " does not exist", "check the path");
        } catch (IOException e) {
            throw new KeywayException(ErrorCode.IO, "cannot read key log " + path + ": " + e.getMessage(), "check the path", e);
        }
    }

    /** Reads a key log from a stream (ASCII). */
    public static ParsedKeyLog read(InputStream in) throws IOException {
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.ISO_8859_1));
        List<Problem> problems = new ArrayList<>();
        Map<String, Connection> connections = new LinkedHashMap<>();
        int entries = 0;
        int number = 0;
        StringBuilder line = new StringBuilder();
        while (true) {
            line.setLength(0);
            boolean tooLong = false;
            int c;
            while ((c = r.read()) != -1 && c != '\n') {
                if (line.length() < MAX_LINE) {
                    line.append((char) c);
                } else {
                    tooLong = true;
                }
            }
            if (c == -1 && line.length() == 0 && !tooLong) {
                break;
            }
            number++;
            if (tooLong) {
                problems.add(new Problem(number, "line longer than " + MAX_LINE + " characters"));
                continue;
            }
            String text = line.toString();
            if (text.endsWith("\r")) {
                text = text.substring(0, text.length() - 1);
            }
            if (text.isBlank() || text.startsWith("#") || isOpenSslRsaLine(text)) {
                continue;
            }
            String problem = parseLine(text, connections, number);
            if (problem != null) {
                problems.add(new Problem(number, problem));
            } else {
                entries++;
            }
            if (c == -1) {
                break;
            }
        }
        return new ParsedKeyLog(problems, connections, entries);
    }

    /**
     * OpenSSL's legacy line for RSA key exchange, {@code RSA <8-byte encrypted pre-master prefix> <48-byte
     * pre-master secret>}, written beside CLIENT_RANDOM; the master secret there is all a reader needs.
     */
    private static boolean isOpenSslRsaLine(String text) {
        String[] parts = text.split(" ", -1);
        return parts.length == 3 && parts[0].equals("RSA") && parts[1].length() == 16 && isHex(parts[1])
                && parts[2].length() == 96 && isHex(parts[2]);
    }

    private static String parseLine(String text, Map<String, Connection> connections, int number) {
        String[] parts = text.split(" ", -1);
        if (parts.length != 3) {
            return "expected 'LABEL CLIENT_RANDOM SECRET' separated by single spaces, found " + parts.length + " field(s)";
        }
        KeyLogLabel label = KeyLogLabel.of(parts[0]);
        if (label == null) {
            return "unknown label '" + abbreviate(parts[0]) + "'";
        }
        if (parts[1].length() != 64 || !isHex(parts[1])) {
            return "the client random must be 64 hex digits (32 bytes)";
        }
        if (parts[2].isEmpty() || parts[2].length() % 2 != 0 || !isHex(parts[2])) {
            return label + " secret is not an even number of hex digits";
        }
        int length = parts[2].length() / 2;
        if (!label.allowsLength(length)) {
            return label + " secret is " + length + " bytes; it must be " + label.lengths();
        }
        String key = parts[1].toLowerCase(Locale.ROOT);
        Connection conn = connections.computeIfAbsent(key, k -> new Connection(Hex.decode(k, "client random")));
        conn.secrets.put(label, Hex.decode(parts[2], "secret"));
        conn.lines.put(label, number);
        return null;
    }

    private static boolean isHex(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
                return false;
            }
        }
        return true;
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "...";
    }

    /** Bad lines, in file order. */
    public List<Problem> problems() {
        return problems;
    }

    /** Good lines read. */
    public int entries() {
        return entries;
    }

    /** Connections in order of first appearance. */
    public List<Connection> connections() {
        return List.copyOf(connections.values());
    }

    /** The connection named by a client random, or null. */
    public Connection connection(byte[] clientRandom) {
        return connections.get(Hex.encode(clientRandom).toLowerCase(Locale.ROOT));
    }

    /** Throws a one-line error naming the first bad line, when there is one. */
    public ParsedKeyLog requireClean(String name) {
        if (!problems.isEmpty()) {
            Problem p = problems.get(0);
            String more = problems.size() > 1 ? " (and " + (problems.size() - 1) + " more bad line(s))" : "";
            throw KeywayException.malformed("key log " + name + " " + Printable.escape(p.toString()) + more,
                    "fix or delete the line; 'keyway tls keylog check' lists every bad line");
        }
        return this;
    }
}
