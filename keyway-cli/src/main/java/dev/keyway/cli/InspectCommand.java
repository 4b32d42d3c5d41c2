package dev.keyway.cli;

import dev.keyway.core.encoding.Printable;
import dev.keyway.envelope.EnvelopeReader;
import dev.keyway.envelope.Header;
import dev.keyway.envelope.Stanza;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

@Command(name = "inspect", mixinStandardHelpOptions = true,
        header = "Show an encrypted file's header, without any key.",
        description = {"Print what the header says: recipients (type and id), escrow, sender, times, message id, serial, payload cipher, and the chunk count and sizes. Nothing here is authenticated until a recipient decrypts: treat it as a claim."})
final class InspectCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Option(names = "--max-recipients", paramLabel = "N", description = "Accept files with more than 256 recipients.")
    int maxRecipients = Header.DEFAULT_MAX_RECIPIENTS;

    @Parameters(index = "0", arity = "0..1", paramLabel = "IN", description = "The encrypted file ('-' or nothing: standard input).")
    String input;

    @Override
    public void run() {
        Map<String, Object> m = new LinkedHashMap<>();
        try (InputStream in = Sink.input(input, spec.commandLine().getErr(), "reading")) {
            EnvelopeReader reader = EnvelopeReader.open(in, maxRecipients);
            Header h = reader.header();
            describe(h, m);
            EnvelopeReader.BodyLayout body = reader.measureBody();
            m.put("header_bytes", h.length());
            m.put("chunks", body.chunks());
            m.put("ciphertext_bytes", body.ciphertextBytes());
            m.put("plaintext_bytes", body.plaintextBytes());
        } catch (IOException e) {
            throw CliIo.ioFailure(e);
        }
        var out = spec.commandLine().getOut();
        if (json) {
            out.print(CliIo.json(m));
        } else {
            for (var e : m.entrySet()) {
                Object v = e.getValue();
                if (e.getKey().equals("sender")) {
                    continue; // long for X-Wing; the id identifies it, --json has the whole string
                }
                // Header fields are whatever the file's writer put there (a content type can hold a line
                // break and "signed: true"): every value is printed escaped, --json keeps them exact.
                if (v instanceof List<?> list) {
                    out.println(e.getKey().replace('_', ' ') + ":");
                    for (Object item : list) {
                        out.println("  " + (item instanceof Map<?, ?> map ? joinValues(map) : Printable.escape(String.valueOf(item))));
                    }
                } else {
                    out.println(e.getKey().replace('_', ' ') + ": " + Printable.escape(String.valueOf(v)));
                }
            }
        }
        out.flush();
    }

    private static String joinValues(Map<?, ?> map) {
        StringBuilder sb = new StringBuilder();
        for (Object v : map.values()) {
            sb.append(sb.length() == 0 ? "" : " ").append(Printable.escape(String.valueOf(v)));
        }
        return sb.toString();
    }

    static void describe(Header h, Map<String, Object> m) {
        m.put("format", "keyway envelope v" + h.version());
        List<Object> stanzas = new ArrayList<>();
        int recipients = 0;
        Map<String, Integer> types = new LinkedHashMap<>();
        for (Stanza s : h.stanzas()) {
            String kind = s instanceof Stanza.ForRecipient ? "recipient" : s instanceof Stanza.ForPassphrase ? "passphrase" : "escrow";
            String type = s instanceof Stanza.ForPassphrase ? "argon2id" : s.blob().scheme().keyType() == null
                    ? s.blob().scheme().label() : s.blob().scheme().keyType().id();
            if (s instanceof Stanza.ForRecipient) {
                recipients++;
                types.merge(type, 1, Integer::sum);
            }
            Map<String, Object> stanza = new LinkedHashMap<>();
            stanza.put("kind", kind);
            stanza.put("type", type);
            if (!(s instanceof Stanza.ForPassphrase)) {
                stanza.put("id", s.blob().recipientIdHex());
            }
            if (s instanceof Stanza.Escrow e && e.owner() != null) {
                stanza.put("owner", e.owner());
            }
            stanzas.add(stanza);
        }
        m.put("recipients", recipients);
        m.put("recipient_types", types);
        m.put("stanzas", stanzas);
        m.put("signed", h.signed());
        if (h.signed()) {
            m.put("sender_id", h.sender().idHex());
            m.put("sender", h.sender().encode());
        }
        m.put("message_id", h.messageIdHex());
        m.put("created", h.created().toString());
        if (h.expires() != null) {
            m.put("expires", h.expires().toString());
        }
        if (h.serial() != null) {
            m.put("serial", Long.toUnsignedString(h.serial()));
        }
        m.put("content_type", h.contentType() == null ? "application/octet-stream" : h.contentType());
        m.put("payload", h.aead().id());
    }
}
