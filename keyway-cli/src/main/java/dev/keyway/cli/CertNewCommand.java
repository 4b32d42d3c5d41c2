package dev.keyway.cli;

import dev.keyway.core.KeywayException;
import dev.keyway.core.encoding.Printable;
import dev.keyway.core.io.AtomicFile;
import dev.keyway.tls.cert.Certificates;
import dev.keyway.tls.cert.CertificateKeyType;
import dev.keyway.tls.cert.Pem;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

@Command(name = "new", mixinStandardHelpOptions = true,
        header = "Make a new key and a certificate for it.",
        description = {"Generate a key (EC P-256 unless --key-type says otherwise) and a certificate for it: self-signed, "
                + "or signed by a CA given with --ca and --ca-key. The key is written to --key-out (PKCS #8 PEM, mode 0600), "
                + "the certificate to -o; neither file may exist yet.",
                "",
                "A leaf certificate is for TLS servers and clients (serverAuth, clientAuth); with --is-ca the certificate "
                        + "is a CA that can sign others. A leaf given no --san gets its --cn as DNS or IP name when that is a host "
                        + "name or address.",
                "",
                "Examples:",
                "  keyway cert new --is-ca --cn 'Test CA' -o ca.pem --key-out ca.key",
                "  keyway cert new --cn localhost --san DNS:localhost,IP:127.0.0.1 --ca ca.pem --ca-key ca.key -o leaf.pem --key-out leaf.key"})
final class CertNewCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Option(names = "--cn", required = true, paramLabel = "NAME", description = "The subject's common name.")
    String cn;

    @Option(names = "--san", paramLabel = "DNS:name,IP:addr", split = ",",
            description = "Subject alternative names (repeatable or comma-separated); default for a leaf: the common name.")
    List<String> sans = new ArrayList<>();

    @Option(names = "--key-type", paramLabel = "ec|ed25519|rsa", defaultValue = "ec",
            description = "Key type (default: ${DEFAULT-VALUE}, i.e. P-256).")
    String keyType;

    @Option(names = "--bits", paramLabel = "N", description = "RSA key length: 2048 (default), 3072 or 4096.")
    Integer bits;

    @Option(names = "--days", paramLabel = "N", defaultValue = "365", description = "Days the certificate is valid (default: ${DEFAULT-VALUE}).")
    int days;

    @Option(names = "--is-ca", description = "Make a CA certificate (CA:true, keyCertSign, cRLSign) instead of a leaf.")
    boolean isCa;

    @ArgGroup(exclusive = false)
    Issuer issuer;

    static final class Issuer {
        @Option(names = {"--ca", "--ca-cert"}, required = true, paramLabel = "CA.pem", description = "Sign with this CA certificate...")
        String cert;

        @Option(names = "--ca-key", required = true, paramLabel = "CA.key", description = "...and this, its private key (PEM).")
        String key;
    }

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "CERT.pem", description = "Write the certificate here.")
    String output;

    @Option(names = "--key-out", required = true, paramLabel = "KEY.pem", description = "Write the new private key here (mode 0600).")
    String keyOut;

    @Option(names = "--json", description = "Print JSON: what 'keyway cert show --json' prints, plus the file names.")
    boolean json;

    @Override
    public void run() {
        if (days < 1 || days > 36500) {
            throw KeywayException.usage("--days must be between 1 and 36500, not " + days, "give the number of days");
        }
        CertificateKeyType type = CertificateKeyType.parse(keyType);
        CertInputs.requireAbsent(output, keyOut);
        List<String> names = CertInputs.sans(sans, CertInputs.commonName(cn), isCa);
        Duration validity = Duration.ofDays(days);

        X509Certificate caCert = null;
        PrivateKey caKey = null;
        if (issuer != null) {
            caCert = CertInputs.certificates(issuer.cert).get(0);
            if (!Certificates.isCa(caCert)) { // the library refuses it too; here the hint can name the flag
                throw KeywayException.usage("the certificate " + Printable.escape(caCert.getSubjectX500Principal().getName())
                        + " is not a CA certificate (no basic constraint CA:true)", "sign with a CA certificate, e.g. one made with 'keyway cert new --is-ca'");
            }
            caKey = CertInputs.keyPair(issuer.key).getPrivate();
        }
        KeyPair keys = bits == null ? type.generate() : type.generate(bits);
        X509Certificate cert = caCert == null
                ? Certificates.selfSigned(keys, cn, names, validity, isCa)
                : Certificates.issued(keys.getPublic(), cn, names, validity, caCert, caKey, isCa);

        AtomicFile.write(Path.of(keyOut), Pem.writePrivateKey(keys.getPrivate()).getBytes(StandardCharsets.US_ASCII), true);
        try {
            AtomicFile.write(Path.of(output), Pem.writeCertificate(cert).getBytes(StandardCharsets.US_ASCII), false);
        } catch (RuntimeException e) {
            deleteQuietly(Path.of(keyOut)); // a key without its certificate is only litter
            throw e;
        }

        PrintWriter out = spec.commandLine().getOut();
        Map<String, Object> m = CertShowCommand.describe(cert);
        if (json) {
            m.put("certificate_file", output);
            m.put("key_file", keyOut);
            out.print(CliIo.json(m));
        } else {
            out.println("wrote " + output + " and " + keyOut + ": " + Printable.escape((String) m.get("subject"))
                    + (caCert == null ? " (self-signed" : " (issued by " + Printable.escape((String) m.get("issuer")))
                    + (isCa ? ", CA" : "") + "), " + m.get("key")
                    + ", SHA-256 " + m.get("sha256") + ", not after " + m.get("not_after"));
        }
        out.flush();
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // the user sees the original failure; the key file is theirs to remove
        }
    }
}
