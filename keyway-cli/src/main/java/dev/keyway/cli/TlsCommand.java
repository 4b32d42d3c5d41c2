package dev.keyway.cli;

import picocli.CommandLine.Command;

@Command(name = "tls", mixinStandardHelpOptions = true,
        header = "TLS: serve and connect with Keyway's TLS 1.3; key blocks, traffic keys, key logs, decrypting captures.",
        description = {"Derive TLS session keys from a master or traffic secret, check SSLKEYLOGFILE key logs (RFC 9850), "
                + "and decrypt captured TLS traffic with a key log."},
        subcommands = {TlsSuitesCommand.class, TlsKeyBlockCommand.class, TlsTrafficKeysCommand.class,
                TlsKeylogCommand.class, TlsDecryptCommand.class, TlsServeCommand.class, TlsConnectCommand.class})
final class TlsCommand extends GroupCommand {
}
