package dev.keyway.cli;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.kdf.CipherSuite;
import dev.keyway.core.kdf.CipherSuites;
import dev.keyway.core.kdf.TlsVersion;
import dev.keyway.core.keylog.KeyLogFile;
import dev.keyway.tls.TlsConnection;
import dev.keyway.tls.cert.Pem;
import dev.keyway.tls.config.TlsConfig;
import dev.keyway.tls.params.NamedGroup;
import dev.keyway.tls.params.TlsException;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Options tls serve and tls connect share: versions, groups, suites (and the legacy ones), ALPN, key log. */
final class TlsOptions {
    @Option(names = "--groups", paramLabel = "LIST", split = ",", description = "Key-exchange groups in preference order: x25519, secp256r1, X25519MLKEM768 (default: x25519,secp256r1).")
    List<String> groups;

    @Option(names = "--suites", paramLabel = "LIST", split = ",", description = "Suites in preference order, IANA or OpenSSL names (default: the three TLS 1.3 suites, then TLS 1.2 ECDHE with AES-GCM or ChaCha20-Poly1305).")
    List<String> suites;

    @Option(names = "--tls1.3", description = "TLS 1.3 only (default: TLS 1.3, or TLS 1.2 when the peer has no 1.3).")
    boolean tls13Only;

    @Option(names = "--tls1.2", description = "TLS 1.2 only.")
    boolean tls12Only;

    @Option(names = "--legacy-rsa-kx", description = "TLS 1.2: also allow static RSA key transport (no forward secrecy), for old peers.")
    boolean legacyRsaKx;

    @Option(names = "--legacy-cbc", description = "TLS 1.2: also allow AES-CBC suites with HMAC (MAC-then-encrypt), for old peers.")
    boolean legacyCbc;

    @Option(names = "--legacy-no-ems", description = "TLS 1.2: also allow peers without the extended master secret (RFC 7627), for old peers: such sessions are not resumed and export no keys.")
    boolean legacyNoEms;

    @Option(names = "--alpn", paramLabel = "LIST", split = ",", description = "Application protocols to offer or accept, e.g. h2,http/1.1.")
    List<String> alpn;

    @Option(names = "--keylog", paramLabel = "FILE", description = "Append this connection's secrets to FILE (SSLKEYLOGFILE format, created 0600): Wireshark and 'keyway tls decrypt' can then read the traffic.")
    Path keylog;

    KeyLogFile keyLogFile;

    /** Applies these options to a builder; opens the key log (the caller closes it). */
    TlsConfig.Builder apply(TlsConfig.Builder b) {
        if (tls13Only && tls12Only) {
            throw KeywayException.usage("--tls1.3 and --tls1.2 exclude each other", "give one, or neither to speak both (1.3 preferred)");
        }
        b.versions(tls13Only ? List.of(TlsVersion.TLS13) : tls12Only ? List.of(TlsVersion.TLS12) : List.of(TlsVersion.TLS13, TlsVersion.TLS12));
        b.legacyRsaKeyExchange(legacyRsaKx).legacyCbc(legacyCbc).legacyNoExtendedMasterSecret(legacyNoEms);
        if (groups != null) {
            List<NamedGroup> gs = new ArrayList<>();
            for (String g : groups) {
                gs.add(NamedGroup.parse(g));
            }
            b.groups(gs);
        }
        if (suites != null) {
            List<CipherSuite> ss = new ArrayList<>();
            for (String s : suites) {
                ss.add(CipherSuites.parse(s));
            }
            b.suites(ss);
        }
        if (alpn != null) {
            b.alpn(alpn);
        }
        if (keylog != null) {
            keyLogFile = KeyLogFile.open(keylog);
            b.keyLog(keyLogFile);
        }
        return b;
    }

    /** The TlsConfig settings the library's hints name, and the flags that turn them on. */
    private static final Map<String, String> LEGACY_FLAGS = Map.of("legacyRsaKeyExchange", "--legacy-rsa-kx", "legacyCbc", "--legacy-cbc");

    /** Builds the config; a suite the flags do not allow is a usage error naming the flag. */
    static TlsConfig build(TlsConfig.Builder b) {
        try {
            return b.build();
        } catch (KeywayException e) {
            String hint = e.hint() == null ? "" : e.hint();
            String flag = LEGACY_FLAGS.entrySet().stream().filter(f -> hint.contains(f.getKey())).map(Map.Entry::getValue)
                    .findFirst().orElse(null);
            throw KeywayException.usage(e.getMessage(), (flag == null ? "" : "allow it with " + flag + "; ")
                    + "see 'keyway tls suites' and the --legacy-* flags");
        }
    }

    /**
     * A TLS failure with the flags that help in its hint: the library's says what to check (the CA, the server name, a
     * key log); for an alert we send on a failed check ({@link TlsException#fatal}) that is --cafile or --insecure,
     * --servername, --keylog here. A refusal by policy and an alert the peer sent keep their own hints.
     */
    static KeywayException withFlags(TlsException e) {
        if (e.hintId() != null) {
            return new KeywayException(e.code(), e.getMessage(), CliHints.hint(e), e);
        }
        String flags = e.received() || e.code() != ErrorCode.PEER || e.alert() == null ? null : switch (e.alert()) {
            case UNKNOWN_CA -> "give the CA that issued the peer's certificate (--cafile), or --insecure for a test";
            case BAD_CERTIFICATE, CERTIFICATE_UNKNOWN -> "check the peer's certificate and the name you connect to (--servername)";
            case CERTIFICATE_EXPIRED, HANDSHAKE_FAILURE, PROTOCOL_VERSION -> null;
            default -> "check both sides' settings; --keylog helps to look at the traffic";
        };
        return flags == null ? e : new KeywayException(e.code(), e.getMessage(), flags, e);
    }

    void close() {
        if (keyLogFile != null) {
            try {
                keyLogFile.close();
            } catch (IOException ignored) {
                // nothing left to write
            }
        }
    }

    /** Standard input to the peer (then close_notify), the peer's data to standard output, until both are done. */
    static void pumpStdio(TlsConnection c) throws IOException {
        Thread upload = new Thread(() -> {
            try {
                StdStreams.in.transferTo(c.getOutputStream());
            } catch (IOException ignored) {
                // the connection ended first
            } finally {
                c.shutdownOutput();
            }
        }, "keyway-tls-stdin");
        upload.setDaemon(true);
        upload.start();
        InputStream in = c.getInputStream();
        OutputStream out = StdStreams.out;
        byte[] buf = new byte[16384];
        int n;
        while ((n = in.read(buf)) >= 0) {
            out.write(buf, 0, n);
            out.flush();
        }
    }

    static List<X509Certificate> certificates(String path, String what) {
        List<X509Certificate> certs = Pem.readCertificates(CliIo.readInput(path, Pem.MAX_BYTES, what));
        if (certs.isEmpty()) {
            throw KeywayException.malformed(path + " holds no certificate", "give a PEM file with -----BEGIN CERTIFICATE-----");
        }
        return certs;
    }

    static PrivateKey privateKey(String path) {
        return Pem.readPrivateKey(CliIo.readInput(path, Pem.MAX_BYTES, "private key"));
    }

    /** "host:port" or "[v6]:port". */
    static InetSocketAddress address(String text, String flag) {
        int colon = text.lastIndexOf(':');
        if (colon <= 0 || colon == text.length() - 1) {
            throw KeywayException.usage(flag + " must be HOST:PORT, not '" + text + "'", "e.g. 127.0.0.1:4433");
        }
        String host = text.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(text.substring(colon + 1));
        } catch (NumberFormatException e) {
            port = -1;
        }
        if (port < 0 || port > 65535) {
            throw KeywayException.usage("port in '" + text + "' is not 0 to 65535", "e.g. 127.0.0.1:4433");
        }
        return new InetSocketAddress(host, port);
    }
}
