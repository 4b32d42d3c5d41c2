package dev.keyway.cli;

import dev.keyway.tls.cert.Certificates;
import dev.keyway.tls.cert.Pem;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.security.KeyPair;
import java.util.ArrayList;
import java.util.List;

@Command(name = "csr", mixinStandardHelpOptions = true,
        header = "Make a PKCS #10 certificate request for an existing key.",
        description = {"Make a certificate request (PEM \"CERTIFICATE REQUEST\") signed with the key in --key, asking for "
                + "the common name and subject alternative names (as an extensionRequest attribute). With no --san, a "
                + "common name that is a host name or address is asked for as the SAN. The key may be PKCS #8 or "
                + "OpenSSL's EC or RSA format; it must not be encrypted."})
final class CertCsrCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Option(names = "--key", required = true, paramLabel = "KEY.pem", description = "The private key (EC, Ed25519 or RSA).")
    String key;

    @Option(names = "--cn", required = true, paramLabel = "NAME", description = "The subject's common name.")
    String cn;

    @Option(names = "--san", paramLabel = "DNS:name,IP:addr", split = ",",
            description = "Subject alternative names (repeatable or comma-separated); default: the common name.")
    List<String> sans = new ArrayList<>();

    @Option(names = {"-o", "--output"}, paramLabel = "REQ.pem", description = "Write the request here instead of standard output.")
    String output;

    @Override
    public void run() {
        KeyPair keys = CertInputs.keyPair(key);
        String pem = Pem.writeCsr(Certificates.csr(keys, cn, CertInputs.sans(sans, CertInputs.commonName(cn), false)));
        CliIo.emit(spec.commandLine().getOut(), output, pem, false);
    }
}
