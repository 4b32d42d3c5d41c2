package dev.keyway.cli;

import java.io.PrintWriter;
import java.io.Writer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** A {@code keyway ... serve} command run in this JVM on a free port it reports itself ("listening on HOST:PORT"). */
record InProcessServer(CompletableFuture<Cli.Result> future, int port, StringBuffer err) {
    private static final Pattern LISTENING = Pattern.compile("listening on [^\\n]*:(\\d+)\\n");

    static InProcessServer start(String... args) throws Exception {
        CountDownLatch ready = new CountDownLatch(1);
        StringBuffer err = new StringBuffer();
        Writer watched = new Writer() {
            @Override
            public void write(char[] buf, int off, int len) {
                err.append(buf, off, len);
                if (LISTENING.matcher(err).find()) {
                    ready.countDown();
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        StringBuffer out = new StringBuffer();
        CompletableFuture<Cli.Result> f = CompletableFuture.supplyAsync(() -> {
            java.io.StringWriter o = new java.io.StringWriter();
            int code = Main.run(args, new PrintWriter(o, true), new PrintWriter(watched, true));
            out.append(o);
            ready.countDown();
            return new Cli.Result(code, out.toString(), err.toString());
        });
        assertThat(ready.await(30, TimeUnit.SECONDS)).as("server started").isTrue();
        Matcher m = LISTENING.matcher(err);
        assertThat(m.find()).as("server output: %s", err).isTrue();
        return new InProcessServer(f, Integer.parseInt(m.group(1)), err);
    }

    /** Waits (at most 30 s) for the server to exit, e.g. after --naccept connections. */
    Cli.Result result() throws Exception {
        return future.get(30, TimeUnit.SECONDS);
    }

    /** Waits (at most 10 s) until the server's standard error holds {@code text}; returns all of it. */
    String awaitErr(String text) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!err.toString().contains(text)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the server did not print '" + text + "' within 10 s; it printed: " + err);
            }
            Thread.sleep(10);
        }
        return err.toString();
    }
}
