package dev.keyway.envelope;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.identity.Recipient;
import org.sqlite.SQLiteConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;

/**
 * Refuses replayed, stale and rolled-back messages (docs/FORMAT.md, "Replay protection"), remembering
 * what it accepted in an SQLite file. {@link #check} runs before decrypting (fail fast); {@link #accept}
 * runs after every other check passed and records the message in one IMMEDIATE transaction that checks
 * again, so concurrent decrypts of one message cannot both succeed.
 */
public final class ReplayGuard implements AutoCloseable {
    /** {@link KeywayException#hintId()}: the message is older than the maximum age. */
    public static final String HINT_MAX_AGE = "envelope.max-age";
    public static final Duration DEFAULT_MAX_AGE = Duration.ofMinutes(5);
    /** How far in the future a creation time may be (clock skew between sender and receiver). */
    public static final Duration FUTURE_SKEW = Duration.ofMinutes(5);

    private final Connection db;
    private final Path path;

    private ReplayGuard(Connection db, Path path) {
        this.db = db;
        this.path = path;
    }

    /** Opens (creating if needed) the replay database at {@code path}. */
    public static ReplayGuard open(Path path) {
        Path abs = path.toAbsolutePath();
        if (abs.getParent() != null && !Files.isDirectory(abs.getParent())) {
            throw new KeywayException(ErrorCode.IO, "cannot open replay database " + path + " (no such directory)",
                    "create the directory first");
        }
        SQLiteConfig config = new SQLiteConfig();
        config.setBusyTimeout(30_000);
        config.setJournalMode(SQLiteConfig.JournalMode.WAL);
        config.setSynchronous(SQLiteConfig.SynchronousMode.FULL);
        try {
            Connection c = config.createConnection("jdbc:sqlite:" + abs);
            try (Statement s = c.createStatement()) {
                s.executeUpdate("CREATE TABLE IF NOT EXISTS accepted_message (message_id TEXT PRIMARY KEY, "
                        + "sender TEXT, serial INTEGER, created_ms INTEGER NOT NULL, accepted_ms INTEGER NOT NULL)");
                s.executeUpdate("CREATE TABLE IF NOT EXISTS sender_serial (sender TEXT PRIMARY KEY, "
                        + "last_serial INTEGER NOT NULL, accepted_ms INTEGER NOT NULL)");
            }
            // Autocommit: reads take no lock; accept() runs its own BEGIN IMMEDIATE ... COMMIT.
            return new ReplayGuard(c, path);
        } catch (SQLException e) {
            throw failure(path, e);
        }
    }

    /**
     * The checks that need no signature: age, future time, a seen message id, and the serial against the
     * claimed sender (checked again in {@link #accept} once the signature is verified).
     */
    public void check(Header h, Instant now, Duration maxAge) {
        checkTimes(h, now, maxAge);
        try {
            checkSeen(h);
            checkSerial(h, h.sender());
        } catch (SQLException e) {
            throw failure(path, e);
        }
    }

    /** What must succeed for an accepted message to stay recorded (releasing the output, typically). */
    public interface Release {
        void run() throws IOException;
    }

    /** Records the message as accepted, re-checking id and serial in the same transaction. */
    public void accept(Header h, Recipient verifiedSigner, Instant now) {
        try {
            accept(h, verifiedSigner, now, () -> { });
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Records the message as accepted and runs {@code release} inside the same transaction, before it
     * commits: if the release fails, nothing is recorded and the message can be decrypted again.
     */
    public void accept(Header h, Recipient verifiedSigner, Instant now, Release release) throws IOException {
        try {
            execute("BEGIN IMMEDIATE");
            checkSeen(h);
            checkSerial(h, verifiedSigner);
            try (PreparedStatement p = db.prepareStatement("INSERT INTO accepted_message VALUES (?, ?, ?, ?, ?)")) {
                p.setString(1, h.messageIdHex());
                p.setString(2, verifiedSigner == null ? null : verifiedSigner.encode());
                if (h.serial() == null) {
                    p.setNull(3, Types.INTEGER);
                } else {
                    p.setLong(3, h.serial());
                }
                p.setLong(4, h.created().toEpochMilli());
                p.setLong(5, now.toEpochMilli());
                p.executeUpdate();
            }
            if (verifiedSigner != null && h.serial() != null) {
                try (PreparedStatement p = db.prepareStatement("INSERT INTO sender_serial VALUES (?, ?, ?) "
                        + "ON CONFLICT(sender) DO UPDATE SET last_serial = excluded.last_serial, accepted_ms = excluded.accepted_ms")) {
                    p.setString(1, verifiedSigner.encode());
                    p.setLong(2, h.serial());
                    p.setLong(3, now.toEpochMilli());
                    p.executeUpdate();
                }
            }
            release.run();
            execute("COMMIT");
        } catch (IOException | RuntimeException e) {
            rollback();
            throw e;
        } catch (SQLException e) {
            rollback();
            throw failure(path, e);
        }
    }

    /** Refuses a message past its expiry time; applies with or without a replay database. */
    public static void checkExpiry(Header h, Instant now) {
        if (h.expires() != null && !now.isBefore(h.expires())) {
            throw KeywayException.policy("message " + h.messageIdHex() + " expired at " + h.expires(),
                    "ask the sender for a new message");
        }
    }

    /** Refuses a message created more than {@code maxAge} ago or too far in the future. */
    public static void checkTimes(Header h, Instant now, Duration maxAge) {
        if (h.created().isBefore(now.minus(maxAge))) {
            throw KeywayException.policy("message " + h.messageIdHex() + " is too old (created " + h.created()
                    + ", more than " + human(maxAge) + " ago)", "a fresh message is needed; or raise the maximum age").hintId(HINT_MAX_AGE);
        }
        if (h.created().isAfter(now.plus(FUTURE_SKEW))) {
            throw KeywayException.policy("message " + h.messageIdHex() + " claims to be created in the future ("
                    + h.created() + ")", "check the clocks of sender and receiver");
        }
    }

    private void checkSeen(Header h) throws SQLException {
        try (PreparedStatement p = db.prepareStatement("SELECT accepted_ms FROM accepted_message WHERE message_id = ?")) {
            p.setString(1, h.messageIdHex());
            try (ResultSet rs = p.executeQuery()) {
                if (rs.next()) {
                    throw KeywayException.policy("replayed message " + h.messageIdHex() + ", first accepted "
                            + Instant.ofEpochMilli(rs.getLong(1)), "this message was already decrypted once; ask for a new one");
                }
            }
        }
    }

    private void checkSerial(Header h, Recipient signer) throws SQLException {
        if (signer == null || h.serial() == null) {
            return;
        }
        try (PreparedStatement p = db.prepareStatement("SELECT last_serial FROM sender_serial WHERE sender = ?")) {
            p.setString(1, signer.encode());
            try (ResultSet rs = p.executeQuery()) {
                if (rs.next() && Long.compareUnsigned(h.serial(), rs.getLong(1)) <= 0) {
                    throw KeywayException.policy("serial " + Long.toUnsignedString(h.serial()) + " from sender " + signer.idHex()
                            + " is not greater than the last accepted serial " + Long.toUnsignedString(rs.getLong(1)),
                            "an old message was replayed or rolled back; ask the sender for a new one");
                }
            }
        }
    }

    private void execute(String sql) throws SQLException {
        try (Statement s = db.createStatement()) {
            s.executeUpdate(sql);
        }
    }

    private void rollback() {
        try {
            execute("ROLLBACK");
        } catch (SQLException ignored) {
            // the original failure is the one to report
        }
    }

    private static KeywayException failure(Path path, SQLException e) {
        return new KeywayException(ErrorCode.IO, "replay database " + path + " failed (" + e.getMessage() + ")",
                "check the file is a Keyway replay database and is writable", e);
    }

    static String human(Duration d) {
        long s = d.getSeconds();
        if (s % 86400 == 0 && s >= 86400) {
            return s / 86400 + "d";
        }
        if (s % 3600 == 0 && s >= 3600) {
            return s / 3600 + "h";
        }
        if (s % 60 == 0 && s >= 60) {
            return s / 60 + "m";
        }
        return s + "s";
    }

    @Override
    public void close() {
        try {
            db.close();
        } catch (SQLException ignored) {
            // nothing is pending: every method commits or rolls back
        }
    }
}
