package dev.keyway.cli;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;

/**
 * Runs one task per host, at most {@code throttle} at a time (PowerShell's -ThrottleLimit; 32 by default), and
 * returns each host's outcome in the order the hosts were given: a value, or the Keyway error that host ended with.
 */
final class RemoteFanout {
    static final int DEFAULT_THROTTLE = 32;

    record Outcome<T>(T value, KeywayException failure) {
    }

    private RemoteFanout() {
    }

    static <I, T> List<Outcome<T>> run(List<I> items, int throttle, Function<I, T> task) {
        if (throttle < 1) {
            throw KeywayException.usage("--throttle must be at least 1", "give how many hosts may be busy at once");
        }
        List<Outcome<T>> out = new ArrayList<>();
        if (items.size() == 1) {
            out.add(call(items.get(0), task));
            return out;
        }
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(throttle, items.size()), r -> {
            Thread t = new Thread(r, "keyway-remote-fanout");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<Outcome<T>>> fs = new ArrayList<>();
            for (I item : items) {
                fs.add(pool.submit(() -> call(item, task)));
            }
            for (Future<Outcome<T>> f : fs) {
                try {
                    out.add(f.get());
                } catch (ExecutionException e) {
                    out.add(new Outcome<>(null, new KeywayException(ErrorCode.INTERNAL, String.valueOf(e.getCause()), null, e.getCause())));
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KeywayException(ErrorCode.INTERNAL, "interrupted", null);
        } finally {
            pool.shutdownNow();
        }
        return out;
    }

    private static <I, T> Outcome<T> call(I item, Function<I, T> task) {
        try {
            return new Outcome<>(task.apply(item), null);
        } catch (KeywayException e) {
            return new Outcome<>(null, e);
        }
    }

    /** The exit code for outcomes: the first Keyway failure's code, else 0. */
    static int failureCode(List<? extends Outcome<?>> outcomes) {
        for (Outcome<?> o : outcomes) {
            if (o.failure() != null) {
                return o.failure().code().exitCode();
            }
        }
        return 0;
    }
}
