package dev.keyway.authority;

import com.zaxxer.hikari.HikariDataSource;
import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Group commit: one thread runs every write. It takes all the writes waiting (up to {@link #BATCH}), runs
 * them in one transaction that first locks the audit head (a write lock on SQLite, a row lock on PostgreSQL,
 * so writers and nodes take turns and never upgrade a read lock), each inside its own savepoint so one
 * failing write rolls back alone, signs the new audit head ({@link AuditHead}) and commits once: concurrent
 * requests share one fsync. A caller gets its result only after the commit, so whatever it reports is durable.
 */
final class WriteQueue implements AutoCloseable {
    /** Most writes one commit carries. */
    static final int BATCH = 256;

    private final HikariDataSource pool;
    private final AuditHead head;
    private final BlockingQueue<Pending<?>> queue = new LinkedBlockingQueue<>();
    private final Thread thread;
    private volatile boolean closed;

    WriteQueue(HikariDataSource pool, AuditHead head) {
        this.pool = pool;
        this.head = head;
        thread = new Thread(this::loop, "keyway-store-writer");
        thread.setDaemon(true);
        thread.start();
    }

    <T> T submit(Transactions.Work<T> work) {
        Pending<T> p = new Pending<>(work);
        synchronized (this) {
            // Enqueued before close() can set the flag, or refused: the loop drains everything enqueued.
            if (closed) {
                throw new KeywayException(ErrorCode.PEER, "the authority store is closed", "restart the authority");
            }
            queue.add(p);
        }
        try {
            return p.result.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KeywayException(ErrorCode.PEER, "interrupted while writing to the authority database", "try again", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof KeywayException ke) {
                throw ke;
            }
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            throw new KeywayException(ErrorCode.PEER, "authority database failed (" + cause.getMessage() + ")",
                    "check the database; the change was not stored", cause);
        }
    }

    private void loop() {
        List<Pending<?>> batch = new ArrayList<>();
        while (!closed || !queue.isEmpty()) {
            try {
                Pending<?> first = queue.poll(200, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                queue.drainTo(batch, BATCH - 1);
                run(batch);
            } catch (InterruptedException e) {
                break;
            } catch (Throwable e) {
                // Even an Error must not leave callers waiting: fail this batch, keep the writer alive.
                fail(batch, e);
            } finally {
                batch.clear();
            }
        }
        fail(new ArrayList<>(queue), new KeywayException(ErrorCode.PEER, "the authority store is closed", "retry"));
    }

    private void run(List<Pending<?>> batch) {
        try (Connection c = pool.getConnection()) {
            try {
                AuditHead.lock(c);
                String[] before = AuditHead.read(c);
                for (Pending<?> p : batch) {
                    p.runIn(c);
                }
                head.signAfter(c, before);
                c.commit();
            } catch (SQLException | RuntimeException e) {
                try {
                    c.rollback();
                } catch (SQLException ignored) {
                    // the connection is discarded by the pool if it is broken
                }
                fail(batch, e instanceof AuthorityStore.AuditTampered t ? t
                        : new KeywayException(ErrorCode.PEER, "authority database failed (" + e.getMessage() + ")",
                        "check the database; the change was not stored", e));
                return;
            }
        } catch (SQLException e) {
            fail(batch, new KeywayException(ErrorCode.PEER, "authority database unavailable (" + e.getMessage() + ")",
                    "check the database; the change was not stored", e));
            return;
        }
        for (Pending<?> p : batch) {
            p.complete();
        }
    }

    private static void fail(List<Pending<?>> batch, Throwable failure) {
        for (Pending<?> p : batch) {
            p.result.completeExceptionally(failure);
        }
    }

    /** Finishes the writes already queued; later ones are refused. */
    @Override
    public void close() {
        synchronized (this) {
            closed = true;
        }
        try {
            thread.join(30_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** One write waiting for the writer: its work, and after the batch, its result or failure. */
    private static final class Pending<T> {
        final Transactions.Work<T> work;
        final CompletableFuture<T> result = new CompletableFuture<>();
        private T value;
        private Throwable error;

        Pending(Transactions.Work<T> work) {
            this.work = work;
        }

        /** Runs inside the batch's transaction, in a savepoint: a failure undoes this write only. */
        void runIn(Connection c) throws SQLException {
            Savepoint sp = c.setSavepoint();
            try {
                value = work.run(c);
                c.releaseSavepoint(sp);
            } catch (SQLException | RuntimeException e) {
                c.rollback(sp);
                error = e;
            }
        }

        /** Reports the outcome, once the batch committed. */
        void complete() {
            if (error != null) {
                result.completeExceptionally(error);
            } else {
                result.complete(value);
            }
        }
    }
}
