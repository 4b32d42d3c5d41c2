package dev.keyway.tls.handshake;

import dev.keyway.core.kdf.CipherSuite;
import dev.keyway.core.kdf.CipherSuites;
import dev.keyway.core.kdf.TlsVersion;
import dev.keyway.tls.PeerIdentity;
import dev.keyway.tls.TlsEngine;
import dev.keyway.tls.config.TicketKeys;
import dev.keyway.tls.config.TlsConfig;
import dev.keyway.tls.params.Alert;
import dev.keyway.tls.params.Ticket;
import dev.keyway.tls.params.TlsException;
import dev.keyway.tls.session.MemorySessionStore;
import dev.keyway.tls.session.RedisSessionStore;
import dev.keyway.tls.session.SessionStore;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.math.BigInteger;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.Base64;
import java.util.Date;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The client's identity across resumption, TLS 1.3 (ticket, RFC 8446 section 4.6.1) and TLS 1.2 (RFC 5077 ticket and
 * session ID, RFC 5246 section 7.4.1.2): a resumed server-side connection reports the chain of the session's client;
 * the server checks that chain again against its current trust anchors and clock before it resumes, and declines
 * (RFC 8446 section 4.2.11) into a full handshake that asks for a certificate otherwise; states whose identity part is
 * malformed, oversized or of the old format end in a full handshake, never in an exception. Through engines, no sockets.
 */
class ResumedClientIdentityTest {
    /** The three ways a session comes back. */
    enum Mode {
        TLS13_TICKET, TLS12_TICKET, TLS12_SESSION_ID;

        List<TlsVersion> versions() {
            return this == TLS13_TICKET ? List.of(TlsVersion.TLS13) : List.of(TlsVersion.TLS12);
        }
    }

    static final SecureRandom RANDOM = new SecureRandom();
    static final CipherSuite TLS12_SUITE = CipherSuites.byCode(0xC02B); // ECDHE-ECDSA-AES128-GCM-SHA256, for our EC server key
    static final CipherSuite TLS13_SUITE = CipherSuites.byCode(0x1301);

    static KeyPair caAKeys;
    static X509Certificate caA;
    static X509Certificate caB;
    static KeyPair serverKeys;
    static X509Certificate server;
    /** alice: a leaf of CA A; bob: of CA B; carol: a leaf of an intermediate of CA A. */
    static KeyPair aliceKeys;
    static X509Certificate alice;
    static KeyPair bobKeys;
    static X509Certificate bob;
    static KeyPair carolKeys;
    static List<X509Certificate> carolChain;
    /** A leaf of CA A that expires an hour from now. */
    static KeyPair shortKeys;
    static X509Certificate shortLived;
    /** A leaf of CA A of about 9 KiB: over the bound for sealing a chain. */
    static KeyPair hugeKeys;
    static X509Certificate huge;

    static KeyPair ec() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    static X509Certificate certificate(String subject, PublicKey key, String issuer, PrivateKey issuerKey, Instant notAfter, boolean ca,
                                       byte[] filler) throws Exception {
        JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(new X500Name(issuer), new BigInteger(64, RANDOM).add(BigInteger.ONE),
                Date.from(Instant.now().minus(Duration.ofDays(1))), Date.from(notAfter), new X500Name(subject), key);
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
        if (ca) {
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        } else {
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            b.addExtension(Extension.extendedKeyUsage, false,
                    new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_clientAuth, KeyPurposeId.id_kp_serverAuth}));
            b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                    new GeneralName(GeneralName.dNSName, "localhost"), new GeneralName(GeneralName.iPAddress, "127.0.0.1")}));
        }
        if (filler != null) {
            b.addExtension(new ASN1ObjectIdentifier("1.3.6.1.4.1.55555.1"), false, new DEROctetString(filler));
        }
        String alg = issuerKey.getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
        return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder(alg).build(issuerKey)));
    }

    @BeforeAll
    static void certificates() throws Exception {
        Instant month = Instant.now().plus(Duration.ofDays(30));
        caAKeys = ec();
        caA = certificate("CN=Identity Test CA A", caAKeys.getPublic(), "CN=Identity Test CA A", caAKeys.getPrivate(), month, true, null);
        KeyPair caBKeys = ec();
        caB = certificate("CN=Identity Test CA B", caBKeys.getPublic(), "CN=Identity Test CA B", caBKeys.getPrivate(), month, true, null);
        serverKeys = ec();
        server = certificate("CN=localhost", serverKeys.getPublic(), "CN=Identity Test CA A", caAKeys.getPrivate(), month, false, null);
        aliceKeys = ec();
        alice = certificate("O=Example,CN=alice", aliceKeys.getPublic(), "CN=Identity Test CA A", caAKeys.getPrivate(), month, false, null);
        bobKeys = ec();
        bob = certificate("CN=bob", bobKeys.getPublic(), "CN=Identity Test CA B", caBKeys.getPrivate(), month, false, null);
        KeyPair interKeys = ec();
        X509Certificate inter = certificate("CN=Identity Test Intermediate", interKeys.getPublic(), "CN=Identity Test CA A",
                caAKeys.getPrivate(), month, true, null);
        carolKeys = ec();
        carolChain = List.of(certificate("CN=carol", carolKeys.getPublic(), "CN=Identity Test Intermediate", interKeys.getPrivate(), month,
                false, null), inter);
        shortKeys = ec();
        shortLived = certificate("CN=short", shortKeys.getPublic(), "CN=Identity Test CA A", caAKeys.getPrivate(),
                Instant.now().plus(Duration.ofHours(1)), false, null);
        hugeKeys = ec();
        huge = certificate("CN=huge", hugeKeys.getPublic(), "CN=Identity Test CA A", caAKeys.getPrivate(), month, false, new byte[9000]);
    }

    // ---------------------------------------------------------------- configs and engines

    /** Servers that resume each other's sessions share ticket keys and a session store, as after a restart. */
    record Shared(TicketKeys keys, SessionStore store) {
        static Shared fresh() {
            return new Shared(TicketKeys.rotatingEvery(Duration.ofHours(1)), new MemorySessionStore());
        }
    }

    static TlsConfig.Builder server(Mode mode, Shared shared) {
        return TlsConfig.builder().certificate(List.of(server), serverKeys.getPrivate()).versions(mode.versions())
                .ticketKeys(shared.keys()).sessionStore(shared.store()).ticketCount(mode == Mode.TLS12_SESSION_ID ? 0 : 1);
    }

    /** A server that requires client certificates of {@code ca}. */
    static TlsConfig requiring(Mode mode, Shared shared, X509Certificate ca) {
        return server(mode, shared).trustAnchors(List.of(ca)).requireClientCertificate(true).build();
    }

    static TlsConfig.Builder client(Mode mode) {
        return TlsConfig.builder().trustAnchors(List.of(caA)).serverName("localhost").versions(mode.versions());
    }

    static TlsConfig.Builder client(Mode mode, List<X509Certificate> chain, KeyPair keys) {
        return client(mode).certificate(chain, keys.getPrivate());
    }

    record Pair(TlsEngine client, TlsEngine server) {
        Ticket session() {
            return client.tickets().isEmpty() ? null : client.tickets().get(0);
        }
    }

    static byte[] take(TlsEngine e) {
        byte[] out = new byte[e.outputLength()];
        e.takeOutput(out, 0, out.length);
        return out;
    }

    /** Moves bytes both ways until neither side has any; a failure is thrown from the side that found it. */
    static Pair connect(TlsConfig clientConfig, TlsConfig serverConfig) {
        TlsEngine c = TlsEngine.client(clientConfig);
        TlsEngine s = TlsEngine.server(serverConfig);
        for (int round = 0; round < 50; round++) {
            byte[] a = take(c);
            byte[] b = take(s);
            if (a.length == 0 && b.length == 0) {
                assertThat(c.isHandshakeComplete()).isTrue();
                assertThat(s.isHandshakeComplete()).isTrue();
                assertThat(s.resumed()).isEqualTo(c.resumed());
                return new Pair(c, s);
            }
            if (a.length > 0) {
                s.receive(a, 0, a.length);
            }
            if (b.length > 0) {
                c.receive(b, 0, b.length);
            }
        }
        throw new AssertionError("the engines did not settle");
    }

    /** The first connection of a test: a full handshake that gives a session of the shape {@code mode} names. */
    static Pair first(Mode mode, TlsConfig clientConfig, TlsConfig serverConfig) {
        Pair p = connect(clientConfig, serverConfig);
        assertThat(p.server().resumed()).isFalse();
        Ticket session = p.session();
        assertThat(session).isNotNull();
        switch (mode) {
            case TLS13_TICKET -> assertThat(session.suite().tls13()).isTrue();
            case TLS12_TICKET -> assertThat(session.ticket()).isNotEmpty();
            case TLS12_SESSION_ID -> assertThat(session.ticket()).isEmpty();
        }
        return p;
    }

    static String jdkSpkiSha256(X509Certificate c) throws Exception {
        // independent of PeerIdentity (which reads the certificate's DER with Bouncy Castle): the JDK's encoding of the key
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(c.getPublicKey().getEncoded()));
    }

    static void assertSameChain(List<X509Certificate> actual, List<X509Certificate> expected) throws Exception {
        assertThat(actual).hasSameSizeAs(expected).containsExactlyElementsOf(expected);
        for (int i = 0; i < expected.size(); i++) {
            assertThat(actual.get(i).getEncoded()).as("certificate %d byte for byte", i).isEqualTo(expected.get(i).getEncoded());
        }
    }

    // ---------------------------------------------------------------- 1 and 2: a resumed connection names its client

    @ParameterizedTest
    @EnumSource(Mode.class)
    void aResumedConnectionNamesItsClient(Mode mode) throws Exception {
        Shared shared = Shared.fresh();
        TlsConfig serverConfig = requiring(mode, shared, caA);
        Pair full = first(mode, client(mode, carolChain, carolKeys).build(), serverConfig);
        assertSameChain(full.server().peerCertificates(), carolChain);
        String expected = "client CN=carol, client-spki=" + jdkSpkiSha256(carolChain.get(0));
        assertThat(full.server().peerSummary()).isEqualTo(expected);

        Pair resumed = connect(client(mode, carolChain, carolKeys).resumeWith(full.session()).build(), serverConfig);
        assertThat(resumed.server().resumed()).isTrue();
        assertSameChain(resumed.server().peerCertificates(), carolChain);
        assertThat(resumed.server().peerSummary()).isEqualTo(expected);
        PeerIdentity id = resumed.server().peerIdentity().orElseThrow();
        assertThat(id.commonName()).isEqualTo("carol");
        assertThat(id.spkiSha256()).isEqualTo(jdkSpkiSha256(carolChain.get(0))).hasSize(64);
        // the client side names the server as before: a resumption carries no server certificate
        assertThat(resumed.client().peerCertificates()).isEmpty();
        assertThat(resumed.client().peerSummary()).isEqualTo("no server certificate");

        // the session a resumed connection hands on (TLS 1.3: a new ticket; TLS 1.2: a new ticket or the same ID) names carol too
        Pair again = connect(client(mode, carolChain, carolKeys).resumeWith(resumed.session()).build(), serverConfig);
        assertThat(again.server().resumed()).isTrue();
        assertSameChain(again.server().peerCertificates(), carolChain);
    }

    @Test
    void peerIdentityIsTheLeafsCommonNameAndSpkiHash() throws Exception {
        PeerIdentity a = PeerIdentity.of(alice);
        assertThat(a.commonName()).isEqualTo("alice");
        assertThat(a.spkiSha256()).isEqualTo(jdkSpkiSha256(alice)).isNotEqualTo(PeerIdentity.of(bob).spkiSha256());
        assertThat(a.summary("client")).isEqualTo("client CN=alice, client-spki=" + jdkSpkiSha256(alice));

        // an RSA key: its SubjectPublicKeyInfo has NULL parameters, which the hash must include as in the certificate
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048);
        KeyPair rsa = g.generateKeyPair();
        X509Certificate rsaLeaf = certificate("CN=rsa client", rsa.getPublic(), "CN=Identity Test CA A", caAKeys.getPrivate(),
                Instant.now().plus(Duration.ofDays(1)), false, null);
        assertThat(PeerIdentity.of(rsaLeaf).spkiSha256()).isEqualTo(jdkSpkiSha256(rsaLeaf));

        // the same key in a renewed certificate keeps its hash; no CN: the subject stands in
        X509Certificate renewed = certificate("O=Example", aliceKeys.getPublic(), "CN=Identity Test CA A", caAKeys.getPrivate(),
                Instant.now().plus(Duration.ofDays(2)), false, null);
        PeerIdentity r = PeerIdentity.of(renewed);
        assertThat(r.spkiSha256()).isEqualTo(a.spkiSha256());
        assertThat(r.commonName()).isNull();
        assertThat(r.summary("client")).isEqualTo("client subject=O=Example, client-spki=" + a.spkiSha256());
    }

    /** The hash is the one OpenSSL computes for a public-key pin: SHA-256 over the DER SubjectPublicKeyInfo. */
    @Test
    @Tag("interop")
    void spkiHashMatchesOpenssl(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(onPath("openssl"), "openssl is not installed: no independent SPKI hash to compare with");
        Path pem = dir.resolve("alice.pem");
        Files.writeString(pem, "-----BEGIN CERTIFICATE-----\n" + Base64.getMimeEncoder().encodeToString(alice.getEncoded())
                + "\n-----END CERTIFICATE-----\n");
        Path pub = dir.resolve("alice.pub.der");
        run(dir, "openssl", "x509", "-in", pem.toString(), "-noout", "-pubkey", "-out", dir.resolve("alice.pub.pem").toString());
        run(dir, "openssl", "pkey", "-pubin", "-in", dir.resolve("alice.pub.pem").toString(), "-outform", "DER", "-out", pub.toString());
        String digest = run(dir, "openssl", "dgst", "-sha256", "-r", pub.toString());
        assertThat(PeerIdentity.of(alice).spkiSha256()).isEqualTo(digest.split(" ")[0].strip());
    }

    static boolean onPath(String tool) {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(d, tool))) {
                return true;
            }
        }
        return false;
    }

    static String run(Path dir, String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", cmd) + " did not finish");
        }
        assertThat(p.exitValue()).as(String.join(" ", cmd) + ": " + out).isZero();
        return out;
    }

    // ---------------------------------------------------------------- 3: the re-check on resumption

    /** A server restarted with another CA (same ticket keys and store) does not resume a session of the old CA's client. */
    @ParameterizedTest
    @EnumSource(Mode.class)
    void anotherTrustAnchorRefusesResumption(Mode mode) throws Exception {
        Shared shared = Shared.fresh();
        Ticket session = first(mode, client(mode, List.of(alice), aliceKeys).build(), requiring(mode, shared, caA)).session();

        // control: a restart with the same CA resumes, so the refusals below are the CA's doing
        Pair same = connect(client(mode, List.of(alice), aliceKeys).resumeWith(session).build(), requiring(mode, shared, caA));
        assertThat(same.server().resumed()).isTrue();
        assertSameChain(same.server().peerCertificates(), List.of(alice));

        // CA B only: the session is declined; the full handshake asks for alice's certificate, which B does not trust
        TlsConfig onlyB = requiring(mode, shared, caB);
        assertThatThrownBy(() -> connect(client(mode, List.of(alice), aliceKeys).resumeWith(session).build(), onlyB))
                .isInstanceOfSatisfying(TlsException.class, e -> assertThat(e.alert()).isEqualTo(Alert.UNKNOWN_CA));
        // a client that now has a certificate of CA B, offering alice's session: a full handshake, and it is bob
        Pair asBob = connect(client(mode, List.of(bob), bobKeys).resumeWith(session).build(), onlyB);
        assertThat(asBob.server().resumed()).isFalse();
        assertSameChain(asBob.server().peerCertificates(), List.of(bob));
        assertThat(asBob.server().peerSummary()).startsWith("client CN=bob, ");
    }

    /** A certificate that expired since the session began, by the server config's clock: no resumption. */
    @ParameterizedTest
    @EnumSource(Mode.class)
    void aCertificateExpiredSinceIsNotResumed(Mode mode) throws Exception {
        Shared shared = Shared.fresh();
        Ticket session = first(mode, client(mode, List.of(shortLived), shortKeys).build(), requiring(mode, shared, caA)).session();
        Instant notAfter = shortLived.getNotAfter().toInstant();

        Function<Instant, TlsConfig> serverAt = t -> server(mode, shared).trustAnchors(List.of(caA)).requireClientCertificate(true)
                .clock(Clock.fixed(t, ZoneOffset.UTC)).build();
        Pair before = connect(client(mode, List.of(shortLived), shortKeys).resumeWith(session).build(), serverAt.apply(notAfter.minusSeconds(60)));
        assertThat(before.server().resumed()).as("a minute before it expires").isTrue();

        // a minute after: declined; the full handshake then meets the same expired certificate
        assertThatThrownBy(() -> connect(client(mode, List.of(shortLived), shortKeys).resumeWith(session).build(),
                serverAt.apply(notAfter.plusSeconds(60))))
                .isInstanceOfSatisfying(TlsException.class, e -> assertThat(e.alert()).isEqualTo(Alert.CERTIFICATE_EXPIRED));
        // with a fresh certificate the client gets a full handshake, not the old session
        Pair renewed = connect(client(mode, List.of(alice), aliceKeys).resumeWith(session).build(), serverAt.apply(notAfter.plusSeconds(60)));
        assertThat(renewed.server().resumed()).isFalse();
        assertSameChain(renewed.server().peerCertificates(), List.of(alice));
    }

    /** A session without client authentication does not resume where it is now required; the other way, it resumes anonymous. */
    @ParameterizedTest
    @EnumSource(Mode.class)
    void aSessionWithoutClientAuthenticationDoesNotResumeWhereItIsRequired(Mode mode) throws Exception {
        Shared shared = Shared.fresh();
        TlsConfig open = server(mode, shared).build();
        TlsConfig strict = requiring(mode, shared, caA);
        Ticket anonymous = first(mode, client(mode, List.of(alice), aliceKeys).build(), open).session();
        // control: the open server itself resumes it
        assertThat(connect(client(mode, List.of(alice), aliceKeys).resumeWith(anonymous).build(), open).server().resumed()).isTrue();

        Pair p = connect(client(mode, List.of(alice), aliceKeys).resumeWith(anonymous).build(), strict);
        assertThat(p.server().resumed()).as("a full handshake, with a CertificateRequest").isFalse();
        assertSameChain(p.server().peerCertificates(), List.of(alice));

        // A session with a client chain, on a server that no longer asks for certificates: resumed, and like that
        // server's full handshakes it names no client.
        Ticket authenticated = p.session();
        Pair relaxed = connect(client(mode, List.of(alice), aliceKeys).resumeWith(authenticated).build(), open);
        assertThat(relaxed.server().resumed()).isTrue();
        assertThat(relaxed.server().peerCertificates()).isEmpty();
        assertThat(relaxed.server().peerIdentity()).isEmpty();
        assertThat(relaxed.server().peerSummary()).isEqualTo("no client certificate");
    }

    /** Tickets and session IDs are bearer secrets: whoever presents one (with its PSK) is its client. */
    @ParameterizedTest
    @EnumSource(Mode.class)
    void aSessionIsABearerSecretAndNamesItsOriginalClient(Mode mode) throws Exception {
        Shared shared = Shared.fresh();
        TlsConfig serverConfig = server(mode, shared).trustAnchors(List.of(caA, caB)).requireClientCertificate(true).build();
        Ticket alices = first(mode, client(mode, List.of(alice), aliceKeys).build(), serverConfig).session();
        Pair p = connect(client(mode, List.of(bob), bobKeys).resumeWith(alices).build(), serverConfig);
        assertThat(p.server().resumed()).isTrue();
        assertThat(p.server().peerIdentity().orElseThrow().commonName()).isEqualTo("alice");
    }

    // ---------------------------------------------------------------- 4: bounds, crafted and old states

    /** A client chain over the bound is not sealed: that client always gets full handshakes, and nothing breaks. */
    @ParameterizedTest
    @EnumSource(Mode.class)
    void aChainOverTheBoundIsNotMadeResumable(Mode mode) throws Exception {
        assertThat(huge.getEncoded().length).isGreaterThan(ResumptionState.MAX_CHAIN_BYTES);
        Shared shared = Shared.fresh();
        TlsConfig serverConfig = requiring(mode, shared, caA);
        Pair full = connect(client(mode, List.of(huge), hugeKeys).build(), serverConfig);
        assertSameChain(full.server().peerCertificates(), List.of(huge));
        if (mode == Mode.TLS13_TICKET) {
            assertThat(full.client().tickets()).as("no NewSessionTicket").isEmpty();
            return;
        }
        Ticket session = full.session();
        assertThat(session.ticket()).as("TLS 1.2: an empty NewSessionTicket (RFC 5077 section 3.3), or none asked").isEmpty();
        assertThat(shared.store().get(session.sessionId())).as("nothing in the store").isNull();
        Pair again = connect(client(mode, List.of(huge), hugeKeys).resumeWith(session).build(), serverConfig);
        assertThat(again.server().resumed()).isFalse();
        assertSameChain(again.server().peerCertificates(), List.of(huge));
    }

    /** Version 3's layout, written here independently of ResumptionState.encode: the chain is opaque DER entries. */
    static byte[] state(int version, CipherSuite suite, byte[] psk, byte[] tail) {
        long now = Instant.now().getEpochSecond();
        return new Wire.Writer().u8(version).u16(suite.code()).u32(now >>> 32).u32(now).u32(7200).u32(0).vec8(psk).vec8(new byte[0])
                .vec8("localhost".getBytes(StandardCharsets.US_ASCII)).bytes(tail).toByteArray();
    }

    static byte[] chainBlob(byte[]... ders) {
        Wire.Writer w = new Wire.Writer();
        for (byte[] d : ders) {
            w.vec16(d);
        }
        return new Wire.Writer().vec16(w.toByteArray()).toByteArray();
    }

    /** States sealed with the server's own ticket keys, each with a PSK the client knows: only the identity part decides. */
    static Map<String, byte[]> craftedTails() throws Exception {
        byte[] a = alice.getEncoded();
        Map<String, byte[]> tails = new LinkedHashMap<>();
        tails.put("a DER cut in half", chainBlob(Arrays.copyOf(a, a.length / 2)));
        byte[] flipped = a.clone();
        flipped[flipped.length - 10] ^= 1;
        tails.put("a signature bit flipped", chainBlob(flipped));
        byte[] garbage = new byte[300];
        RANDOM.nextBytes(garbage);
        tails.put("random bytes as DER", chainBlob(garbage));
        tails.put("an empty certificate entry", chainBlob(new byte[0]));
        tails.put("an entry longer than the blob", new Wire.Writer().vec16(new Wire.Writer().u16(a.length + 50).bytes(a).toByteArray())
                .toByteArray());
        tails.put("a blob longer than the state", new Wire.Writer().u16(a.length + 300).u16(a.length).bytes(a).toByteArray());
        byte[][] eleven = new byte[11][];
        Arrays.fill(eleven, a);
        tails.put("eleven certificates", chainBlob(eleven));
        tails.put("over 8 KiB (a valid 9 KiB certificate)", chainBlob(huge.getEncoded()));
        tails.put("trailing bytes after the chain", new Wire.Writer().bytes(chainBlob(a)).u8(0).toByteArray());
        tails.put("no chain (v3 without client)", chainBlob());
        return tails;
    }

    /** The session a client would keep for {@code sealed}, and where the server finds it. */
    static Ticket crafted(Mode mode, Shared shared, byte[] stateBytes, byte[] psk) {
        byte[] sealed = shared.keys().seal(stateBytes);
        Instant now = Instant.now();
        byte[] id = new byte[32];
        RANDOM.nextBytes(id);
        return switch (mode) {
            case TLS13_TICKET -> new Ticket(sealed, psk, 7200, 0, now, TLS13_SUITE, "localhost");
            case TLS12_TICKET -> new Ticket(sealed, psk, 7200, 0, now, TLS12_SUITE, "localhost", id);
            case TLS12_SESSION_ID -> {
                shared.store().put(id, sealed, Duration.ofHours(1));
                yield new Ticket(new byte[0], psk, 7200, 0, now, TLS12_SUITE, "localhost", id);
            }
        };
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void malformedOversizedAndOldIdentitiesEndInAFullHandshake(Mode mode) throws Exception {
        Shared shared = Shared.fresh();
        TlsConfig serverConfig = server(mode, shared).trustAnchors(List.of(caA)).requireClientCertificate(true)
                .suites(List.of(TLS13_SUITE, TLS12_SUITE)).build();
        CipherSuite suite = mode == Mode.TLS13_TICKET ? TLS13_SUITE : TLS12_SUITE;
        byte[] psk = new byte[mode == Mode.TLS13_TICKET ? 32 : 48];
        RANDOM.nextBytes(psk);

        // control: the same crafting with alice's chain resumes and names alice, so every refusal below is the identity's
        Pair good = connect(client(mode, List.of(alice), aliceKeys).resumeWith(crafted(mode, shared, state(3, suite, psk,
                chainBlob(alice.getEncoded())), psk)).build(), serverConfig);
        assertThat(good.server().resumed()).isTrue();
        assertSameChain(good.server().peerCertificates(), List.of(alice));

        Map<String, byte[]> states = new LinkedHashMap<>();
        for (var e : craftedTails().entrySet()) {
            states.put(e.getKey(), state(3, suite, psk, e.getValue()));
        }
        // the format before this one: a flag for "the client was authenticated", no chain
        states.put("version 2 (flag, no chain)", state(2, suite, psk, new byte[] {1}));
        byte[] whole = state(3, suite, psk, chainBlob(alice.getEncoded()));
        states.put("a state cut short", Arrays.copyOf(whole, whole.length - 40));

        for (var e : states.entrySet()) {
            Pair p = connect(client(mode, List.of(alice), aliceKeys).resumeWith(crafted(mode, shared, e.getValue(), psk)).build(), serverConfig);
            assertThat(p.server().resumed()).as(e.getKey()).isFalse();
            assertSameChain(p.server().peerCertificates(), List.of(alice));
        }
    }

    // ---------------------------------------------------------------- sizes, and Redis

    /** Prints what a sealed session weighs (measured, not asserted beyond the bound): see docs/TLS.md. */
    @Test
    void sealedSessionSizes() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048);
        KeyPair rsa = g.generateKeyPair();
        X509Certificate rsaLeaf = certificate("CN=rsa client", rsa.getPublic(), "CN=Identity Test CA A", caAKeys.getPrivate(),
                Instant.now().plus(Duration.ofDays(1)), false, null);
        Map<String, Integer> sizes = new LinkedHashMap<>();
        Shared shared = Shared.fresh();
        sizes.put("no client certificate", first(Mode.TLS13_TICKET, client(Mode.TLS13_TICKET).build(),
                server(Mode.TLS13_TICKET, shared).build()).session().ticket().length);
        sizes.put("EC P-256 leaf (" + alice.getEncoded().length + " B)", first(Mode.TLS13_TICKET,
                client(Mode.TLS13_TICKET, List.of(alice), aliceKeys).build(), requiring(Mode.TLS13_TICKET, shared, caA)).session().ticket().length);
        sizes.put("RSA-2048 leaf (" + rsaLeaf.getEncoded().length + " B)", first(Mode.TLS13_TICKET,
                client(Mode.TLS13_TICKET).certificate(List.of(rsaLeaf), rsa.getPrivate()).build(), requiring(Mode.TLS13_TICKET, shared, caA))
                .session().ticket().length);
        sizes.put("EC leaf + intermediate", first(Mode.TLS13_TICKET, client(Mode.TLS13_TICKET, carolChain, carolKeys).build(),
                requiring(Mode.TLS13_TICKET, shared, caA)).session().ticket().length);
        Ticket t12 = first(Mode.TLS12_TICKET, client(Mode.TLS12_TICKET, List.of(alice), aliceKeys).build(),
                requiring(Mode.TLS12_TICKET, shared, caA)).session();
        sizes.put("TLS 1.2 ticket, EC leaf", t12.ticket().length);
        sizes.put("TLS 1.2 store entry, EC leaf", shared.store().get(t12.sessionId()).length);
        System.out.println("sealed session sizes (bytes): " + sizes);
        assertThat(sizes.values()).allMatch(n -> n <= ResumptionState.MAX_CHAIN_BYTES + 512);
        assertThat(sizes.get("EC P-256 leaf (" + alice.getEncoded().length + " B)")).as("the chain is in the ticket")
                .isGreaterThan(sizes.get("no client certificate") + alice.getEncoded().length);
    }

    /**
     * Two servers sharing a Redis session cache and a ticket-key secret (or one restarted): the one that trusts the
     * session's CA resumes it and names the client; the one that trusts another CA does a full handshake.
     */
    @Test
    @Tag("redis")
    void redisSharedCacheRechecksTheClientOnEachServer() throws Exception {
        URI uri = URI.create(System.getenv().getOrDefault("KEYWAY_TEST_REDIS", "redis://127.0.0.1:6379"));
        byte[] r = new byte[6];
        RANDOM.nextBytes(r);
        String prefix = "keyway:test:identity:" + HexFormat.of().formatHex(r) + ":";
        byte[] secret = new byte[32];
        RANDOM.nextBytes(secret);
        Mode mode = Mode.TLS12_SESSION_ID;
        try (RedisSessionStore a = new RedisSessionStore(uri, prefix); RedisSessionStore b = new RedisSessionStore(uri, prefix)) {
            try {
                a.get(new byte[] {1});
            } catch (RuntimeException e) {
                Assumptions.abort("Redis not reachable at " + uri + ": " + e.getMessage());
            }
            byte[] probe = new byte[32];
            RANDOM.nextBytes(probe);
            try {
                a.put(probe, new byte[] {1}, Duration.ofSeconds(5));
                a.remove(probe);
            } catch (RuntimeException e) {
                Assumptions.abort("Redis not usable at " + uri + ": " + e.getMessage());
            }
            Shared first = new Shared(TicketKeys.fromSecret(secret, Duration.ofHours(1)), a);
            Shared second = new Shared(TicketKeys.fromSecret(secret, Duration.ofHours(1)), b);
            Ticket session = first(mode, client(mode, List.of(alice), aliceKeys).build(), requiring(mode, first, caA)).session();
            byte[] entry = b.get(session.sessionId());
            assertThat(entry).as("the sealed entry is in Redis").isNotNull();
            assertThat(entry.length).isGreaterThan(alice.getEncoded().length);

            Pair resumed = connect(client(mode, List.of(alice), aliceKeys).resumeWith(session).build(), requiring(mode, second, caA));
            assertThat(resumed.server().resumed()).isTrue();
            assertSameChain(resumed.server().peerCertificates(), List.of(alice));
            assertThat(resumed.server().peerSummary()).isEqualTo("client CN=alice, client-spki=" + jdkSpkiSha256(alice));

            Pair other = connect(client(mode, List.of(bob), bobKeys).resumeWith(session).build(), requiring(mode, second, caB));
            assertThat(other.server().resumed()).isFalse();
            assertSameChain(other.server().peerCertificates(), List.of(bob));
            a.remove(session.sessionId());
            a.remove(other.session().sessionId());
        }
    }
}
