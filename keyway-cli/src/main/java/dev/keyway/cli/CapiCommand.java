package dev.keyway.cli;

import picocli.CommandLine.Command;

@Command(name = "capi", mixinStandardHelpOptions = true,
        header = "Windows CryptoAPI compatibility: derive keys, open key BLOBs and legacy ciphertext, convert it.",
        description = {"Read what Windows programs made with CryptoAPI: keys from CryptDeriveKey, key BLOBs from "
                + "CryptExportKey, data from CryptEncrypt (RC2, RC4, DES, 3DES, AES; CBC with a zero IV by default), and "
                + "move it to Keyway envelopes. See docs/CRYPTOAPI.md.",
                "",
                "Input Windows would refuse is refused the same way, with the Windows error name (e.g. NTE_BAD_ALGID) and exit 2; "
                + "data that does not decrypt (NTE_BAD_DATA) exits 3."},
        subcommands = {CapiDeriveCommand.class, CapiCryptCommand.Encrypt.class, CapiCryptCommand.Decrypt.class,
                CapiImportBlobCommand.class, CapiExportBlobCommand.class, CapiConvertCommand.class})
final class CapiCommand extends GroupCommand {
}
