package dev.keyway.cli;

import dev.keyway.authority.AuthorityHome;
import dev.keyway.capi.CryptDeriveKey;
import dev.keyway.capi.Provider;
import dev.keyway.core.KeywayException;
import dev.keyway.core.blob.KeyWrap;
import dev.keyway.core.identity.Recipient;
import dev.keyway.envelope.EnvelopeReader;
import dev.keyway.envelope.EnvelopeWriter;
import dev.keyway.envelope.Header;
import dev.keyway.envelope.Rekey;
import dev.keyway.envelope.ReplayGuard;
import dev.keyway.remote.HostDir;
import dev.keyway.remote.Registry;
import dev.keyway.remote.RemoteClient;
import dev.keyway.tls.config.TlsConfig;
import dev.keyway.tls.params.Ticket;

import java.util.Map;

import static java.util.Map.entry;

/**
 * The CLI's words for the libraries' hints that ask to change a setting: the libraries say it in their own
 * terms and name the hint ({@link KeywayException#hintId()}); the CLI, where it prints the error, says which
 * flag does it.
 */
final class CliHints {
    private static final Map<String, String> HINTS = Map.ofEntries(
            entry(EnvelopeWriter.HINT_PASSPHRASE_ALONE,
                    "encrypt either to a passphrase or to recipients (-r, -R, --escrow-recipient), not both"),
            entry(EnvelopeWriter.HINT_NO_RECIPIENT, "give -r RECIPIENT, -R FILE or --passphrase-file FILE"),
            entry(EnvelopeWriter.HINT_RECIPIENT_LIMIT, "raise --max-recipients (readers must raise it too)"),
            entry(EnvelopeWriter.HINT_EXPIRY, "give a positive --expires duration"),
            entry(ReplayGuard.HINT_MAX_AGE, "a fresh message is needed; or raise --max-age"),
            entry(EnvelopeReader.HINT_USE_PASSPHRASE, "give --passphrase-file FILE, or run on a terminal to be asked"),
            entry(EnvelopeReader.HINT_USE_IDENTITY, "give -i IDENTITY"),
            entry(EnvelopeReader.HINT_GIVE_RECIPIENT, "give the identity it was encrypted to with -i"),
            entry(EnvelopeReader.HINT_GIVE_RECIPIENT_OF_MANY,
                    "give the identity it was encrypted to with -i ('keyway inspect --json' lists them all)"),
            entry(EnvelopeReader.HINT_NO_ESCROW,
                    "ask the sender to encrypt with the escrow policy, or decrypt with --no-policy if you accept that"),
            entry(EnvelopeReader.HINT_OLD_ESCROW,
                    "ask the sender to re-encrypt with this Keyway, or decrypt with --no-policy if you accept that"),
            entry(Rekey.HINT_SIGN_AGAIN, "give --sign-with IDENTITY"),
            entry(Rekey.HINT_ALREADY_RECIPIENT, "leave out that --add"),
            entry(Header.HINT_RECIPIENT_LIMIT_OR_DAMAGED, "the file is damaged, or has more recipients: raise --max-recipients"),
            entry(Header.HINT_RECIPIENT_LIMIT_EXPECTED, "raise --max-recipients if you expect that many"),
            entry(KeyWrap.HINT_USE_KEK, "unwrap it with --kek-file"),
            entry(KeyWrap.HINT_USE_IDENTITY, "unwrap it with -i IDENTITY"),
            entry(KeyWrap.HINT_MAKE_KEK, "make one with 'keyway key new --alg aes-kw'"),
            entry(Recipient.HINT_SECRET_KEY,
                    "run 'keyway pubkey -i FILE' to get the recipient string, and keep the secret key private"),
            entry(CryptDeriveKey.HINT_GIVE_KEY_AND_SALT,
                    "Windows' salt for longer derived keys is undocumented: give the key and its salt with --key and --salt"),
            entry(Provider.HINT_SHA2_NEEDS_AES, "use --provider aes (MS_ENH_RSA_AES_PROV) for SHA-2 hashes"),
            entry(Provider.HINT_AES_NEEDS_AES, "use --provider aes (MS_ENH_RSA_AES_PROV)"),
            entry(Provider.HINT_NEEDS_STRONGER, "use --provider enhanced, strong or aes"),
            entry(TlsConfig.HINT_LEGACY_NO_EMS, "allow such old peers with --legacy-no-ems"),
            entry(Ticket.HINT_NEW_FILE, "make a new one with --sess-out"),
            entry(Ticket.HINT_NOT_A_FILE, "give a file written by 'keyway tls connect --sess-out'"),
            entry(HostDir.HINT_NOT_A_HOST_DIR, "make one with 'keyway remote init --dir DIR'"),
            entry(HostDir.HINT_ALREADY_A_HOST_DIR, "use it as it is, or give another --dir"),
            entry(Registry.HINT_REGISTRY_FILE, "check the directory is writable, or give --registry"),
            entry(RemoteClient.HINT_NO_TRUST, "give the hosts' certificates (or their CA) with --cacert"),
            entry(RemoteClient.HINT_UNTRUSTED_HOST, "check --cacert holds the host's certificate (keyway remote init printed its SHA-256)"),
            entry(AuthorityHome.HINT_WRITABLE_DIR, "give a writable --dir"));

    private CliHints() {
    }

    /** The hint in the CLI's terms: the flag to use where the library named a setting, else the library's hint. */
    static String hint(KeywayException e) {
        String cli = e.hintId() == null ? null : HINTS.get(e.hintId());
        return cli != null ? cli : e.hint();
    }

    /** {@link KeywayException#oneLine()} with {@link #hint}. */
    static String oneLine(KeywayException e) {
        String hint = hint(e);
        return hint == null || hint.isEmpty() ? e.getMessage() : e.getMessage() + ": " + hint;
    }
}
