package dev.keyway.authority;

import com.zaxxer.hikari.HikariDataSource;
import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * How the store's pieces reach the database: a read runs on a pooled connection and is rolled back; a write
 * goes through the {@link WriteQueue}, which commits it with others and the audit head's signature.
 */
final class Transactions {
    /** Work on one connection: a read, or one write inside its batch's transaction. */
    interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    private final HikariDataSource pool;
    private final WriteQueue writes;

    Transactions(HikariDataSource pool, WriteQueue writes) {
        this.pool = pool;
        this.writes = writes;
    }

    <T> T write(Work<T> work) {
        return writes.submit(work);
    }

    <T> T read(Work<T> work) {
        try (Connection c = pool.getConnection()) {
            try {
                return work.run(c);
            } finally {
                c.rollback();
            }
        } catch (SQLException e) {
            throw new KeywayException(ErrorCode.PEER, "authority database failed (" + e.getMessage() + ")", "check the database", e);
        }
    }
}
