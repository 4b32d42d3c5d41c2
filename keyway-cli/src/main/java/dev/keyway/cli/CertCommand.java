package dev.keyway.cli;

import picocli.CommandLine.Command;

@Command(name = "cert", mixinStandardHelpOptions = true,
        header = "Make and show X.509 certificates and certificate requests for TLS.",
        description = {"Make self-signed or CA-signed certificates (EC P-256 by default, Ed25519 or RSA), "
                + "PKCS #10 certificate requests, and show what a certificate says. Files are PEM, as openssl reads them."},
        subcommands = {CertNewCommand.class, CertCsrCommand.class, CertShowCommand.class})
final class CertCommand extends GroupCommand {
}
