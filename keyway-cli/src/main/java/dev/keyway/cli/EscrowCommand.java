package dev.keyway.cli;

import dev.keyway.authority.AuthorityClient;
import dev.keyway.authority.EscrowReceipt;
import dev.keyway.core.KeywayException;
import dev.keyway.core.blob.EscrowBinding;
import dev.keyway.core.blob.KeyBlob;
import dev.keyway.core.blob.KeyWrap;
import dev.keyway.core.encoding.Printable;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.Recipient;
import dev.keyway.core.keys.SessionKey;
import dev.keyway.envelope.EnvelopeReader;
import dev.keyway.envelope.Header;
import dev.keyway.envelope.Stanza;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;

@Command(name = "escrow", mixinStandardHelpOptions = true, header = "Send a session key to a backup authority for safekeeping.",
        description = {"Escrows a key with the authority, signed by your enrolled identity, and prints the authority's signed "
                + "receipt. An escrowed key is bound to its owner (docs/AUTHORITY.md, \"Escrow binding\"): the authority "
                + "releases it to no one else (but recovery officers under its rules), and refuses a blob bound to someone "
                + "else.",
                "",
                "--key-file KEY wraps a session key (as 'keyway key new -o' writes it) for the authority, bound to the name you "
                        + "enrolled under. --file ENCRYPTED sends the escrow stanza of an encrypted file (made with --escrow-recipient "
                        + "or an escrow policy), bound to its owner and message. --blob FILE sends a blob made earlier by one of those "
                        + "(a plain 'keyway key wrap -r AUTHORITY' blob is refused: it is bound to nobody).",
                "",
                "Sending the same key again returns the same receipt."})
final class EscrowCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Mixin
    AuthorityOptions authority;

    @Mixin
    ClientIdentity identity;

    @ArgGroup(exclusive = true, multiplicity = "1")
    What what;

    static final class What {
        @Option(names = "--key-file", paramLabel = "KEY", description = "A session key to escrow (hex or JSON, as 'keyway key new' writes it).")
        String keyFile;

        @Option(names = "--file", paramLabel = "ENCRYPTED", description = "An encrypted file whose escrow stanza to send.")
        String file;

        @Option(names = "--blob", paramLabel = "FILE", description = "An escrow blob bound to you, armored or binary.")
        String blobFile;
    }

    @Option(names = "--alg", paramLabel = "NAME", description = "With --key-file: the key's algorithm, if the file does not say it.")
    String alg;

    @Option(names = "--message-id", paramLabel = "ID", description = "With --blob: the message id the blob is bound to.")
    String messageId;

    @Option(names = "--owner", paramLabel = "NAME",
            description = "With --blob: the owner the blob is bound to, when a recovery officer files it for that owner.")
    String blobOwner;

    @Option(names = "--description", paramLabel = "TEXT", description = "What the key protects (default: the file's name with --file).")
    String description;

    @Option(names = "--serial", paramLabel = "N", description = "A serial number to recover it by (default: the file's, with --file).")
    Long serial;

    @Option(names = "--json", description = "Print the receipt as JSON.")
    boolean json;

    @Override
    public void run() {
        if ((messageId != null || blobOwner != null) && what.blobFile == null) {
            throw KeywayException.usage("--message-id and --owner go with --blob (--file takes them from the file, and a "
                    + "--key-file key is bound to your own name)", "see 'keyway escrow --help'");
        }
        AuthorityClient client = authority.client();
        try (Identity id = identity.read()) {
            KeyBlob blob;
            String owner = null;
            String mid = messageId;
            Long sn = serial;
            String desc = description;
            if (what.keyFile != null) {
                // What can fail here fails before the authority is asked (a usage error is not a network failure).
                requireDescription(desc);
                try (SessionKey key = KeyInputs.sessionKey(what.keyFile, alg)) {
                    Recipient authorityRecipient = Recipient.parse(client.authorityRecipient());
                    blob = KeyWrap.wrapForEscrow(key, authorityRecipient, EscrowBinding.owner(client.enrolledName(id)));
                }
            } else if (what.file != null) {
                Header h = header(what.file, spec.commandLine().getErr());
                Stanza.Escrow e = h.escrow();
                if (e == null) {
                    throw KeywayException.usage(what.file + " has no escrow stanza",
                            "encrypt with --escrow-recipient and --escrow-owner, or under an escrow policy");
                }
                if (e.owner() == null) {
                    throw KeywayException.usage(what.file + "'s escrow stanza is from format version 1: it is bound to no owner, "
                            + "and the authority refuses it", "re-encrypt the file with this Keyway");
                }
                blob = e.blob();
                owner = e.owner();
                mid = h.messageIdHex();
                sn = sn != null ? sn : h.serial();
                desc = desc != null ? desc : what.file;
            } else {
                blob = KeyBlob.parse(CliIo.readInput(what.blobFile, KeyBlob.MAX_SIZE * 2, "key blob"));
                owner = blobOwner;
            }
            requireDescription(desc);
            printReceipt(spec, client.escrow(id, blob, desc, sn, mid, owner), json);
        }
    }

    private static void requireDescription(String description) {
        if (description == null) {
            throw KeywayException.usage("--description is needed", "say what the key protects, e.g. --description 'Q3 backups'");
        }
    }

    private static Header header(String path, PrintWriter err) {
        try (InputStream in = Sink.input(path, err, "reading")) {
            return EnvelopeReader.open(in, Header.DEFAULT_MAX_RECIPIENTS).header();
        } catch (IOException e) {
            throw CliIo.ioFailure(e);
        }
    }

    static void printReceipt(CommandSpec spec, EscrowReceipt r, boolean json) {
        var out = spec.commandLine().getOut();
        if (json) {
            out.println(AuthorityClientCommands.pretty(r.toJson()));
        } else {
            out.println("escrowed: " + Printable.escape(r.escrowId()) + " (owner '" + Printable.escape(r.owner()) + "', "
                    + (r.serial() != null ? "serial " + r.serial() : "no serial") + ", " + r.createdAt() + ")");
        }
        out.flush();
    }
}
