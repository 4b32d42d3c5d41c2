package dev.keyway.cli;

import dev.keyway.capi.CapiBlob;
import dev.keyway.capi.CapiKey;
import dev.keyway.capi.CipherAlg;
import dev.keyway.capi.RsaPem;
import dev.keyway.core.KeywayException;
import dev.keyway.core.encoding.Hex;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.security.interfaces.RSAPrivateCrtKey;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

@Command(name = "import-blob", mixinStandardHelpOptions = true,
        header = "Open a CryptoAPI key BLOB: print its session key, or convert an RSA key blob to PEM.",
        description = {"Read a key BLOB as CryptImportKey does. SIMPLEBLOB: decrypt the session key with the recipient's "
                + "RSA key-exchange private key (--private-key-blob or -i PEM) and print it. PLAINTEXTKEYBLOB: print the key. "
                + "SYMMETRICWRAPKEYBLOB: unwrap with --kek. PUBLICKEYBLOB / PRIVATEKEYBLOB: print the key as PEM "
                + "(PKCS #8 or X.509, as OpenSSL reads them), or write it to -o. A PRIVATEKEYBLOB whose numbers do not "
                + "belong together (as openssl rsa -check judges: n = p*q, d*e = 1 mod lcm(p-1, q-1), the CRT values) "
                + "is refused with exit 3, naming what is inconsistent.",
                "",
                "A 40-bit RC2/RC4 key comes out with 11 zero salt bytes, as Windows imports it; pass both to 'capi decrypt' "
                + "(--key and --salt)."})
final class CapiImportBlobCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "BLOB", description = "The key BLOB file (binary, as CryptExportKey wrote it).")
    String blob;

    @ArgGroup(exclusive = true)
    PrivateKeySource privateKey;

    static final class PrivateKeySource {
        @Option(names = "--private-key-blob", paramLabel = "FILE", description = "The exchange key as a PRIVATEKEYBLOB.")
        String blobFile;

        @Option(names = {"-i", "--private-key"}, paramLabel = "KEY.pem", description = "The exchange key as PEM (PKCS #8 or PKCS #1).")
        String pemFile;
    }

    @Option(names = "--kek", paramLabel = "HEX", description = "SYMMETRICWRAPKEYBLOB: the key-encryption key in hex.")
    String kek;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "RSA key blobs: write the PEM here (a private key with mode 0600).")
    String output;

    @Option(names = "--json", description = "Print JSON: type, alg, key, salt (session keys) or pem (RSA keys).")
    boolean json;

    @Override
    public void run() {
        CapiBlob b = CapiBlob.parse(CliIo.readInput(blob, CapiBlob.MAX_BLOB + 1, "key blob"));
        PrintWriter out = spec.commandLine().getOut();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", b.type().name());
        if (b instanceof CapiBlob.RsaPublicKeyBlob pub) {
            m.put("bits", pub.key().getModulus().bitLength());
            emitPem(out, m, RsaPem.writePublic(pub.key()), false);
        } else if (b instanceof CapiBlob.RsaPrivateKeyBlob priv) {
            m.put("bits", priv.key().getModulus().bitLength());
            emitPem(out, m, RsaPem.writePrivate(priv.key()), true);
        } else if (b instanceof CapiBlob.PlaintextKeyBlob plain) {
            printKey(out, m, plain.key());
        } else if (b instanceof CapiBlob.SimpleBlob simple) {
            printKey(out, m, simple.unwrap(exchangeKey()));
        } else if (b instanceof CapiBlob.SymmetricWrapKeyBlob wrapped) {
            if (kek == null) {
                throw KeywayException.usage("a SYMMETRICWRAPKEYBLOB needs --kek (the " + wrapped.wrapAlg().cliName() + " key it was wrapped with)",
                        "give --kek HEX");
            }
            byte[] k = CapiKeyOptions.hex(kek, "--kek");
            CapiKey kekKey = CapiKey.of(wrapped.wrapAlg(), k);
            Arrays.fill(k, (byte) 0);
            try {
                printKey(out, m, wrapped.unwrap(kekKey));
            } finally {
                kekKey.destroy();
            }
        }
    }

    private RSAPrivateCrtKey exchangeKey() {
        if (privateKey == null) {
            throw KeywayException.usage("a SIMPLEBLOB needs the recipient's private key", "give --private-key-blob FILE or -i KEY.pem");
        }
        if (privateKey.blobFile != null) {
            CapiBlob k = CapiBlob.parse(CliIo.readInput(privateKey.blobFile, CapiBlob.MAX_BLOB + 1, "private key blob"));
            if (!(k instanceof CapiBlob.RsaPrivateKeyBlob priv)) {
                throw KeywayException.usage(privateKey.blobFile + " is a " + k.type() + ", not a PRIVATEKEYBLOB", "give the exchange key's PRIVATEKEYBLOB");
            }
            return priv.key();
        }
        return RsaPem.readPrivate(new String(CliIo.readInput(privateKey.pemFile, 1 << 20, "private key"), StandardCharsets.US_ASCII));
    }

    private void printKey(PrintWriter out, Map<String, Object> m, CapiKey key) {
        byte[] k = key.key();
        byte[] salt = key.salt();
        try {
            CipherAlg a = key.alg();
            m.put("alg", a.cliName());
            m.put("alg_id", String.format("0x%04x", a.algId()));
            m.put("bits", key.bits());
            m.put("key", Hex.encode(k));
            m.put("salt", Hex.encode(salt));
            if (json) {
                out.print(CliIo.json(m));
            } else {
                out.println("alg   " + a.cliName());
                out.println("key   " + Hex.encode(k));
                if (salt.length > 0) {
                    out.println("salt  " + Hex.encode(salt));
                }
            }
            out.flush();
        } finally {
            Arrays.fill(k, (byte) 0);
            Arrays.fill(salt, (byte) 0);
            key.destroy();
        }
    }

    private void emitPem(PrintWriter out, Map<String, Object> m, String pem, boolean secret) {
        if (output != null) {
            CliIo.emit(out, output, pem, secret);
            if (json) {
                m.put("written", output);
                out.print(CliIo.json(m));
                out.flush();
            }
            return;
        }
        if (json) {
            m.put("pem", pem);
            out.print(CliIo.json(m));
        } else {
            out.print(pem);
        }
        out.flush();
    }
}
