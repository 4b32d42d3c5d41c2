package dev.keyway.cli;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.io.AtomicFile;
import dev.keyway.tls.TlsConnection;
import dev.keyway.tls.config.TlsConfig;
import dev.keyway.tls.params.Ticket;
import dev.keyway.tls.params.TlsException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

@Command(name = "connect", mixinStandardHelpOptions = true,
        header = "Connect to a TLS 1.3 or 1.2 server (like openssl s_client): stdin to the peer, the peer to stdout.",
        description = {"Open a TLS connection with Keyway's own TLS (1.3, or 1.2 when the server has no 1.3; --tls1.3 or --tls1.2 to insist), check the server's certificate against --cafile "
                + "and the name you connect to (or --servername), then copy standard input to the server and the server's "
                + "data to standard output until both sides are done. A one-line summary (version, suite, group, resumed or "
                + "not) goes to standard error.",
                "",
                "--keylog writes the connection's secrets for Wireshark or 'keyway tls decrypt'; --sess-out saves the session "
                + "and --sess-in resumes with it (TLS 1.3: a ticket, PSK with ECDHE; TLS 1.2: a session ID or ticket).",
                "",
                "Exit status: 0 ok, 2 bad options, 5 a TLS failure or an unreachable server (the alert is named)."})
final class TlsConnectCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "HOST:PORT", description = "The server.")
    String target;

    @Option(names = "--servername", paramLabel = "NAME", description = "The name to send (SNI) and to check the certificate against (default: HOST).")
    String serverName;

    @Option(names = "--cafile", paramLabel = "FILE", description = "PEM file of the CAs to trust.")
    String caFile;

    @Option(names = "--insecure", description = "Do not check the server's certificate (tests only).")
    boolean insecure;

    @Option(names = "--cert", paramLabel = "CERT.pem", description = "Client certificate (chain), if the server asks for one.")
    String cert;

    @Option(names = "--key", paramLabel = "KEY.pem", description = "The client certificate's private key.")
    String key;

    @Option(names = "--sess-out", paramLabel = "FILE", description = "Save the session to resume later: a TLS 1.3 ticket, or a TLS 1.2 session ID and/or ticket (mode 0600: it holds a key).")
    Path sessOut;

    @Option(names = "--sess-in", paramLabel = "FILE", description = "Resume with a session saved by --sess-out.")
    Path sessIn;

    @Mixin
    TlsOptions tls;

    @Override
    public void run() {
        if (caFile == null && !insecure) {
            throw KeywayException.usage("no trust anchors", "give --cafile CA.pem, or --insecure to skip certificate checks (tests only)");
        }
        if ((cert == null) != (key == null)) {
            throw KeywayException.usage("--cert and --key go together", "give both, or neither");
        }
        InetSocketAddress address = TlsOptions.address(target, "HOST:PORT");
        TlsConfig.Builder b = TlsConfig.builder().serverName(serverName != null ? serverName : address.getHostString()).insecure(insecure);
        if (caFile != null) {
            b.trustAnchors(TlsOptions.certificates(caFile, "CA file"));
        }
        if (cert != null) {
            b.certificate(TlsOptions.certificates(cert, "certificate"), TlsOptions.privateKey(key));
        }
        if (sessIn != null) {
            try {
                b.resumeWith(Ticket.decode(Files.readString(sessIn, StandardCharsets.US_ASCII)));
            } catch (IOException e) {
                throw new KeywayException(ErrorCode.IO, "cannot read " + sessIn + ": " + e.getMessage(), "check the path");
            }
        }
        PrintWriter err = spec.commandLine().getErr();
        try {
            TlsConfig config = TlsOptions.build(tls.apply(b)); // bad options fail before any connection
            Socket socket = new Socket();
            try {
                socket.connect(address, 10_000);
            } catch (IOException e) {
                socket.close();
                throw new KeywayException(ErrorCode.PEER, "cannot connect to " + target + " (" + e.getMessage() + ")",
                        "check the address and that the server is running");
            }
            try (TlsConnection c = TlsConnection.connect(socket, config)) {
                err.println("keyway: " + CliIo.errorText(c.summary())); // names the ALPN protocol the server echoed
                err.flush();
                TlsOptions.pumpStdio(c);
                if (sessOut != null) {
                    if (!c.extendedMasterSecret()) {
                        err.println("keyway: warning: a TLS 1.2 session without the extended master secret is never resumed (RFC 7627); "
                                + sessOut + " not written");
                    } else if (c.tickets().isEmpty()) {
                        err.println("keyway: warning: the server offered no way to resume (no ticket, no session ID); " + sessOut + " not written");
                    } else {
                        AtomicFile.write(sessOut, c.tickets().get(0).encode().getBytes(StandardCharsets.US_ASCII), true);
                    }
                }
            }
        } catch (TlsException e) {
            throw TlsOptions.withFlags(e);
        } catch (IOException e) {
            throw new KeywayException(ErrorCode.PEER, "the connection to " + target + " failed (" + e.getMessage() + ")",
                    "check the server; --verbose shows where");
        } finally {
            tls.close();
        }
    }
}
