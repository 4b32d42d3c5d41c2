package dev.keyway.tls;

import dev.keyway.core.kdf.CipherSuites;
import dev.keyway.tls.config.TicketKeys;
import dev.keyway.tls.config.TlsConfig;
import dev.keyway.tls.params.Alert;
import dev.keyway.tls.params.NamedGroup;
import dev.keyway.tls.params.TlsException;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Keyway's TLS 1.3 client against Keyway's server over 127.0.0.1. */
class LoopbackHandshakeTest {
    @TempDir
    static Path dir;

    @BeforeAll
    static void certificates() throws Exception {
        Assumptions.assumeTrue(TestCerts.hasOpenssl(), "openssl makes the test certificates");
        TestCerts.make(dir, "ec", "ec", 5);
        TestCerts.make(dir, "ed", "ed25519", 5);
        TestCerts.make(dir, "rsa", "rsa", 5);
    }

    static TlsConfig server(String name, String type, List<NamedGroup> groups) throws Exception {
        return TlsConfig.builder().certificate(TestCerts.certs(dir.resolve(name + ".pem")), TestCerts.key(dir.resolve(name + ".key"), type))
                .groups(groups).build();
    }

    static String roundTrip(TlsConfig serverConfig, TlsConfig clientConfig) throws Exception {
        try (ServerSocket ss = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<String> served = CompletableFuture.supplyAsync(() -> {
                try (Socket s = ss.accept(); TlsConnection c = TlsConnection.accept(s, serverConfig)) {
                    byte[] req = c.getInputStream().readNBytes(5);
                    c.getOutputStream().write(("echo:" + new String(req, StandardCharsets.US_ASCII)).getBytes(StandardCharsets.US_ASCII));
                    c.shutdownOutput();
                    c.getInputStream().readAllBytes();
                    return c.summary();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), ss.getLocalPort());
                 TlsConnection c = TlsConnection.connect(s, clientConfig)) {
                c.getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII));
                String answer = new String(c.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
                c.shutdownOutput();
                assertThat(answer).isEqualTo("echo:hello");
                String serverSummary = served.get(20, TimeUnit.SECONDS);
                assertThat(serverSummary).isEqualTo(c.summary());
                return c.summary();
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"ec, ec, 0x1301", "ed, ed25519, 0x1302", "rsa, rsa, 0x1303"})
    void fullHandshakeEachKeyTypeAndSuite(String name, String type, String suite) throws Exception {
        TlsConfig client = TlsConfig.builder().trustAnchors(TestCerts.certs(dir.resolve("ca.pem"))).serverName("localhost")
                .suites(List.of(CipherSuites.parse(suite))).build();
        String summary = roundTrip(server(name, type, List.of(NamedGroup.X25519)), client);
        assertThat(summary).contains(CipherSuites.parse(suite).name()).contains("x25519").contains("full handshake");
    }

    /** One connection: send "hello", read the echo; returns the client side's tickets and summary. */
    static TlsConnection exchange(TlsConfig serverConfig, TlsConfig clientConfig, java.util.List<String> serverSummary) throws Exception {
        try (ServerSocket ss = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<Void> served = CompletableFuture.runAsync(() -> {
                try (Socket s = ss.accept(); TlsConnection c = TlsConnection.accept(s, serverConfig)) {
                    byte[] req = c.getInputStream().readNBytes(5);
                    c.getOutputStream().write(req);
                    c.shutdownOutput();
                    c.getInputStream().readAllBytes();
                    serverSummary.add(c.summary());
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            Socket s = new Socket(InetAddress.getLoopbackAddress(), ss.getLocalPort());
            TlsConnection c = TlsConnection.connect(s, clientConfig);
            c.getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII));
            assertThat(c.getInputStream().readAllBytes()).isEqualTo("hello".getBytes(StandardCharsets.US_ASCII));
            c.close();
            served.get(20, TimeUnit.SECONDS);
            return c;
        }
    }

    @Test
    void ticketResumptionWithPskDhe() throws Exception {
        TlsConfig server = server("ec", "ec", List.of(NamedGroup.X25519));
        TlsConfig.Builder client = TlsConfig.builder().trustAnchors(TestCerts.certs(dir.resolve("ca.pem"))).serverName("localhost");
        java.util.List<String> summaries = new java.util.ArrayList<>();
        TlsConnection first = exchange(server, client.build(), summaries);
        assertThat(first.resumed()).isFalse();
        assertThat(first.tickets()).hasSize(1);
        TlsConnection second = exchange(server, client.resumeWith(first.tickets().get(0)).exposeTrafficSecrets(true).build(), summaries);
        assertThat(second.trafficSecrets().client()).hasSize(32).isNotEqualTo(second.trafficSecrets().server());
        org.assertj.core.api.Assertions.assertThatThrownBy(first::trafficSecrets).isInstanceOf(IllegalStateException.class);
        assertThat(second.resumed()).isTrue();
        assertThat(second.summary()).contains("resumed").contains("x25519");
        assertThat(summaries.get(1)).contains("resumed");

        // A server with other ticket keys declines the ticket: a full handshake follows.
        TlsConfig stranger = TlsConfig.builder().certificate(TestCerts.certs(dir.resolve("ec.pem")), TestCerts.key(dir.resolve("ec.key"), "ec"))
                .ticketKeys(TicketKeys.rotatingEvery(java.time.Duration.ofHours(1))).build();
        assertThat(exchange(stranger, client.build(), summaries).resumed()).isFalse();

        // A ticket whose PSK is wrong makes a binder that does not verify: decrypt_error, no fallback.
        dev.keyway.tls.params.Ticket t = first.tickets().get(0);
        byte[] badPsk = t.psk().clone();
        badPsk[0] ^= 1;
        dev.keyway.tls.params.Ticket forged = new dev.keyway.tls.params.Ticket(t.ticket(), badPsk, t.lifetimeSeconds(), t.ageAdd(),
                t.receivedAt(), t.suite(), t.serverName());
        try (ServerSocket ss = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<Throwable> served = CompletableFuture.supplyAsync(() -> {
                try (Socket s = ss.accept()) {
                    TlsConnection.accept(s, server);
                    return null;
                } catch (Throwable e) {
                    return e;
                }
            });
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), ss.getLocalPort())) {
                org.assertj.core.api.Assertions.assertThatThrownBy(() -> TlsConnection.connect(s, client.resumeWith(forged).build()))
                        .isInstanceOfSatisfying(TlsException.class, e -> {
                            assertThat(e.received()).isTrue();
                            assertThat(e.alert()).isEqualTo(Alert.DECRYPT_ERROR);
                        });
            }
            assertThat(served.get(20, TimeUnit.SECONDS)).isInstanceOfSatisfying(TlsException.class,
                    e -> assertThat(e.alert()).isEqualTo(Alert.DECRYPT_ERROR));
        }
    }

    @Test
    void helloRetryRequestAndHybridGroup() throws Exception {
        TlsConfig client = TlsConfig.builder().trustAnchors(TestCerts.certs(dir.resolve("ca.pem"))).serverName("localhost")
                .groups(List.of(NamedGroup.X25519, NamedGroup.SECP256R1, NamedGroup.X25519MLKEM768)).build();
        assertThat(roundTrip(server("ec", "ec", List.of(NamedGroup.SECP256R1)), client)).contains("secp256r1");
        assertThat(roundTrip(server("ec", "ec", List.of(NamedGroup.X25519MLKEM768, NamedGroup.X25519)), client)).contains("X25519MLKEM768");
    }
}
