package dev.keyway.remote;

import dev.keyway.core.KeywayException;
import dev.keyway.core.identity.Recipient;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;

/**
 * What the host signs at the end of each command, so the client can later prove what ran and what it printed:
 * the host, the session, the client, the configuration, the command, the working directory it ran in, when it
 * started and ended, its exit status, and the length and SHA-256 of its stdout and stderr. The signed bytes are
 * {@link #encode}: a context string, then each field as a length-prefixed string (docs/REMOTE.md, "Receipts").
 */
public record Receipt(String host, String session, String client, String config, String command, String cwd,
                      Instant started, Instant ended, int exit, long stdoutBytes, String stdoutSha256,
                      long stderrBytes, String stderrSha256) {
    private static final String CONTEXT = "keyway remote receipt v1";

    byte[] encode() {
        Fields.Writer w = new Fields.Writer().str(CONTEXT);
        for (String s : new String[] {host, session, client, config, command, cwd, started.toString(), ended.toString(),
                Integer.toString(exit), Long.toString(stdoutBytes), stdoutSha256, Long.toString(stderrBytes), stderrSha256}) {
            w.str(s);
        }
        return w.toByteArray();
    }

    static Receipt decode(byte[] b) {
        Fields.Reader r = new Fields.Reader(b);
        if (!CONTEXT.equals(r.str())) {
            throw KeywayException.malformed("not a receipt", "the host does not speak this protocol version");
        }
        try {
            Receipt rc = new Receipt(r.str(), r.str(), r.str(), r.str(), r.str(), r.str(), Instant.parse(r.str()), Instant.parse(r.str()),
                    Integer.parseInt(r.str()), Long.parseLong(r.str()), r.str(), Long.parseLong(r.str()), r.str());
            r.end();
            return rc;
        } catch (RuntimeException e) {
            if (e instanceof KeywayException k) {
                throw k;
            }
            throw KeywayException.malformed("a receipt field does not parse", "the host does not speak this protocol version");
        }
    }

    /** Whether {@code signature} is the host's over this receipt ({@code host} must be the host's recipient). */
    public boolean verify(byte[] signature) {
        Recipient r;
        try {
            r = Recipient.parse(host);
        } catch (KeywayException e) {
            return false;
        }
        return RemoteKeys.verify(r.signingPublicKey(), encode(), signature);
    }

    static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }

    /** A fresh SHA-256, the digest of receipts' outputs and of copied files. */
    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /** The signed bytes, for storing a receipt beside its signature. */
    public byte[] signedBytes() {
        return encode();
    }

    @Override
    public String toString() {
        return "Receipt[" + session + ", exit " + exit + ", " + stdoutBytes + "/" + stderrBytes + " bytes]";
    }
}
