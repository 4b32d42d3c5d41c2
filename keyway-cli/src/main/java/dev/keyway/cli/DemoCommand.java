package dev.keyway.cli;

import dev.keyway.authority.AuthorityHome;
import dev.keyway.authority.AuthorityServer;
import dev.keyway.authority.AuthorityStore;
import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.identity.Identity;
import dev.keyway.remote.HostDir;
import dev.keyway.remote.RemoteHost;
import dev.keyway.tls.TlsConnection;
import dev.keyway.tls.config.TlsConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * An end-to-end walkthrough that runs the real commands, in process, in a scratch directory, and prints
 * each command line before its output so a newcomer learns the commands by watching them.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        header = "Walk through Keyway end to end, printing each command it runs.",
        description = {"Walk through Keyway end to end: make an identity, make a session key, wrap it for the identity, unwrap it, see a wrong identity refused, wrap under a key-encryption key, and derive a key from a password; then encrypt a file to two recipients, signed, decrypt it, inspect it, and see a replayed message refused; then run a backup authority, encrypt with escrow, lose the identity, enroll a new one and recover the file; a TLS 1.3 session with its key log; and remote sessions on two local hosts (shared state, disconnect and reconnect, removal). Each step prints the command it runs."})
final class DemoCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Option(names = "--dir", paramLabel = "DIR", description = "Work in DIR and keep the files (default: a temporary directory, removed afterwards).")
    Path dir;

    private PrintWriter out;
    private Path work;
    private int failures;

    @Override
    public void run() {
        out = spec.commandLine().getOut();
        boolean temporary = dir == null;
        try {
            work = temporary ? Files.createTempDirectory("keyway-demo-") : Files.createDirectories(dir);
        } catch (IOException e) {
            throw new KeywayException(ErrorCode.IO, "cannot create the demo directory", "give a writable --dir");
        }
        try {
            walkthrough();
        } catch (IOException e) {
            throw new KeywayException(ErrorCode.IO, "demo failed to write its files in " + work, "give a writable --dir");
        } finally {
            if (temporary) {
                deleteTree(work);
            }
        }
        if (failures > 0) {
            throw new KeywayException(ErrorCode.INTERNAL, "demo: " + failures + " step(s) did not behave as expected",
                    "run the tests ('./mvnw -B verify') and report it");
        }
    }

    private void walkthrough() throws IOException {
        out.println("Keyway demo: a session key from birth to recovery.");
        out.println("Working in " + work + (dir == null ? " (removed at the end; keep it with --dir DIR)" : ""));

        String alice = keysStory();
        envelopeStory(alice);
        Files.writeString(work.resolve("ledger.txt"), "2026 ledger: 42 entries\n", StandardCharsets.UTF_8);
        lostKeyStory();
        tlsStory();
        remoteStory(alice);

        out.println();
        if (failures == 0) {
            out.println("Done. Every step behaved as expected. Next: 'keyway --help', docs/KEYS.md and docs/FORMAT.md for the formats.");
        }
        out.flush();
    }

    /** Identities, session keys, key blobs, a key-encryption key and a password-derived key (docs/KEYS.md). */
    private String keysStory() throws IOException {
        section("1. Make an identity",
                "An identity is a key-exchange key pair (X-Wing: ML-KEM-768 + X25519, by default) plus an Ed25519",
                "signing key. keygen writes the private identity (mode 0600) and prints the recipient string: the",
                "public half you give to anyone who should be able to send you keys.");
        String alice = run(0, "keygen", "-o", "alice.key").strip();
        show("(" + alice.length() + " characters; post-quantum public keys are long)");
        run(0, "pubkey", "-i", "alice.key");

        section("2. Make a session key",
                "A session key is a fresh random key for one message, file or connection. Algorithms and their",
                "allowed lengths are in 'keyway algorithms'; a length outside the policy is refused (exit 4).");
        run(0, "key", "new", "-o", "session.key");
        String sessionKey = read("session.key");
        show("$ cat session.key");
        show(sessionKey);
        run(4, "key", "new", "--alg", "aes-128-gcm", "--bits", "64");

        section("3. Wrap it for the recipient",
                "The key blob is the session key encrypted to the recipient's public key (HPKE with X-Wing), in",
                "armored text you can mail or store next to the data.");
        runShown("keyway key wrap -r \"$(keyway pubkey -i alice.key)\" -o session.blob session.key", 0,
                "key", "wrap", "-r", alice, "-o", "session.blob", "session.key");
        String blob = read("session.blob");
        List<String> lines = blob.lines().toList();
        show("$ head -3 session.blob");
        lines.stream().limit(3).forEach(this::show);
        show("... (" + lines.size() + " lines)");

        section("4. Unwrap it with the identity",
                "Only the holder of alice.key can recover the session key from the blob.");
        String unwrapped = run(0, "key", "unwrap", "-i", "alice.key", "session.blob").strip();
        check(unwrapped.equals(sessionKey.strip()), "the unwrapped key equals session.key");

        section("5. A wrong identity is refused",
                "Bob has his own identity; the blob was not made for him, so unwrapping fails with exit 3.");
        run(0, "keygen", "-o", "bob.key");
        run(3, "key", "unwrap", "-i", "bob.key", "session.blob");

        section("6. Wrap under a key-encryption key",
                "Between systems that share a symmetric key-encryption key (KEK), wrap with AES-KWP (RFC 5649):",
                "the KEK protects session keys, the session keys protect data.");
        run(0, "key", "new", "--alg", "aes-kw", "-o", "kek.key");
        run(0, "key", "wrap", "--kek-file", "kek.key", "-o", "session.kwp", "session.key");
        String kekUnwrapped = run(0, "key", "unwrap", "--kek-file", "kek.key", "session.kwp").strip();
        check(kekUnwrapped.equals(sessionKey.strip()), "the key unwrapped with the KEK equals session.key");

        section("7. Derive a key from a password",
                "Or keep nothing: derive the key from a password with Argon2id (64 MiB, 3 passes, 4 lanes) and",
                "store only the recipe. The recipe holds the KDF, its parameters and the salt, never the key.");
        Files.writeString(work.resolve("password.txt"), "correct horse battery staple\n", StandardCharsets.UTF_8);
        show("$ echo 'correct horse battery staple' > password.txt");
        String derived = run(0, "key", "derive", "--password-file", "password.txt");
        String key = field(derived, "key:");
        String recipe = field(derived, "recipe:");
        show("Later, the same password and recipe give the same key:");
        String again = runShown("keyway key derive --password-file password.txt --phc '" + recipe + "'", 0,
                "key", "derive", "--password-file", "password.txt", "--phc", recipe);
        check(key.equals(field(again, "key:")), "re-derived key is identical");
        return alice;
    }

    /** A signed file for two recipients, its header, its decryption and a refused replay (docs/ENVELOPE.md). */
    private void envelopeStory(String alice) throws IOException {
        section("8. Encrypt a file for two recipients, signed",
                "encrypt makes a fresh file key, wraps it for each recipient (-r) and encrypts the file in",
                "authenticated 64 KiB chunks. --sign-with signs everything, so Bob can tell Alice wrote it;",
                "--serial numbers Alice's messages so an old one cannot be replayed after a newer one.");
        Files.writeString(work.resolve("message.txt"), "Meet at the usual place at nine.\n", StandardCharsets.UTF_8);
        show("$ echo 'Meet at the usual place at nine.' > message.txt");
        String bob = run(0, "pubkey", "-i", "bob.key").strip();
        runShown("keyway encrypt -r \"$(keyway pubkey -i bob.key)\" -r \"$(keyway pubkey -i alice.key)\" --sign-with alice.key"
                + " --serial 1 -o message.kw message.txt", 0,
                "encrypt", "-r", bob, "-r", alice, "--sign-with", "alice.key", "--serial", "1", "-o", "message.kw", "message.txt");

        section("9. Look at the header without a key",
                "inspect shows who the file is for, who signed it, when, and its message id. It is only a claim",
                "until a recipient decrypts and the MAC and signature check out.");
        run(0, "inspect", "message.kw");

        section("10. Bob decrypts, checks the sender, and remembers the message",
                "--expect-signer requires Alice's signature; --replay-db records the message id, so the same",
                "message is accepted once. The plaintext appears only after every check passed.");
        runShown("keyway decrypt -i bob.key --expect-signer \"$(keyway pubkey -i alice.key)\" --replay-db replay.db"
                + " -o message.out message.kw", 0,
                "decrypt", "-i", "bob.key", "--expect-signer", alice, "--replay-db", "replay.db", "-o", "message.out", "message.kw");
        check(read("message.out").equals(read("message.txt")), "the decrypted file equals message.txt");

        section("11. A replayed message is refused",
                "Someone sends Bob the same file again. His replay database has seen its id: exit 4, and no",
                "output file is written.");
        run(4, "decrypt", "-i", "bob.key", "--replay-db", "replay.db", "-o", "replayed.out", "message.kw");
        check(!Files.exists(work.resolve("replayed.out")), "the refused decrypt left no output file");
    }

    /** The backup authority: escrow, lose the identity, re-enroll, recover (docs/AUTHORITY.md). */
    private void lostKeyStory() throws IOException {
        section("12. A backup authority keeps a copy of the file key",
                "A backup authority stores session keys wrapped for its own public key. init makes its identity,",
                "an admin token and a TLS certificate; serve runs its HTTPS API (here in the background, on a free",
                "port of 127.0.0.1).");
        String init = run(0, "authority", "init", "--dir", "authority.d", "--type", "x25519");
        String token = field(init, "admin token:");
        Files.writeString(work.resolve("admin.token"), token + "\n", StandardCharsets.UTF_8);
        AuthorityHome home = new AuthorityHome(work.resolve("authority.d"));
        try (Identity authority = home.identity(f -> null);
             AuthorityStore store = AuthorityStore.open(home.databaseUrl(), authority);
             AuthorityServer server = new AuthorityServer(home, store, authority, false,
                     Clock.systemUTC())) {
            String url = "https://127.0.0.1:" + server.start("127.0.0.1", 0);
            show("$ keyway authority serve --dir authority.d --listen 127.0.0.1:0 &    (serving " + url + ")");
            String cacert = "authority.d/tls-cert.pem";

            section("13. Carol enrolls, the admin approves, Carol encrypts with escrow",
                    "Every request to the authority is signed with the client's identity. encrypt --escrow puts an",
                    "escrow stanza in the file and sends the same wrapped key to the authority, which answers with a",
                    "signed receipt.");
            run(0, "keygen", "--type", "x25519", "-o", "carol.key");
            String carolId = Identity.parse(Files.readAllLines(work.resolve("carol.key")).get(2))
                    .recipient().idHex();
            run(0, "authority", "enroll", "--authority", url, "--cacert", cacert, "-i", "carol.key", "--name", "carol");
            run(0, "authority", "approve", "--authority", url, "--cacert", cacert, "--admin-token-file", "admin.token", carolId);
            String carol = run(0, "pubkey", "-i", "carol.key").strip();
            runShown("keyway encrypt -r \"$(keyway pubkey -i carol.key)\" --sign-with carol.key --escrow " + url
                    + " --cacert " + cacert + " --serial 1 -o ledger.kw ledger.txt", 0,
                    "encrypt", "-r", carol, "--sign-with", "carol.key", "--escrow", url, "--cacert", cacert, "--serial", "1",
                    "-o", "ledger.kw", "ledger.txt");

            section("14. Carol loses her identity and gets the key back",
                    "carol.key is gone. Carol makes a new identity and enrolls it under the same name; the admin",
                    "approves it. The authority unwraps the file key with its private key and wraps it again for the",
                    "new identity: no plaintext key crosses the wire.");
            Files.delete(work.resolve("carol.key"));
            show("$ rm carol.key");
            run(0, "keygen", "--type", "x25519", "-o", "carolnew.key");
            String newId = Identity.parse(Files.readAllLines(work.resolve("carolnew.key")).get(2))
                    .recipient().idHex();
            run(0, "authority", "enroll", "--authority", url, "--cacert", cacert, "-i", "carolnew.key", "--name", "carol");
            run(0, "authority", "approve", "--authority", url, "--cacert", cacert, "--admin-token-file", "admin.token", newId);
            run(0, "recover", "--authority", url, "--cacert", cacert, "-i", "carolnew.key", "--serial", "1", "--file", "ledger.kw",
                    "-o", "ledger.out");
            check(read("ledger.out").equals(read("ledger.txt")), "the recovered file equals ledger.txt");
            run(0, "authority", "audit", "verify", "--dir", "authority.d");
        }
    }

    /** Keyway's own TLS 1.3: a session whose secrets go to a key log, then a resumed one (docs/TLS.md). */
    private void tlsStory() throws IOException {
        section("15. A TLS 1.3 session with its key log",
                "Keyway has its own TLS 1.3, so every session secret can be logged on purpose (SSLKEYLOGFILE,",
                "RFC 9850): Wireshark or 'keyway tls decrypt' can then read a capture, and nobody shares a private",
                "key. A server with a fresh certificate echoes what it gets (here in the background).");
        run(0, "cert", "new", "--cn", "localhost", "--san", "DNS:localhost,IP:127.0.0.1", "-o", "server.pem", "--key-out", "server.key");
        TlsConfig serverConfig = TlsConfig.builder()
                .certificate(TlsOptions.certificates(work.resolve("server.pem").toString(), "certificate"),
                        TlsOptions.privateKey(work.resolve("server.key").toString()))
                .build();
        try (ServerSocket listener = new ServerSocket(0, 4, InetAddress.getLoopbackAddress())) {
            int port = listener.getLocalPort();
            Thread server = new Thread(() -> {
                for (int i = 0; i < 2; i++) {
                    try (Socket s = listener.accept(); TlsConnection c = TlsConnection.accept(s, serverConfig)) {
                        c.getInputStream().transferTo(c.getOutputStream());
                    } catch (IOException | RuntimeException e) {
                        // the demo's client reports what went wrong
                    }
                }
            }, "keyway-demo-tls");
            server.setDaemon(true);
            server.start();
            show("$ keyway tls serve --cert server.pem --key server.key --listen 127.0.0.1:" + port + " --echo &");
            String target = "127.0.0.1:" + port;
            String first = runWithInput("hello over TLS 1.3\n", "tls", "connect", target, "--servername", "localhost",
                    "--cafile", "server.pem", "--keylog", "tls.keys", "--sess-out", "session.txt");
            check(first.equals("hello over TLS 1.3\n"), "the server echoed the message");
            run(0, "tls", "keylog", "check", "tls.keys");

            section("16. A second connection resumes the session",
                    "The server sent a session ticket (sealed under its rotating ticket keys); the client saved it with",
                    "--sess-out. Offering it skips the certificate exchange: PSK with a fresh ECDHE, so each session",
                    "still gets new keys.");
            runWithInput("hello again\n", "tls", "connect", target, "--servername", "localhost", "--cafile", "server.pem",
                    "--keylog", "tls.keys", "--sess-in", "session.txt");
            check(lastErr.contains("resumed"), "the second connection was resumed");
        }
    }

    /** Remote sessions (docs/REMOTE.md): two local hosts, shared state, a disconnect and reconnect, a removal. */
    private void remoteStory(String alice) throws IOException {
        section("17. Two hosts, one named session",
                "A host runs 'keyway remote serve' and lets identities in by their key ('remote allow'). A client",
                "opens a persistent session on several hosts at once under one friendly name; the sessions live on",
                "the hosts, and the client keeps their names (and TLS tickets) in a registry file.");
        List<RemoteHost> hosts = new ArrayList<>();
        try {
            StringBuilder targets = new StringBuilder();
            for (String h : List.of("hosta.d", "hostb.d")) {
                run(0, "remote", "init", "--dir", h);
                runShown("keyway remote allow --dir " + h + " --client \"$(keyway pubkey -i alice.key)\" --name alice", 0,
                        "remote", "allow", "--dir", h, "--client", alice, "--name", "alice");
                RemoteHost host = RemoteHost.start(HostDir.open(work.resolve(h)),
                        new InetSocketAddress("127.0.0.1", 0), RemoteHost.Options.defaults());
                hosts.add(host);
                out.println();
                show("$ keyway remote serve --dir " + h + " --listen 127.0.0.1:" + host.address().getPort() + " &");
                targets.append(targets.length() == 0 ? "" : ",").append("127.0.0.1:").append(host.address().getPort());
            }
            String[] client = {"-i", "alice.key", "--cacert", "hosta.d/tls.crt", "--cacert", "hostb.d/tls.crt", "--registry", "sessions.json"};
            run(0, concat(new String[] {"remote", "new", targets.toString(), "--name", "build"}, client));

            section("18. Commands share the session's state",
                    "Each run goes to the session's persistent shell on every host: the directory and variables of one",
                    "run are there in the next. With several hosts each line is prefixed with its host.");
            runRemote(concat(new String[] {"remote", "run", "build", "-n"}, client, new String[] {"--", "cd /tmp; GREETING=hello"}));
            String shared = runRemote(concat(new String[] {"remote", "run", "build", "-n"}, client, new String[] {"--", "echo \"$GREETING from $(pwd)\""}));
            check(shared.lines().filter(l -> l.endsWith(": hello from /tmp")).count() == 2, "the second run saw the first one's state on both hosts");

            section("19. Disconnect, reconnect",
                    "A disconnected session runs on (its jobs too) and takes no commands until it is connected again,",
                    "from here or from another machine with the same identity and a copy of the registry. Reconnecting",
                    "resumes the TLS session and proves the identity again.");
            run(0, concat(new String[] {"remote", "disconnect", "build"}, client));
            String again = run(0, concat(new String[] {"remote", "connect", "build"}, client));
            check(again.contains("(resumed)"), "the reconnection resumed the TLS session");
            String after = runRemote(concat(new String[] {"remote", "run", "build", "-n"}, client, new String[] {"--", "echo $GREETING"}));
            check(after.lines().filter(l -> l.endsWith(": hello")).count() == 2, "the state survived the disconnect");

            section("20. Remove the session",
                    "'remote rm' ends the sessions and every process they started, and forgets them.");
            run(0, concat(new String[] {"remote", "rm", "build"}, client));
            check(hosts.stream().allMatch(h -> h.sessionIds().isEmpty()), "the hosts have no session left");
        } finally {
            hosts.forEach(RemoteHost::close);
        }
    }

    private static String[] concat(String[]... parts) {
        List<String> all = new ArrayList<>();
        for (String[] p : parts) {
            all.addAll(List.of(p));
        }
        return all.toArray(new String[0]);
    }

    /** Runs a command whose output is raw bytes (StdStreams), printing it as the terminal would show it. */
    private String runRemote(String... args) {
        OutputStream oldOut = StdStreams.out;
        OutputStream oldErr = StdStreams.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        StdStreams.out = captured;
        StdStreams.err = captured;
        try {
            StringBuilder shown = new StringBuilder("keyway");
            for (String a : args) {
                shown.append(' ').append(a.contains(" ") ? "'" + a + "'" : a);
            }
            out.println();
            show("$ " + shown);
            StringWriter e = new StringWriter();
            int code = Main.run(resolve(args), new PrintWriter(new StringWriter(), true), new PrintWriter(e, true));
            String got = captured.toString(StandardCharsets.UTF_8);
            got.lines().forEach(this::show);
            e.toString().lines().forEach(this::show);
            check(code == 0, "exit code " + code + (code == 0 ? "" : ", expected 0"));
            return got;
        } finally {
            StdStreams.out = oldOut;
            StdStreams.err = oldErr;
        }
    }

    private String lastErr = "";

    /** Runs a command with {@code input} as its standard input; returns what it wrote to standard output. */
    private String runWithInput(String input, String... args) {
        InputStream oldIn = StdStreams.in;
        OutputStream oldOut = StdStreams.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        StdStreams.in = new ByteArrayInputStream(input.getBytes(StandardCharsets.UTF_8));
        StdStreams.out = captured;
        try {
            out.println();
            show("$ printf '" + input.replace("\n", "\\n") + "' | keyway " + String.join(" ", args));
            StringWriter e = new StringWriter();
            int code = Main.run(resolve(args), new PrintWriter(new StringWriter(), true), new PrintWriter(e, true));
            String got = captured.toString(StandardCharsets.UTF_8);
            got.lines().forEach(this::show);
            lastErr = e.toString();
            lastErr.lines().forEach(this::show);
            check(code == 0, "exit code " + code + (code == 0 ? "" : ", expected 0"));
            return got;
        } finally {
            StdStreams.in = oldIn;
            StdStreams.out = oldOut;
        }
    }

    private void section(String title, String... text) {
        out.println();
        out.println("== " + title + " ==");
        for (String t : text) {
            out.println(t);
        }
    }

    private void show(String line) {
        out.println("  " + line.stripTrailing());
    }

    private String run(int expectedExit, String... args) {
        StringBuilder shown = new StringBuilder("keyway");
        for (String a : args) {
            shown.append(' ').append(abbreviated(a));
        }
        return runShown(shown.toString(), expectedExit, args);
    }

    /** Runs a keyway command in the demo directory, printing the command line, its output and its exit code. */
    private String runShown(String shown, int expectedExit, String... args) {
        out.println();
        show("$ " + shown);
        StringWriter o = new StringWriter();
        StringWriter e = new StringWriter();
        String[] resolved = resolve(args);
        int code = Main.run(resolved, new PrintWriter(o, true), new PrintWriter(e, true));
        o.toString().lines().forEach(l -> show(shortened(l)));
        e.toString().lines().forEach(this::show);
        if (code != 0) {
            show("(exit " + code + ")");
        }
        check(code == expectedExit, "exit code " + code + (code == expectedExit ? "" : ", expected " + expectedExit));
        return o.toString();
    }

    /** Arguments that name files are taken relative to the demo directory. */
    private String[] resolve(String[] args) {
        String[] r = args.clone();
        for (int i = 0; i < r.length; i++) {
            String a = r[i];
            if (a.matches("[a-z]+\\.(key|blob|kwp|txt|kw|out|db|token|d|pem|keys|json)(/[a-z-]+\\.(pem|crt))?")) {
                r[i] = work.resolve(a).toString();
            }
        }
        return r;
    }

    /**
     * A line of output as the demo shows it: paths in the demo directory relative to it (the reader saw
     * "Working in ..."), and a long line's long words (recipient strings) abbreviated whole, so a path or a
     * word is never cut in the middle.
     */
    private String shortened(String line) {
        String relative = line.replace(work + File.separator, "");
        if (relative.length() <= 100) {
            return relative;
        }
        StringBuilder b = new StringBuilder();
        for (String word : relative.split(" ", -1)) {
            b.append(b.length() == 0 ? "" : " ").append(abbreviated(word));
        }
        return b.toString();
    }

    /** A word over 60 characters that is not a path (a recipient string, a key) as its start and its length. */
    private static String abbreviated(String word) {
        return word.length() <= 60 || word.contains("/") ? word : word.substring(0, 24) + "...(" + word.length() + " characters)";
    }

    private void check(boolean ok, String what) {
        if (!ok) {
            failures++;
            show("UNEXPECTED: " + what);
        } else if (what.startsWith("the ") || what.startsWith("re-")) {
            show("ok: " + what);
        }
    }

    private String read(String name) throws IOException {
        return Files.readString(work.resolve(name), StandardCharsets.UTF_8);
    }

    private static String field(String output, String label) {
        for (String line : output.split("\n")) {
            if (line.startsWith(label)) {
                return line.substring(label.length()).strip();
            }
        }
        return "";
    }

    private static void deleteTree(Path root) {
        try (Stream<Path> s = Files.walk(root)) {
            List<Path> all = new ArrayList<>(s.sorted(Comparator.reverseOrder()).toList());
            for (Path p : all) {
                Files.deleteIfExists(p);
            }
        } catch (IOException ignored) {
            // a leftover temporary directory is harmless
        }
    }
}
