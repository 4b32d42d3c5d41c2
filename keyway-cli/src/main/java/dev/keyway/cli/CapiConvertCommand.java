package dev.keyway.cli;

import dev.keyway.capi.CapiKey;
import dev.keyway.capi.CipherAlg;
import dev.keyway.capi.LegacyCipher;
import dev.keyway.capi.LegacyCipherInputStream;
import dev.keyway.capi.Mode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.Recipient;
import dev.keyway.core.identity.Recipients;
import dev.keyway.envelope.EnvelopeWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

@Command(name = "convert", mixinStandardHelpOptions = true,
        header = "Convert legacy CryptoAPI ciphertext to a Keyway envelope in one step.",
        description = {"Decrypt IN as CryptDecrypt would (given or derived key, --alg, --mode, --iv) and encrypt the "
                + "plaintext for the recipients as 'keyway encrypt' does, streaming: the plaintext is never written to "
                + "disk, and OUT appears only when the whole input decrypted (its final padding checked) and the "
                + "envelope is complete.",
                "",
                "Example: keyway capi convert old.bin --hash md5 --password-file pw.txt --alg rc4 --bits 40 --provider base \\",
                "           -r \"$(keyway pubkey -i alice.key)\" -o old.kw"})
final class CapiConvertCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "IN", description = "The legacy ciphertext ('-' for standard input).")
    String input;

    @Option(names = "--alg", required = true, paramLabel = "ALG", description = "rc2, rc4, des, 3des112, 3des, aes128, aes192 or aes256.")
    String alg;

    @Mixin
    CapiKeyOptions source;

    @Option(names = "--mode", paramLabel = "MODE", defaultValue = "cbc", description = "cbc (default), ecb or cfb8.")
    String mode;

    @Option(names = "--iv", paramLabel = "HEX", description = "The IV; default zeros.")
    String iv;

    @Option(names = {"-r", "--recipient"}, paramLabel = "RECIPIENT", description = "Encrypt to this recipient (repeatable).")
    List<String> recipients = new ArrayList<>();

    @Option(names = {"-R", "--recipients-file"}, paramLabel = "FILE", description = "Encrypt to the recipients listed in FILE.")
    List<Path> recipientFiles = new ArrayList<>();

    @Option(names = "--sign-with", paramLabel = "IDENTITY", description = "Sign the envelope with this identity.")
    String signWith;

    @Option(names = "--identity-passphrase-file", paramLabel = "FILE", description = "Passphrase of a sealed --sign-with identity.")
    String identityPassphraseFile;

    @Option(names = {"-a", "--armor"}, description = "Write the envelope's text form.")
    boolean armor;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "OUT", description = "The envelope to create (only on success).")
    String output;

    @Override
    public void run() {
        CipherAlg a = CipherAlg.parse(alg);
        Mode m = Mode.parse(mode);
        List<Recipient> list = new ArrayList<>(KeyInputs.recipients(recipients));
        for (Path f : recipientFiles) {
            list.addAll(Recipients.readFile(f));
        }
        if (list.isEmpty()) {
            throw KeywayException.usage("no recipient given", "give -r RECIPIENT or -R FILE");
        }
        byte[] ivBytes = iv == null ? null : CapiKeyOptions.hex(iv, "--iv");
        EnvelopeWriter writer = new EnvelopeWriter().recipients(list);
        CapiKey key = source.key(a);
        Identity signer = signWith == null ? null : CliIo.readIdentity(signWith, identityPassphraseFile);
        try (signer; InputStream in = new LegacyCipherInputStream(Sink.input(input, spec.commandLine().getErr(), "converting"),
                LegacyCipher.decrypting(key, m, ivBytes));
             Sink sink = Sink.open(output, false)) {
            writer.signer(signer);
            writer.encrypt(in, sink.envelope(armor));
            sink.commit();
        } catch (IOException e) {
            throw CliIo.ioFailure(e);
        } finally {
            key.destroy();
        }
    }
}
