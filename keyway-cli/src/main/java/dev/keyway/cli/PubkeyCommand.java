package dev.keyway.cli;

import dev.keyway.core.encoding.Hex;
import dev.keyway.core.identity.IdentityFile;
import dev.keyway.core.identity.Recipient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

@Command(name = "pubkey", mixinStandardHelpOptions = true,
        header = "Print the recipient string of an identity file.",
        description = {"Print the recipient string of an identity file. Encrypted identity files keep their recipient readable, so no passphrase is needed."})
final class PubkeyCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Option(names = {"-i", "--identity"}, paramLabel = "FILE", required = true, description = "Identity file.")
    String identity;

    @Option(names = "--json", description = "Print JSON: recipient, type, id, signingKey, encrypted.")
    boolean json;

    @Override
    public void run() {
        IdentityFile.Header h = IdentityFile.header(CliIo.inputFile(identity, "identity file"));
        Recipient r = h.recipient();
        var out = spec.commandLine().getOut();
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("recipient", r.encode());
            m.put("type", r.type().id());
            m.put("id", r.idHex());
            m.put("signingKey", Hex.encode(r.signingPublicKey()));
            m.put("encrypted", h.encrypted());
            out.print(CliIo.json(m));
        } else {
            out.println(r.encode());
        }
        out.flush();
    }
}
