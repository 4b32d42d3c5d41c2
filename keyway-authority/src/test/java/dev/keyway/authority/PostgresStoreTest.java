package dev.keyway.authority;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The store tests against PostgreSQL at 127.0.0.1:5432 (database {@code test}, trust auth), each test
 * in a fresh schema. Skipped, with the reason printed, where no PostgreSQL is reachable.
 * {@code KEYWAY_TEST_POSTGRES} overrides the server URL.
 */
@Tag("postgres")
class PostgresStoreTest extends AuthorityStoreTest {
    static final String SERVER = System.getenv().getOrDefault("KEYWAY_TEST_POSTGRES",
            "jdbc:postgresql://127.0.0.1:5432/test?user=postgres");
    String schema;

    @BeforeAll
    static void reachable() {
        try (Connection c = DriverManager.getConnection(SERVER + "&connectTimeout=2")) {
            c.isValid(2);
        } catch (SQLException e) {
            String reason = "PostgreSQL not reachable at " + SERVER + " (" + e.getMessage() + "); start it or set KEYWAY_TEST_POSTGRES";
            System.out.println("SKIPPED PostgresStoreTest: " + reason);
            Assumptions.abort(reason);
        }
    }

    @Override
    String url() {
        schema = "kw_test_" + AuthorityStore.randomId().substring(0, 12);
        try (Connection c = DriverManager.getConnection(SERVER); Statement s = c.createStatement()) {
            s.executeUpdate("CREATE SCHEMA " + schema);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        return SERVER + "&currentSchema=" + schema;
    }

    @AfterEach
    void dropSchema() throws SQLException {
        try (Connection c = DriverManager.getConnection(SERVER); Statement s = c.createStatement()) {
            s.executeUpdate("DROP SCHEMA " + schema + " CASCADE");
        }
    }
}
