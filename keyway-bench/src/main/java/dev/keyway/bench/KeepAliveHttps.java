package dev.keyway.bench;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.Locale;
import java.util.Map;

/**
 * The load generator's HTTP/1.1 client: one blocking TLS connection, kept alive, reopened when the
 * server closes it. The JDK's HttpClient spends about as much CPU per request as the authority does
 * (selector thread, futures, header maps), and on a 2-core machine that CPU is taken from the server
 * being measured; this one does a write and a read per request. Bench-only: no redirects, no proxies,
 * no HTTP/2; Content-Length or chunked responses.
 */
final class KeepAliveHttps implements AutoCloseable {
    /** A response: status and body bytes. */
    record Answer(int status, byte[] body) {
    }

    private static final int MAX_HEADER_LINE = 8192;
    private static final int MAX_BODY = 4 << 20;

    private final URI base;
    private final SSLContext ssl;
    private SSLSocket socket;
    private InputStream in;
    private OutputStream out;

    KeepAliveHttps(URI base, X509Certificate cert) throws Exception {
        this.base = base;
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("authority", cert);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        ssl = SSLContext.getInstance("TLS");
        ssl.init(null, tmf.getTrustManagers(), null);
    }

    /** POSTs {@code body} to {@code path} (absolute, e.g. /v1/escrow) with the given extra headers. */
    Answer post(String path, byte[] body, Map<String, String> headers) throws IOException {
        StringBuilder h = new StringBuilder(256);
        h.append("POST ").append(path).append(" HTTP/1.1\r\nHost: ").append(base.getHost()).append(':').append(base.getPort())
                .append("\r\nContent-Type: application/json\r\nContent-Length: ").append(body.length).append("\r\n");
        headers.forEach((k, v) -> h.append(k).append(": ").append(v).append("\r\n"));
        h.append("\r\n");
        byte[] head = h.toString().getBytes(StandardCharsets.ISO_8859_1);
        boolean fresh = socket == null;
        try {
            return exchange(head, body);
        } catch (IOException e) {
            close();
            if (fresh) {
                throw e;
            }
            return exchange(head, body); // the server closed an idle connection: one retry on a new one
        }
    }

    private Answer exchange(byte[] head, byte[] body) throws IOException {
        if (socket == null) {
            SSLSocket s = (SSLSocket) ssl.getSocketFactory().createSocket();
            s.connect(new InetSocketAddress(base.getHost(), base.getPort()), 10_000);
            s.setTcpNoDelay(true);
            s.setSoTimeout(60_000);
            s.startHandshake();
            socket = s;
            in = new BufferedInputStream(s.getInputStream(), 16384);
            out = new BufferedOutputStream(s.getOutputStream(), 16384);
        }
        out.write(head);
        out.write(body);
        out.flush();
        String status = line();
        if (status == null || !status.startsWith("HTTP/1.")) {
            throw new IOException("not an HTTP response: " + status);
        }
        int code = Integer.parseInt(status.substring(9, 12));
        long length = -1;
        boolean chunked = false;
        boolean closeAfter = false;
        String l;
        while ((l = line()) != null && !l.isEmpty()) {
            int colon = l.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String name = l.substring(0, colon).trim().toLowerCase(Locale.ROOT);
            String value = l.substring(colon + 1).trim();
            switch (name) {
                case "content-length" -> length = Long.parseLong(value);
                case "transfer-encoding" -> chunked = value.toLowerCase(Locale.ROOT).contains("chunked");
                case "connection" -> closeAfter = value.equalsIgnoreCase("close");
                default -> { }
            }
        }
        byte[] bytes;
        if (chunked) {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            while (true) {
                String size = line();
                int n = Integer.parseInt(size.split(";")[0].trim(), 16);
                if (n == 0) {
                    while ((l = line()) != null && !l.isEmpty()) {
                        // trailers
                    }
                    break;
                }
                if (b.size() + n > MAX_BODY) {
                    throw new IOException("response body over " + MAX_BODY + " bytes");
                }
                b.write(in.readNBytes(n));
                line();
            }
            bytes = b.toByteArray();
        } else if (length >= 0) {
            if (length > MAX_BODY) {
                throw new IOException("response body over " + MAX_BODY + " bytes");
            }
            bytes = in.readNBytes((int) length);
            if (bytes.length != length) {
                throw new IOException("connection closed inside the response body");
            }
        } else {
            bytes = in.readAllBytes();
            closeAfter = true;
        }
        if (closeAfter) {
            close();
        }
        return new Answer(code, bytes);
    }

    private String line() throws IOException {
        StringBuilder b = new StringBuilder(64);
        int c;
        while ((c = in.read()) != -1) {
            if (c == '\n') {
                int n = b.length();
                return n > 0 && b.charAt(n - 1) == '\r' ? b.substring(0, n - 1) : b.toString();
            }
            if (b.length() >= MAX_HEADER_LINE) {
                throw new IOException("response header line over " + MAX_HEADER_LINE + " characters");
            }
            b.append((char) c);
        }
        if (b.length() == 0) {
            throw new IOException("the server closed the connection");
        }
        return b.toString();
    }

    @Override
    public void close() {
        if (socket != null) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
        socket = null;
        in = null;
        out = null;
    }
}
