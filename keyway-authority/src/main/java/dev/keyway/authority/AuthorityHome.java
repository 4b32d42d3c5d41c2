package dev.keyway.authority;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.blob.EscrowBinding;
import dev.keyway.core.blob.KeyBlob;
import dev.keyway.core.blob.KeyWrap;
import dev.keyway.core.encoding.Pem;
import dev.keyway.core.keys.SessionKey;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.IdentityFile;
import dev.keyway.core.identity.KeyType;
import dev.keyway.core.identity.Recipient;
import dev.keyway.core.io.AtomicFile;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The authority's directory: its identity (sealed at rest when a passphrase is given), the SHA-256 of
 * its admin token, its TLS certificate and key, and (by default) its SQLite database.
 *
 * <pre>
 * D/authority.key      the authority identity (xwing + Ed25519), mode 0600
 * D/admin-token.sha256 SHA-256 (hex) of the admin token; the token itself is printed once by init
 * D/tls-cert.pem       self-signed certificate for 127.0.0.1 and localhost (clients pin or trust it)
 * D/tls-key.pem        its private key (PKCS#8), mode 0600
 * D/authority.db       the SQLite database, unless serve is given --db
 * </pre>
 */
public final class AuthorityHome {
    /** Hint id: the authority's directory cannot be written (the CLI names its flag). */
    public static final String HINT_WRITABLE_DIR = "authority.writable-dir";

    public static final String IDENTITY = "authority.key";
    public static final String ADMIN_TOKEN = "admin-token.sha256";
    public static final String TLS_CERT = "tls-cert.pem";
    public static final String TLS_KEY = "tls-key.pem";
    public static final String DATABASE = "authority.db";
    /** The last audit head 'audit verify' saw, to detect a rollback to an older signed head. */
    public static final String SEEN_HEAD = "audit-head.seen";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path dir;

    public AuthorityHome(Path dir) {
        this.dir = dir;
    }

    public Path dir() {
        return dir;
    }

    /** What {@link #init} made: the admin token (shown once) and the authority's public facts. */
    public record Initialized(String adminToken, String recipient, String recipientId, String tlsFingerprint) {
        @Override
        public String toString() {
            return "Initialized[" + recipientId + "]";
        }
    }

    /** Creates a new authority in an empty or new directory. */
    public Initialized init(KeyType type, byte[] passphrase) {
        try {
            Files.createDirectories(dir);
            for (String name : new String[] {IDENTITY, ADMIN_TOKEN, TLS_CERT, TLS_KEY, DATABASE}) {
                if (Files.exists(dir.resolve(name))) {
                    throw KeywayException.usage(dir + " already holds an authority (" + name + ")", "choose an empty directory");
                }
            }
            Identity identity = Identity.generate(type);
            IdentityFile.write(dir.resolve(IDENTITY), identity, passphrase);
            byte[] token = new byte[32];
            RANDOM.nextBytes(token);
            String adminToken = "kwadmin_" + HexFormat.of().formatHex(token);
            AtomicFile.write(dir.resolve(ADMIN_TOKEN), (AuthorityStore.sha256(adminToken.getBytes(StandardCharsets.US_ASCII)) + "\n")
                    .getBytes(StandardCharsets.US_ASCII), true);
            X509Certificate cert = writeTls();
            return new Initialized(adminToken, identity.recipient().encode(), identity.recipient().idHex(), fingerprint(cert));
        } catch (IOException e) {
            throw new KeywayException(ErrorCode.IO, "cannot create the authority in " + dir + " (" + AtomicFile.describe(e) + ")",
                    "choose a writable directory").hintId(HINT_WRITABLE_DIR);
        }
    }

    private X509Certificate writeTls() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"));
            KeyPair kp = g.generateKeyPair();
            X500Name name = new X500Name("CN=Keyway backup authority");
            Instant now = Instant.now();
            JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, new BigInteger(128, RANDOM),
                    Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(3650))), name, kp.getPublic());
            b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                    new GeneralName(GeneralName.iPAddress, "127.0.0.1"), new GeneralName(GeneralName.dNSName, "localhost")}));
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            X509CertificateHolder holder = b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate()));
            X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(holder.getEncoded()));
            AtomicFile.write(dir.resolve(TLS_KEY), Pem.encode("PRIVATE KEY", kp.getPrivate().getEncoded()).getBytes(StandardCharsets.US_ASCII),
                    true);
            AtomicFile.write(dir.resolve(TLS_CERT), Pem.encode("CERTIFICATE", cert.getEncoded()).getBytes(StandardCharsets.US_ASCII),
                    false);
            return cert;
        } catch (Exception e) {
            throw new IllegalStateException("making the TLS certificate failed", e);
        }
    }

    /**
     * Rotates the authority key, with the server stopped. The new identity is written first (as
     * authority.key.new), then every stored blob is re-wrapped for it, page by page, then it replaces the
     * old identity file (the old key is not kept). Interrupted, it resumes: run it again and it picks up
     * authority.key.new and skips blobs already wrapped for it. Escrows stored before owner binding are
     * bound to the owner (and message) their rows name. Returns the new identity, which signs the audit
     * head from the last entry on; the caller destroys it.
     */
    public Identity rotate(AuthorityStore store, Identity old, KeyType type, byte[] newPassphrase, Instant now) {
        Path file = dir.resolve(IDENTITY);
        Path next = dir.resolve(IDENTITY + ".new");
        Identity fresh;
        if (Files.exists(next)) {
            fresh = IdentityFile.read(next, f -> newPassphrase == null ? null : newPassphrase.clone());
        } else {
            fresh = Identity.generate(type);
            IdentityFile.write(next, fresh, newPassphrase);
        }
        byte[] freshId = fresh.recipient().id();
        long n = store.rewrapAll((owner, messageId, blob) -> {
            KeyBlob kb = KeyBlob.decode(blob);
            if (MessageDigest.isEqual(kb.recipientId(), freshId)) {
                return blob;
            }
            EscrowBinding binding = EscrowBinding.of(owner, messageId);
            SessionKey bound = null;
            try {
                bound = KeyWrap.unwrapEscrow(kb, old, binding);
            } catch (KeywayException e) {
                // Escrowed before owner binding: bound now to the owner and message its row names.
            }
            // A bound blob stays derandomized (the same key escrowed again gives the same blob); a legacy one
            // gets fresh randomness, since two legacy rows of one owner may hold the same key.
            if (bound != null) {
                try (SessionKey key = bound) {
                    return KeyWrap.wrapForEscrow(key, fresh.recipient(), binding).encode();
                }
            }
            try (SessionKey key = KeyWrap.unwrap(kb, old)) {
                return KeyWrap.wrapForEscrowFresh(key, fresh.recipient(), binding).encode();
            }
        }, "admin", "rotate", now);
        try {
            Files.move(next, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new KeywayException(ErrorCode.IO, "re-wrapped " + n + " keys but could not replace " + file + " ("
                    + AtomicFile.describe(e) + ")", "move " + next + " to " + file + " before starting the server");
        }
        // From here on the new key signs the audit head: audit verify checks it against authority.key.
        store.signHeadsWith(fresh);
        store.audit(now, "admin", "rotate", fresh.recipient().idHex(), "ok", "{\"rewrapped\":" + n + ",\"old\":\""
                + old.recipient().idHex() + "\"}");
        return fresh;
    }

    /**
     * Binds escrows stored before owner binding (plain blobs, which the authority no longer releases) to the
     * owner and message their rows name, re-wrapped for the same authority key; blobs already bound are left
     * as they are. With the server stopped; safe to run again. Returns how many were bound.
     */
    public long bindLegacy(AuthorityStore store, Identity authority, Instant now) {
        AtomicLong bound = new AtomicLong();
        store.rewrapAll((owner, messageId, blob) -> {
            KeyBlob kb = KeyBlob.decode(blob);
            EscrowBinding binding = EscrowBinding.of(owner, messageId);
            try (SessionKey ignored = KeyWrap.unwrapEscrow(kb, authority, binding)) {
                return blob;
            } catch (KeywayException notBound) {
                try (SessionKey key = KeyWrap.unwrap(kb, authority)) {
                    bound.incrementAndGet();
                    return KeyWrap.wrapForEscrowFresh(key, authority.recipient(), binding).encode();
                }
            }
        }, "admin", "bind", now);
        store.audit(now, "admin", "bind", authority.recipient().idHex(), "ok", "{\"bound\":" + bound.get() + "}");
        return bound.get();
    }

    /** The authority's recipient (public keys), read from its identity file without a passphrase. */
    public Recipient recipient() {
        return IdentityFile.header(dir.resolve(IDENTITY)).recipient();
    }

    /** An audit head as an operator records it: the count of entries and the last entry's hash. */
    public record Head(long count, String hash) {
        /** Parses {@code COUNT:HASH}, as 'audit verify' prints it. */
        public static Head parse(String text, String what) {
            String[] parts = text.strip().split(":");
            if (parts.length != 2 || !parts[0].matches("[0-9]{1,18}") || !parts[1].matches("[0-9a-f]{64}")) {
                throw KeywayException.usage(what + " must be COUNT:HASH (64 hex digits), as 'audit verify' prints it",
                        "copy the 'head:' line of an earlier 'keyway authority audit verify'");
            }
            return new Head(Long.parseLong(parts[0]), parts[1]);
        }

        @Override
        public String toString() {
            return count + ":" + hash;
        }
    }

    /**
     * Checks that the log still holds {@code expected} (the same hash at the same entry): a signed head
     * proves the log was not cut or rewritten since the authority signed it, but an attacker who kept an
     * old database can put back an older signed state. Only a head recorded outside the database shows that.
     */
    public static void checkHead(AuthorityStore store, Head expected, String source) {
        if (expected.count() == 0) {
            return;
        }
        String at = store.auditHash(expected.count()).orElse(null);
        if (at == null) {
            throw KeywayException.authFailed("the audit log ends before entry " + expected.count() + ", which " + source
                    + " recorded (hash " + expected.hash() + "): the log was rolled back to an older signed state",
                    "restore the database from a backup and investigate; if you restored an older backup on purpose, delete " + SEEN_HEAD);
        }
        if (!at.equals(expected.hash())) {
            throw KeywayException.authFailed("audit entry " + expected.count() + " has hash " + at + ", but " + source
                    + " recorded " + expected.hash() + ": the log was rewritten", "restore the database from a backup and investigate");
        }
    }

    /**
     * Compares the log with the head the last 'audit verify' saw (D/audit-head.seen), then records the current
     * head there. The first run only records.
     */
    public void checkAndRememberHead(AuthorityStore store, Head current) {
        Path seen = dir.resolve(SEEN_HEAD);
        try {
            if (Files.exists(seen)) {
                String line = Files.readAllLines(seen, StandardCharsets.US_ASCII).stream().filter(l -> !l.startsWith("#"))
                        .findFirst().orElse("");
                checkHead(store, Head.parse(line, seen.toString()), "the last 'audit verify' (" + SEEN_HEAD + ")");
            }
            String text = "# the audit head 'keyway authority audit verify' saw last (" + Instant.now() + ")\n" + current + "\n";
            Path tmp = Files.createTempFile(dir, SEEN_HEAD, ".tmp");
            Files.writeString(tmp, text, StandardCharsets.US_ASCII);
            Files.move(tmp, seen, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new KeywayException(ErrorCode.IO, "cannot record the audit head in " + seen + " (" + AtomicFile.describe(e) + ")",
                    "check the authority directory is writable");
        }
    }

    /** Reads the authority identity, asking {@code passphrases} only when it is sealed. */
    public Identity identity(IdentityFile.PassphraseSource passphrases) {
        return IdentityFile.read(dir.resolve(IDENTITY), passphrases);
    }

    /** Whether {@code token} is the admin token, compared in constant time through its hash. */
    public boolean isAdminToken(String token) {
        try {
            String expected = Files.readString(dir.resolve(ADMIN_TOKEN), StandardCharsets.US_ASCII).strip();
            return MessageDigest.isEqual(expected.getBytes(StandardCharsets.US_ASCII),
                    AuthorityStore.sha256(token.getBytes(StandardCharsets.US_ASCII)).getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
            throw new KeywayException(ErrorCode.IO, "cannot read " + dir.resolve(ADMIN_TOKEN), "check the authority directory");
        }
    }

    public X509Certificate certificate() {
        return readCertificate(dir.resolve(TLS_CERT));
    }

    /** A key store holding the TLS key and certificate, for the HTTPS connector. */
    public KeyStore tlsKeyStore(char[] password) {
        try {
            String pem = Files.readString(dir.resolve(TLS_KEY), StandardCharsets.US_ASCII);
            byte[] der = Pem.decode(pem, "PRIVATE KEY", "TLS key file");
            PrivateKey key = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(der));
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry("authority", key, password, new Certificate[] {certificate()});
            return ks;
        } catch (IOException e) {
            throw new KeywayException(ErrorCode.IO, "cannot read the TLS key in " + dir, "check the authority directory");
        } catch (Exception e) {
            throw new KeywayException(ErrorCode.MALFORMED, "the TLS key in " + dir + " is not usable (" + e.getMessage() + ")",
                    "check the authority directory", e);
        }
    }

    public String databaseUrl() {
        return "jdbc:sqlite:" + dir.resolve(DATABASE).toAbsolutePath();
    }

    /** Reads a PEM certificate file. */
    public static X509Certificate readCertificate(Path file) {
        try {
            byte[] der = Pem.decode(Files.readString(file, StandardCharsets.US_ASCII), "CERTIFICATE", "certificate file");
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(der));
        } catch (IOException e) {
            throw new KeywayException(ErrorCode.IO, "cannot read certificate " + file + " (" + AtomicFile.describe(e) + ")",
                    "give the authority's tls-cert.pem");
        } catch (Exception e) {
            throw KeywayException.malformed(file + " is not a PEM certificate", "give the authority's tls-cert.pem");
        }
    }

    /** SHA-256 of the DER certificate, hex: what an operator compares out of band. */
    public static String fingerprint(X509Certificate cert) {
        try {
            return AuthorityStore.sha256(cert.getEncoded());
        } catch (CertificateEncodingException e) {
            throw new IllegalStateException(e);
        }
    }
}
