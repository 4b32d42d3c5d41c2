package dev.keyway.cli;

import dev.keyway.capi.CapiBlob;
import dev.keyway.capi.CapiKey;
import dev.keyway.capi.CipherAlg;
import dev.keyway.capi.RsaPem;
import dev.keyway.core.KeywayException;
import dev.keyway.core.io.AtomicFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.interfaces.RSAPublicKey;
import java.util.Arrays;
import java.util.Locale;

@Command(name = "export-blob", mixinStandardHelpOptions = true,
        header = "Write a CryptoAPI key BLOB (for legacy programs, or to make test data).",
        description = {"Write a key BLOB as CryptExportKey would:",
                "  plaintextkeyblob      a session key (--alg and --key or derive options)",
                "  symmetricwrapkeyblob  a session key wrapped under --kek (3DES or RC2, RFC 3217)",
                "  simpleblob            a session key encrypted to an RSA public key with PKCS #1 v1.5 (--legacy required:",
                "                        PKCS #1 v1.5 encryption is obsolete; use 'keyway key wrap' for anything new)",
                "  publickeyblob         an RSA public key from PEM (-i)",
                "  privatekeyblob        an RSA private key from PEM (-i); written with mode 0600"})
final class CapiExportBlobCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Option(names = "--type", required = true, paramLabel = "TYPE", description = "The blob type (see above).")
    String type;

    @Option(names = "--alg", paramLabel = "ALG", description = "Session key algorithm (rc2, rc4, des, 3des112, 3des, aes128, aes192, aes256).")
    String alg;

    @Mixin
    CapiKeyOptions source;

    @Option(names = {"-i", "--rsa-key"}, paramLabel = "KEY.pem", description = "publickeyblob/privatekeyblob: the RSA key (PEM); simpleblob: the recipient's public (or private) key.")
    String rsaKey;

    @Option(names = "--signature-key", description = "RSA blobs: mark the key CALG_RSA_SIGN instead of CALG_RSA_KEYX.")
    boolean signatureKey;

    @Option(names = "--kek", paramLabel = "HEX", description = "symmetricwrapkeyblob: the key-encryption key in hex.")
    String kek;

    @Option(names = "--kek-alg", paramLabel = "ALG", description = "symmetricwrapkeyblob: the key-encryption key's algorithm (3des, 3des112 or rc2).")
    String kekAlg;

    @Option(names = "--legacy", description = "Allow simpleblob (RSA PKCS #1 v1.5 encryption).")
    boolean legacy;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE", description = "The blob file to create (never overwritten).")
    String output;

    @Override
    public void run() {
        String t = type.toLowerCase(Locale.ROOT);
        CapiBlob blob = switch (t) {
            case "plaintextkeyblob" -> new CapiBlob.PlaintextKeyBlob(sessionKey());
            case "symmetricwrapkeyblob" -> {
                if (kek == null || kekAlg == null) {
                    throw KeywayException.usage("symmetricwrapkeyblob needs --kek and --kek-alg", "give the key-encryption key");
                }
                byte[] k = CapiKeyOptions.hex(kek, "--kek");
                CapiKey kekKey = CapiKey.of(CipherAlg.parse(kekAlg), k);
                Arrays.fill(k, (byte) 0);
                yield CapiBlob.SymmetricWrapKeyBlob.wrap(sessionKey(), kekKey);
            }
            case "simpleblob" -> {
                if (!legacy) {
                    throw KeywayException.policy("a SIMPLEBLOB encrypts with RSA PKCS #1 v1.5, which is obsolete",
                            "add --legacy if a legacy program must import it; for new exchanges use 'keyway key wrap'");
                }
                RSAPublicKey pub = RsaPem.readPublic(pem());
                yield CapiBlob.SimpleBlob.wrap(sessionKey(), pub);
            }
            case "publickeyblob" -> new CapiBlob.RsaPublicKeyBlob(algId(), RsaPem.readPublic(pem()));
            case "privatekeyblob" -> new CapiBlob.RsaPrivateKeyBlob(algId(), RsaPem.readPrivate(pem()));
            default -> throw KeywayException.usage("unknown --type '" + type + "'",
                    "use plaintextkeyblob, symmetricwrapkeyblob, simpleblob, publickeyblob or privatekeyblob");
        };
        byte[] bytes = blob.encode();
        try {
            AtomicFile.write(Path.of(output), bytes, t.equals("plaintextkeyblob") || t.equals("privatekeyblob"));
        } finally {
            Arrays.fill(bytes, (byte) 0);
        }
    }

    private int algId() {
        return signatureKey ? CapiBlob.CALG_RSA_SIGN : CapiBlob.CALG_RSA_KEYX;
    }

    private CapiKey sessionKey() {
        if (alg == null) {
            throw KeywayException.usage("--type " + type + " needs --alg", "name the session key's algorithm");
        }
        return source.key(CipherAlg.parse(alg));
    }

    private String pem() {
        if (rsaKey == null) {
            throw KeywayException.usage("--type " + type + " needs -i KEY.pem", "give the RSA key in PEM");
        }
        return new String(CliIo.readInput(rsaKey, 1 << 20, "RSA key"), StandardCharsets.US_ASCII);
    }
}
