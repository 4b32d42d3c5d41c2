package dev.keyway.tls.handshake;

import dev.keyway.core.encoding.Hex;
import dev.keyway.core.kdf.CipherSuites;
import dev.keyway.tls.config.TlsConfig;
import dev.keyway.tls.params.NamedGroup;
import dev.keyway.tls.params.TlsException;
import dev.keyway.tls.record.RecordLayer;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * The handshake parsers on their own, at high volume: real ClientHello, ServerHello (and HelloRetryRequest),
 * Certificate (with the DER inside) and CertificateVerify messages, mutated and parsed; the only failure allowed
 * is a TlsException (with its alert). Seeded like TlsFuzzTest (-Dkeyway.fuzz.seed, -Dkeyway.fuzz.scale).
 */
class HandshakeParsersFuzzTest {
    static final long SEED = Long.getLong("keyway.fuzz.seed", 0x6b657977L);
    static final int SCALE = Integer.getInteger("keyway.fuzz.scale", 1);

    static X509Certificate caCert;
    static X509Certificate leafCert;
    static final Map<String, KeyPair> KEYS = new LinkedHashMap<>();
    static final Map<String, X509Certificate> LEAVES = new LinkedHashMap<>();
    static final Map<String, byte[]> CLIENT_HELLOS = new LinkedHashMap<>();
    static final Map<String, byte[]> SERVER_HELLOS = new LinkedHashMap<>();

    static KeyPair keyPair(String type) throws Exception {
        return switch (type) {
            case "ec" -> {
                KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
                g.initialize(new ECGenParameterSpec("secp256r1"));
                yield g.generateKeyPair();
            }
            case "ed25519" -> KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
            default -> {
                KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
                g.initialize(2048);
                yield g.generateKeyPair();
            }
        };
    }

    static X509Certificate certificate(String subject, KeyPair subjectKeys, String issuer, PrivateKey issuerKey, String signatureAlgorithm,
                                       boolean ca) throws Exception {
        Instant now = Instant.now();
        JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(new X500Name(issuer), BigInteger.valueOf(now.toEpochMilli()),
                Date.from(now.minus(1, ChronoUnit.DAYS)), Date.from(now.plus(5, ChronoUnit.DAYS)), new X500Name(subject), subjectKeys.getPublic());
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
        if (!ca) {
            b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                    new GeneralName(GeneralName.dNSName, "localhost"), new GeneralName(GeneralName.iPAddress, "127.0.0.1")}));
        }
        return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder(signatureAlgorithm).build(issuerKey)));
    }

    /** The bytes an engine queues for the network after taking {@code input}. */
    static byte[] written(dev.keyway.tls.TlsEngine engine, byte[] input) {
        try {
            engine.receive(input, 0, input.length);
        } catch (RuntimeException e) {
            // a malformed input: what was queued before it still counts
        }
        byte[] out = new byte[engine.outputLength()];
        engine.takeOutput(out, 0, out.length);
        return out;
    }

    /** The body of the first handshake message in the first record of {@code wire}. */
    static byte[] firstBody(byte[] wire) {
        int len = ((wire[6] & 0xff) << 16) | ((wire[7] & 0xff) << 8) | (wire[8] & 0xff);
        return Arrays.copyOfRange(wire, 9, 9 + len);
    }

    @BeforeAll
    static void material() throws Exception {
        KeyPair ca = keyPair("ec");
        caCert = certificate("CN=Parser Test CA", ca, "CN=Parser Test CA", ca.getPrivate(), "SHA256withECDSA", true);
        for (String type : List.of("ec", "ed25519", "rsa")) {
            KeyPair k = keyPair(type);
            KEYS.put(type, k);
            LEAVES.put(type, certificate("CN=localhost", k, "CN=Parser Test CA", ca.getPrivate(), "SHA256withECDSA", false));
        }
        leafCert = LEAVES.get("ec");

        Map<String, TlsConfig> clients = new LinkedHashMap<>();
        clients.put("default", TlsConfig.builder().serverName("localhost").build());
        clients.put("alpn+p256", TlsConfig.builder().serverName("example.com").alpn(List.of("h2", "http/1.1"))
                .groups(List.of(NamedGroup.SECP256R1, NamedGroup.X25519)).middleboxCompatibility(false).build());
        clients.put("mlkem", TlsConfig.builder().groups(List.of(NamedGroup.X25519MLKEM768)).build());
        for (var e : clients.entrySet()) {
            byte[] wire = written(dev.keyway.tls.TlsEngine.client(e.getValue()), new byte[0]);
            CLIENT_HELLOS.put(e.getKey(), firstBody(wire));
        }
        // A ServerHello for each ClientHello the server can answer, and a HelloRetryRequest.
        for (var server : List.of(
                TlsConfig.builder().certificate(List.of(leafCert), KEYS.get("ec").getPrivate()).build(),
                TlsConfig.builder().certificate(List.of(leafCert), KEYS.get("ec").getPrivate()).groups(List.of(NamedGroup.SECP256R1)).build(),
                TlsConfig.builder().certificate(List.of(leafCert), KEYS.get("ec").getPrivate())
                        .groups(List.of(NamedGroup.X25519MLKEM768, NamedGroup.X25519)).build())) {
            for (var ch : CLIENT_HELLOS.keySet()) {
                byte[] hello = CLIENT_HELLOS.get(ch);
                byte[] record = new Wire.Writer().u8(22).u16(0x0301).u16(4 + hello.length).u8(1).u24(hello.length).bytes(hello).toByteArray();
                byte[] wire = written(dev.keyway.tls.TlsEngine.server(server), record);
                if (wire.length > 9 && wire[5] == 2) {
                    SERVER_HELLOS.put(ch + "/" + server.groups().get(0).label(), firstBody(wire));
                }
            }
        }
    }

    // ---------------------------------------------------------------- mutation and findings

    static byte[] mutate(byte[] in, Random r) {
        byte[] b = in.clone();
        int n = 1 + r.nextInt(3);
        for (int k = 0; k < n; k++) {
            if (b.length == 0) {
                return new byte[] {(byte) r.nextInt(256)};
            }
            int at = r.nextInt(b.length);
            switch (r.nextInt(9)) {
                case 0, 1 -> b[at] ^= (byte) (1 << r.nextInt(8));
                case 2 -> b[at] = (byte) r.nextInt(256);
                case 3 -> b[at] = (byte) new int[] {0, 1, 0x7f, 0x80, 0x81, 0x82, 0x83, 0x84, 0xff}[r.nextInt(9)];
                case 4 -> b = Arrays.copyOf(b, r.nextInt(b.length));
                case 5 -> {
                    int len = Math.min(b.length - at, 1 + r.nextInt(8));
                    byte[] out = new byte[b.length - len];
                    System.arraycopy(b, 0, out, 0, at);
                    System.arraycopy(b, at + len, out, at, b.length - at - len);
                    b = out;
                }
                case 6 -> {
                    byte[] ins = new byte[1 + r.nextInt(8)];
                    r.nextBytes(ins);
                    byte[] out = new byte[b.length + ins.length];
                    System.arraycopy(b, 0, out, 0, at);
                    System.arraycopy(ins, 0, out, at, ins.length);
                    System.arraycopy(b, at, out, at + ins.length, b.length - at);
                    b = out;
                }
                default -> {
                    if (at + 1 < b.length) {
                        int[] d = {-1, 1, -2, 2, 0x100, -0x100, 0x7f, 0x80};
                        int v = ((((b[at] & 0xff) << 8) | (b[at + 1] & 0xff)) + d[r.nextInt(d.length)]) & 0xffff;
                        b[at] = (byte) (v >> 8);
                        b[at + 1] = (byte) v;
                    }
                }
            }
        }
        return b;
    }

    static final class Findings {
        final String target;
        final Map<String, String> byKind = new LinkedHashMap<>();
        final Map<String, Integer> outcomes = new LinkedHashMap<>();

        Findings(String target) {
            this.target = target;
        }

        void run(long seed, int iteration, byte[] input, Runnable parse) {
            try {
                parse.run();
                outcomes.merge("parsed", 1, Integer::sum);
            } catch (TlsException e) {
                outcomes.merge(String.valueOf(e.alert()), 1, Integer::sum);
            } catch (Throwable t) {
                outcomes.merge(t.getClass().getSimpleName(), 1, Integer::sum);
                String where = "?";
                for (StackTraceElement e : t.getStackTrace()) {
                    if (e.getClassName().startsWith("dev.keyway")) {
                        where = e.toString();
                        break;
                    }
                }
                String kind = t.getClass().getName() + " at " + where;
                if (!byKind.containsKey(kind)) {
                    StringWriter w = new StringWriter();
                    t.printStackTrace(new PrintWriter(w));
                    byKind.put(kind, target + ": " + kind + "\n  seed " + seed + ", iteration " + iteration + "\n  input: " + Hex.encode(input)
                            + "\n" + w);
                }
            }
        }

        void assertNone() {
            System.out.println(target + ": " + outcomes);
            if (!byKind.isEmpty()) {
                String all = String.join("\n\n", byKind.values());
                System.out.println(all);
                fail(byKind.size() + " kind(s) of unexpected exception in " + target + " (seed " + SEED + "):\n\n" + all);
            }
        }
    }

    // ---------------------------------------------------------------- the parsers

    @Test
    void clientHellos() {
        Findings f = new Findings("ClientHello.parse");
        List<byte[]> corpus = new ArrayList<>(CLIENT_HELLOS.values());
        for (int i = 0; i < 30_000 * SCALE; i++) {
            Random r = new Random(SEED ^ (0xc4L << 40) ^ i);
            byte[] input = mutate(corpus.get(r.nextInt(corpus.size())), r);
            f.run(SEED, i, input, () -> ClientHello.parse(input));
        }
        f.assertNone();
    }

    @Test
    void serverHellos() {
        Findings f = new Findings("ServerHello.parse");
        List<byte[]> corpus = new ArrayList<>(SERVER_HELLOS.values());
        org.assertj.core.api.Assertions.assertThat(corpus).hasSizeGreaterThanOrEqualTo(3);
        for (int i = 0; i < 30_000 * SCALE; i++) {
            Random r = new Random(SEED ^ (0x54L << 40) ^ i);
            byte[] input = mutate(corpus.get(r.nextInt(corpus.size())), r);
            f.run(SEED, i, input, () -> ServerHello.parse(input));
        }
        f.assertNone();
    }

    @Test
    void certificateMessagesAndTheirDer() throws Exception {
        Findings f = new Findings("CertificateMessage.parse + PeerCertificates.parse/validate");
        List<X509Certificate> anchors = List.of(caCert);
        List<byte[]> corpus = new ArrayList<>();
        for (X509Certificate leaf : LEAVES.values()) {
            corpus.add(CertificateMessage.of13(new byte[0], List.of(leaf)).body());
            corpus.add(CertificateMessage.of13(new byte[0], List.of(leaf, caCert)).body());
        }
        Instant now = Instant.now();
        for (int i = 0; i < 6_000 * SCALE; i++) {
            Random r = new Random(SEED ^ (0xce7L << 40) ^ i);
            byte[] input;
            if (r.nextBoolean()) {
                input = mutate(corpus.get(r.nextInt(corpus.size())), r);
            } else {
                // inside the DER, the message around it intact
                X509Certificate leaf = new ArrayList<>(LEAVES.values()).get(r.nextInt(LEAVES.size()));
                byte[] der = mutate(leaf.getEncoded(), r);
                input = new Wire.Writer().vec8(new byte[0]).vec24(new Wire.Writer().vec24(der).vec16(new byte[0]).toByteArray()).toByteArray();
            }
            boolean emptyAllowed = r.nextBoolean();
            String host = r.nextBoolean() ? "localhost" : r.nextBoolean() ? "127.0.0.1" : null;
            f.run(SEED, i, input, () -> {
                List<X509Certificate> chain = PeerCertificates.parse(CertificateMessage.parse13(input, emptyAllowed, null).certificates());
                PeerCertificates.validate(chain, anchors, now, host, true);
                chain.get(0).getPublicKey();
            });
        }
        f.assertNone();
    }

    @Test
    void certificateVerifyMessages() {
        Findings f = new Findings("CertificateVerifyMessage.verify");
        byte[] hash = new byte[32];
        new Random(SEED).nextBytes(hash);
        for (int i = 0; i < 3_000 * SCALE; i++) {
            Random r = new Random(SEED ^ (0xcfL << 40) ^ i);
            String type = new ArrayList<>(KEYS.keySet()).get(r.nextInt(KEYS.size()));
            KeyPair k = KEYS.get(type);
            byte[] good = CertificateVerifyMessage.sign13(k.getPrivate(), true, hash).body();
            byte[] input = mutate(good, r);
            // now and then the right signature under another scheme code
            if (r.nextInt(6) == 0 && input.length >= 2) {
                int[] codes = {0x0403, 0x0807, 0x0804, 0x0401, 0x0805, 0x0503, 0x0808, 0};
                int c = codes[r.nextInt(codes.length)];
                input[0] = (byte) (c >> 8);
                input[1] = (byte) c;
            }
            java.security.PublicKey key = r.nextInt(5) == 0 ? KEYS.get(type.equals("rsa") ? "ec" : "rsa").getPublic() : k.getPublic();
            byte[] in = input;
            f.run(SEED, i, input, () -> CertificateVerifyMessage.parse(in).verify13(key, true, hash));
        }
        f.assertNone();
    }

    /**
     * Sealed states with a client chain (leaf and CA), mutated: decoding, and for every fifth that still decodes the
     * re-check a resumption runs (parse and validate the chain), never throw; the outcome is a state or null (a full handshake).
     */
    @Test
    void extensionBlocksAndTicketStates() throws Exception {
        Findings ext = new Findings("Extensions.parse");
        Findings state = new Findings("ResumptionState.decode and clientChainAuthorizedBy");
        byte[] goodState = ResumptionState.of(CipherSuites.byCode(0x1301), new byte[32], Instant.now(), 7200, 12345, "h2", "localhost",
                List.of(leafCert, caCert)).encode();
        TlsConfig requiring = TlsConfig.builder().certificate(List.of(leafCert), KEYS.get("ec").getPrivate()).trustAnchors(List.of(caCert))
                .requireClientCertificate(true).build();
        assertThat(ResumptionState.decode(goodState).clientChainAuthorizedBy(requiring)).as("the unmutated state resumes")
                .containsExactly(leafCert, caCert);
        Map<String, Integer> rechecks = new java.util.TreeMap<>();
        for (int i = 0; i < 20_000 * SCALE; i++) {
            Random r = new Random(SEED ^ (0xe7L << 40) ^ i);
            byte[] block = new byte[r.nextInt(40)];
            r.nextBytes(block);
            ext.run(SEED, i, block, () -> Extensions.parse(block));
            byte[] s = mutate(goodState, r);
            boolean recheck = i % 5 == 0; // a path validation is costly: every fifth state goes that far
            state.run(SEED, i, s, () -> {
                ResumptionState decoded = ResumptionState.decode(s);
                String outcome = decoded == null ? "not decoded" : !recheck ? "decoded"
                        : decoded.clientChainAuthorizedBy(requiring) == null ? "declined" : "resumable";
                rechecks.merge(outcome, 1, Integer::sum);
            });
        }
        System.out.println("mutated ticket states: " + rechecks);
        ext.assertNone();
        state.assertNone();
        assertThat(rechecks).as("mutations reach the chain check and it declines them").containsKeys("not decoded", "declined");
    }
}
