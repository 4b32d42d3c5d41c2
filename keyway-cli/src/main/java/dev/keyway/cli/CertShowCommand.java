package dev.keyway.cli;

import dev.keyway.core.encoding.Printable;
import dev.keyway.tls.cert.Certificates;
import dev.keyway.tls.cert.CertificateKeyType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

@Command(name = "show", mixinStandardHelpOptions = true,
        header = "Show what a certificate says.",
        description = {"Print each certificate in a PEM file (a chain shows leaf first, as stored): subject, issuer, "
                + "serial, subject alternative names, validity, key type, signature algorithm, whether it is a CA, and "
                + "its SHA-256 fingerprint. Nothing is verified: 'issuer' is what the certificate claims."})
final class CertShowCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "CERT.pem", description = "The certificate file ('-' or nothing: standard input).")
    String input;

    @Option(names = "--json", description = "Print JSON: {\"certificates\": [ ... ]}, one object per certificate.")
    boolean json;

    @Override
    public void run() {
        List<X509Certificate> certs = CertInputs.certificates(input);
        PrintWriter out = spec.commandLine().getOut();
        List<Map<String, Object>> all = new ArrayList<>();
        for (X509Certificate c : certs) {
            all.add(describe(c));
        }
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("certificates", all);
            out.print(CliIo.json(m));
        } else {
            for (int i = 0; i < all.size(); i++) {
                if (i > 0) {
                    out.println();
                }
                for (var e : all.get(i).entrySet()) {
                    Object v = e.getValue();
                    // Subject, issuer and names are the certificate's text, any characters its maker chose
                    String text = v instanceof List<?> l ? (l.isEmpty() ? "(none)"
                            : String.join(", ", l.stream().map(x -> Printable.escape(String.valueOf(x))).toList()))
                            : v instanceof Boolean b ? (b ? "yes" : "no") : Printable.escape(String.valueOf(v));
                    out.printf("%-14s %s%n", e.getKey().replace('_', ' '), text);
                }
            }
        }
        out.flush();
    }

    /** What a certificate says, as ordered key/value pairs (the JSON field names). */
    static Map<String, Object> describe(X509Certificate c) {
        Map<String, Object> m = new LinkedHashMap<>();
        String subject = c.getSubjectX500Principal().getName();
        String issuer = c.getIssuerX500Principal().getName();
        m.put("subject", subject);
        m.put("issuer", issuer);
        m.put("self_issued", c.getSubjectX500Principal().equals(c.getIssuerX500Principal()));
        m.put("serial", c.getSerialNumber().toString(16));
        m.put("sans", Certificates.subjectAltNames(c));
        Instant notBefore = c.getNotBefore().toInstant();
        Instant notAfter = c.getNotAfter().toInstant();
        m.put("not_before", notBefore.toString());
        m.put("not_after", notAfter.toString());
        Instant now = Instant.now();
        m.put("status", now.isBefore(notBefore) ? "not yet valid" : now.isAfter(notAfter) ? "expired" : "valid");
        m.put("key", CertificateKeyType.describe(c.getPublicKey()));
        m.put("signature", c.getSigAlgName());
        m.put("ca", Certificates.isCa(c));
        m.put("sha256", Certificates.sha256Fingerprint(c));
        return m;
    }
}
