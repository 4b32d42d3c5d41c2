package dev.keyway.bench;

import dev.keyway.bench.JsseLoad.CountingTrust;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.keyway.bench.JsseLoad.newContext;

/**
 * The hello probe of {@link JsseLoad}: one request through a recording TCP relay, and what the plaintext hellos say
 * (version, suite, the key shares offered, a HelloRetryRequest, the group chosen), which the JSSE API does not tell.
 */
final class HelloProbe {
    private HelloProbe() {
    }

    static final Map<Integer, String> GROUPS = Map.of(0x001d, "x25519", 0x0017, "secp256r1", 0x0018, "secp384r1", 0x0019, "secp521r1",
            0x001e, "x448", 0x11ec, "X25519MLKEM768", 0x0100, "ffdhe2048", 0x0101, "ffdhe3072", 0x11eb, "SecP256r1MLKEM768");

    static String group(int code) {
        return GROUPS.getOrDefault(code, String.format("0x%04x", code));
    }

    /**
     * One request with a fresh context of {@code provider} through a relay on 127.0.0.1 that records both directions;
     * the hellos are read from the recording.
     */
    static String probe(String provider, int port, X509Certificate trusted, String suite) throws Exception {
        SSLContext ctx = newContext(provider);
        ctx.init(null, new TrustManager[]{new CountingTrust(trusted)}, null);
        ByteArrayOutputStream up = new ByteArrayOutputStream();
        ByteArrayOutputStream down = new ByteArrayOutputStream();
        String tls;
        try (ServerSocket relay = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread acceptor = new Thread(() -> {
                try (Socket a = relay.accept(); Socket b = new Socket("127.0.0.1", port)) {
                    Thread t1 = pump(a.getInputStream(), b.getOutputStream(), up);
                    Thread t2 = pump(b.getInputStream(), a.getOutputStream(), down);
                    t1.join(20_000);
                    t2.join(20_000);
                } catch (Exception e) {
                    // the request below reports it
                }
            }, "relay");
            acceptor.setDaemon(true);
            acceptor.start();
            HttpClient.Builder hb = HttpClient.newBuilder().sslContext(ctx).version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10));
            if (suite != null) {
                hb.sslParameters(new SSLParameters(new String[]{suite}));
            }
            HttpClient c = hb.build();
            HttpResponse<byte[]> r = c.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + relay.getLocalPort() + "/"))
                    .header("Connection", "close").timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofByteArray());
            tls = r.sslSession().map(s -> s.getProtocol() + " " + s.getCipherSuite()).orElse("?") + " (status " + r.statusCode() + ")";
            acceptor.join(20_000);
        }
        byte[] u;
        byte[] d;
        synchronized (up) {
            u = up.toByteArray();
        }
        synchronized (down) {
            d = down.toByteArray();
        }
        return String.format("%-6s client: %s; %s", provider, tls, hellos(u, d));
    }

    static Thread pump(InputStream in, OutputStream out, ByteArrayOutputStream copy) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[16384];
            try {
                int n;
                while ((n = in.read(buf)) > 0) {
                    out.write(buf, 0, n);
                    out.flush();
                    synchronized (copy) {
                        if (copy.size() < (1 << 20)) {
                            copy.write(buf, 0, n);
                        }
                    }
                }
            } catch (IOException e) {
                // connection over
            } finally {
                try {
                    out.close();
                } catch (IOException e) {
                    // ignore
                }
            }
        }, "relay-pump");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** The plaintext handshake messages of one direction: the concatenated payloads of its handshake records. */
    static List<byte[]> handshakeMessages(byte[] stream) {
        ByteArrayOutputStream hs = new ByteArrayOutputStream();
        for (int at = 0; at + 5 <= stream.length; ) {
            int type = stream[at] & 0xff;
            int len = ((stream[at + 3] & 0xff) << 8) | (stream[at + 4] & 0xff);
            if (at + 5 + len > stream.length) {
                break;
            }
            if (type == 22) {
                hs.write(stream, at + 5, len);
            }
            at += 5 + len;
        }
        byte[] h = hs.toByteArray();
        List<byte[]> msgs = new ArrayList<>();
        for (int at = 0; at + 4 <= h.length; ) {
            int len = ((h[at + 1] & 0xff) << 16) | ((h[at + 2] & 0xff) << 8) | (h[at + 3] & 0xff);
            if (at + 4 + len > h.length) {
                break;
            }
            msgs.add(Arrays.copyOfRange(h, at, at + 4 + len));
            at += 4 + len;
        }
        return msgs;
    }

    static final byte[] HRR_RANDOM = HexFormat.of().parseHex("CF21AD74E59A6111BE1D8C021E65B891C2A211167ABB8C5E079E09E2C8A8339C");

    static int u16(byte[] b, int at) {
        return ((b[at] & 0xff) << 8) | (b[at + 1] & 0xff);
    }

    /** extension type -> data, of a ClientHello or ServerHello body starting at {@code at} (the extensions' length). */
    static Map<Integer, byte[]> extensions(byte[] m, int at) {
        Map<Integer, byte[]> ext = new LinkedHashMap<>();
        if (at + 2 > m.length) {
            return ext;
        }
        int end = at + 2 + u16(m, at);
        at += 2;
        while (at + 4 <= end && end <= m.length) {
            int t = u16(m, at);
            int l = u16(m, at + 2);
            ext.put(t, Arrays.copyOfRange(m, at + 4, at + 4 + l));
            at += 4 + l;
        }
        return ext;
    }

    static String hellos(byte[] up, byte[] down) {
        StringBuilder out = new StringBuilder();
        int hello = 0;
        for (byte[] m : handshakeMessages(up)) {
            if (m[0] != 1) {
                break;
            }
            hello++;
            int at = 4 + 2 + 32;
            at += 1 + (m[at] & 0xff);
            at += 2 + u16(m, at);
            at += 1 + (m[at] & 0xff);
            Map<Integer, byte[]> ext = extensions(m, at);
            List<String> shares = new ArrayList<>();
            byte[] ks = ext.get(51);
            if (ks != null) {
                for (int i = 2; i + 4 <= ks.length; ) {
                    shares.add(group(u16(ks, i)));
                    i += 4 + u16(ks, i + 2);
                }
            }
            List<String> supported = new ArrayList<>();
            byte[] sg = ext.get(10);
            if (sg != null) {
                for (int i = 2; i + 2 <= sg.length; i += 2) {
                    supported.add(group(u16(sg, i)));
                }
            }
            out.append(hello == 1 ? "ClientHello key_share " : "; second ClientHello key_share ").append(shares);
            if (hello == 1) {
                out.append(" of supported_groups ").append(supported);
            }
        }
        for (byte[] m : handshakeMessages(down)) {
            if (m[0] == 2) {
                boolean hrr = Arrays.equals(Arrays.copyOfRange(m, 6, 38), HRR_RANDOM);
                int at = 4 + 2 + 32;
                at += 1 + (m[at] & 0xff);
                at += 2 + 1;
                Map<Integer, byte[]> ext = extensions(m, at);
                byte[] ks = ext.get(51);
                byte[] sv = ext.get(43);
                String g = ks == null || ks.length < 2 ? "-" : group(u16(ks, 0));
                if (hrr) {
                    out.append("; HelloRetryRequest for ").append(g);
                } else {
                    out.append("; ServerHello ").append(sv != null && sv.length == 2 && u16(sv, 0) == 0x0304 ? "TLS 1.3, group " + g : "TLS 1.2");
                    if (sv != null) {
                        break;
                    }
                }
            } else if (m[0] == 12 && m.length > 7 && m[4] == 3) {
                out.append(", ECDHE group ").append(group(u16(m, 5)));
                break;
            } else if (m[0] == 14) {
                break;
            }
        }
        return out.toString();
    }
}
