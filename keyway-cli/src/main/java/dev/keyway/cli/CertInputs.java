package dev.keyway.cli;

import dev.keyway.core.KeywayException;
import dev.keyway.tls.cert.Certificates;
import dev.keyway.tls.cert.Pem;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.List;

/** What the cert commands share: reading PEM files, and the default subject alternative name. */
final class CertInputs {
    private CertInputs() {
    }

    static List<X509Certificate> certificates(String path) {
        return Pem.readCertificates(CliIo.readInput(path, Pem.MAX_BYTES, "certificate file"));
    }

    static KeyPair keyPair(String path) {
        byte[] pem = CliIo.readInput(path, Pem.MAX_BYTES, "key file");
        try {
            return Pem.readKeyPair(pem);
        } finally {
            Arrays.fill(pem, (byte) 0);
        }
    }

    /** The common name given, which must not be blank (the library refuses one too, without naming the flag). */
    static String commonName(String cn) {
        if (cn == null || cn.isBlank()) {
            throw KeywayException.usage("the common name is empty", "give a name, e.g. --cn localhost");
        }
        return cn;
    }

    /** The names to certify: those given, or for a leaf given none, its common name if that is a host or address. */
    static List<String> sans(List<String> given, String cn, boolean ca) {
        if (given != null && !given.isEmpty()) {
            return given;
        }
        return ca ? List.of() : Certificates.defaultSubjectAltNames(cn);
    }

    static void requireAbsent(String... paths) {
        for (int i = 0; i < paths.length; i++) {
            Path p = Path.of(paths[i]);
            if (Files.exists(p)) {
                throw KeywayException.usage(paths[i] + " already exists", "choose another name or remove it first");
            }
            for (int j = 0; j < i; j++) {
                if (p.toAbsolutePath().normalize().equals(Path.of(paths[j]).toAbsolutePath().normalize())) {
                    throw KeywayException.usage("the certificate and the key would both go to " + paths[i],
                            "give -o and --key-out different names");
                }
            }
        }
    }
}
