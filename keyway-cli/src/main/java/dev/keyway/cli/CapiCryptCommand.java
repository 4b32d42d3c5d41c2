package dev.keyway.cli;

import dev.keyway.capi.CapiKey;
import dev.keyway.capi.CipherAlg;
import dev.keyway.capi.LegacyCipher;
import dev.keyway.capi.LegacyCipherInputStream;
import dev.keyway.capi.Mode;
import dev.keyway.core.KeywayException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.InputStream;

/** capi encrypt and capi decrypt: CryptEncrypt/CryptDecrypt over a whole file. */
abstract class CapiCryptCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Option(names = "--alg", required = true, paramLabel = "ALG", description = "rc2, rc4, des, 3des112, 3des, aes128, aes192 or aes256.")
    String alg;

    @Mixin
    CapiKeyOptions source;

    @Option(names = "--mode", paramLabel = "MODE", defaultValue = "cbc", description = "cbc (default, as CryptoAPI), ecb or cfb8.")
    String mode;

    @Option(names = "--iv", paramLabel = "HEX", description = "The IV (KP_IV); default zeros, as for a new CryptoAPI key.")
    String iv;

    @Option(names = {"-o", "--output"}, paramLabel = "OUT", description = "Write to OUT (created only on success) instead of standard output.")
    String output;

    @Parameters(index = "0", arity = "0..1", paramLabel = "IN", description = "Input file ('-' or nothing: standard input).")
    String input;

    abstract boolean encrypting();

    @Override
    public void run() {
        CipherAlg a = CipherAlg.parse(alg);
        Mode m = Mode.parse(mode);
        if (!a.isBlock() && (!mode.equalsIgnoreCase("cbc") || iv != null)) {
            throw KeywayException.usage("RC4 is a stream cipher: it has no mode or IV", "drop --mode and --iv");
        }
        if (m == Mode.ECB && iv != null) {
            throw KeywayException.usage("ECB uses no IV", "drop --iv, or use --mode cbc");
        }
        byte[] ivBytes = iv == null ? null : CapiKeyOptions.hex(iv, "--iv");
        if ((output == null || output.equals("-")) && StdStreams.terminal) {
            throw KeywayException.usage("refusing to write binary data to the terminal", "use -o FILE or redirect the output");
        }
        CapiKey key = source.key(a);
        try {
            LegacyCipher cipher = encrypting() ? LegacyCipher.encrypting(key, m, ivBytes) : LegacyCipher.decrypting(key, m, ivBytes);
            try (InputStream in = new LegacyCipherInputStream(Sink.input(input, spec.commandLine().getErr(), encrypting() ? "encrypting" : "decrypting"), cipher);
                 Sink sink = Sink.open(output, !encrypting())) {
                in.transferTo(sink.stream());
                sink.commit();
            } catch (IOException e) {
                throw CliIo.ioFailure(e);
            }
        } finally {
            key.destroy();
        }
    }

    @Command(name = "encrypt", mixinStandardHelpOptions = true,
            header = "Encrypt a file as CryptEncrypt does (to make test data or check round trips).",
            description = {"Encrypt IN with a given or derived CryptoAPI key, as CryptEncrypt with Final=TRUE does: "
                    + "PKCS #5 padding on the last block (block ciphers, every mode), CBC with a zero IV unless told otherwise. "
                    + "For new data use 'keyway encrypt'."})
    static final class Encrypt extends CapiCryptCommand {
        @Override
        boolean encrypting() {
            return true;
        }
    }

    @Command(name = "decrypt", mixinStandardHelpOptions = true,
            header = "Decrypt legacy CryptEncrypt output with a given or derived key.",
            description = {"Decrypt IN as CryptDecrypt with Final=TRUE does, checking and removing the padding. A wrong "
                    + "key, algorithm, mode or IV shows as bad padding (NTE_BAD_DATA, exit 3) and no output is written.",
                    "",
                    "Example: keyway capi decrypt --hash sha1 --password-file pw.txt --alg 3des legacy.bin -o plain.txt"})
    static final class Decrypt extends CapiCryptCommand {
        @Override
        boolean encrypting() {
            return false;
        }
    }
}
