package dev.keyway.cli;

import dev.keyway.authority.AuthorityClient;
import dev.keyway.core.blob.KeyBlob;
import dev.keyway.core.identity.Identity;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

@Command(name = "escrow", mixinStandardHelpOptions = true, header = "Send a key blob to a backup authority for safekeeping.",
        description = {"Sends a key blob wrapped for the authority's recipient (made with 'keyway key wrap -r AUTHORITY'), "
                + "with a description and a serial number, signed by an enrolled identity. Prints the authority's signed "
                + "receipt. Sending the same blob again returns the same receipt."})
final class EscrowCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Mixin
    AuthorityOptions authority;

    @Option(names = {"-i", "--identity"}, paramLabel = "IDENTITY", required = true, description = "The enrolled identity (the owner).")
    String identityFile;

    @Option(names = "--identity-passphrase-file", paramLabel = "FILE", description = "Passphrase of an encrypted identity.")
    String identityPassphraseFile;

    @Option(names = "--blob", paramLabel = "FILE", required = true, description = "The key blob, armored or binary.")
    String blobFile;

    @Option(names = "--description", paramLabel = "TEXT", required = true, description = "What the key protects.")
    String description;

    @Option(names = "--serial", paramLabel = "N", description = "A serial number to recover it by.")
    Long serial;

    @Option(names = "--json", description = "Print the receipt as JSON.")
    boolean json;

    @Override
    public void run() {
        KeyBlob blob = KeyBlob.parse(CliIo.readInput(blobFile, KeyBlob.MAX_SIZE * 2, "key blob"));
        try (Identity id = CliIo.readIdentity(identityFile, identityPassphraseFile)) {
            AuthorityClient.Response r = send(authority.client(), id, blob, description, serial, null);
            printReceipt(spec, r, json);
        }
    }

    static AuthorityClient.Response send(AuthorityClient client, Identity id, KeyBlob blob, String description, Long serial,
                                         String messageId) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("blob", Base64.getEncoder().encodeToString(blob.encode()));
        body.put("description", description);
        if (serial != null) {
            body.put("serial", serial);
        }
        if (messageId != null) {
            body.put("message_id", messageId);
        }
        return AuthorityOptions.check(client.signed(id, "POST", "v1/escrow", body), "escrow the key");
    }

    static void printReceipt(CommandSpec spec, AuthorityClient.Response r, boolean json) {
        var out = spec.commandLine().getOut();
        if (json) {
            out.println(r.body().toPrettyString());
        } else {
            out.println("escrowed: " + r.body().get("escrow_id").asText() + " (owner '" + r.body().get("owner").asText()
                    + "', serial " + r.body().get("serial") + ", " + r.body().get("created_at").asText() + ")");
        }
        out.flush();
    }
}
