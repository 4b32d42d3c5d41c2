package dev.keyway.jsse;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslHandler;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Netty's {@link SslHandler} on the Keyway SSLEngine: an echo server and a client over 127.0.0.1, 1 MiB each way
 * (the client's 1 MiB goes up and comes back), then a half-close in TLS 1.3: the client closes its TLS write side
 * (close_notify) right after sending and still reads everything the server echoes; in TLS 1.2, which has none, the
 * server answers the client's close_notify with its own.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class NettyInteropTest {
    static JsseFixtures.Credential server;
    static EventLoopGroup group;

    @BeforeAll
    static void setUp() throws Exception {
        server = JsseFixtures.credential("EC", "localhost", List.of("DNS:localhost", "IP:127.0.0.1"));
        group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    }

    @AfterAll
    static void tearDown() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    /** Echoes every byte it reads. */
    static final class Echo extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.write(msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }
    }

    /** Collects what comes back until {@code expected} bytes are in. */
    static final class Collect extends ChannelInboundHandlerAdapter {
        final ByteArrayOutputStream got = new ByteArrayOutputStream();
        final CompletableFuture<byte[]> done = new CompletableFuture<>();
        final int expected;

        Collect(int expected) {
            this.expected = expected;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf b = (ByteBuf) msg;
            try {
                byte[] a = new byte[b.readableBytes()];
                b.readBytes(a);
                got.write(a, 0, a.length);
            } finally {
                b.release();
            }
            if (got.size() >= expected) {
                done.complete(got.toByteArray());
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            done.completeExceptionally(cause);
            ctx.close();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            done.completeExceptionally(new IllegalStateException("closed after " + got.size() + " bytes"));
        }
    }

    @ParameterizedTest(name = "client {0}, server {1}, {2}")
    @CsvSource({"Keyway, Keyway, TLSv1.3", "Keyway, Keyway, TLSv1.2", "Keyway, SunJSSE, TLSv1.3", "SunJSSE, Keyway, TLSv1.3"})
    void echoOneMebibyteEachWayThenHalfClose(String clientProvider, String serverProvider, String protocol) throws Exception {
        SSLContext sctx = JsseFixtures.context(serverProvider, protocol, server);
        SSLContext cctx = JsseFixtures.context(clientProvider, protocol, null, server.cert());
        Channel listening = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        SSLEngine e = sctx.createSSLEngine();
                        e.setUseClientMode(false);
                        ch.pipeline().addLast(new SslHandler(e), new Echo());
                    }
                }).bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
        int port = ((InetSocketAddress) listening.localAddress()).getPort();
        byte[] data = new byte[1 << 20];
        new Random(11).nextBytes(data);
        Collect collect = new Collect(data.length);
        try {
            Channel ch = new Bootstrap().group(group).channel(NioSocketChannel.class).handler(new ChannelInitializer<SocketChannel>() {
                @Override
                protected void initChannel(SocketChannel c) {
                    SSLEngine e = cctx.createSSLEngine("localhost", port);
                    e.setUseClientMode(true);
                    SSLParameters p = e.getSSLParameters();
                    p.setEndpointIdentificationAlgorithm("HTTPS");
                    e.setSSLParameters(p);
                    c.pipeline().addLast(new SslHandler(e), collect);
                }
            }).connect("127.0.0.1", port).sync().channel();
            SslHandler ssl = ch.pipeline().get(SslHandler.class);
            assertThat(ssl.handshakeFuture().await(30, TimeUnit.SECONDS)).isTrue();
            assertThat(ssl.handshakeFuture().isSuccess()).as("%s", ssl.handshakeFuture().cause()).isTrue();
            assertThat(ssl.engine().getSession().getProtocol()).isEqualTo(protocol);
            // 1 MiB up in pieces, then close our side only: close_notify, the socket stays open for reading
            for (int at = 0; at < data.length; at += 100_000) {
                ch.write(Unpooled.wrappedBuffer(data, at, Math.min(100_000, data.length - at)));
            }
            ch.flush();
            if (protocol.equals("TLSv1.3")) {
                // TLS 1.3 half-close (RFC 8446 section 6.1): our close_notify right behind the data, and the echo still
                // comes back in full
                ssl.closeOutbound().sync();
                assertThat(ssl.engine().isOutboundDone()).isTrue();
                assertThat(collect.done.get(60, TimeUnit.SECONDS)).isEqualTo(data);
            } else {
                // TLS 1.2 has no half-close: a close_notify is answered with one, pending writes discarded (RFC 5246
                // section 7.2.1), so close once the echo is in, and the server's close_notify answers ours
                assertThat(collect.done.get(60, TimeUnit.SECONDS)).isEqualTo(data);
                ssl.closeOutbound().sync();
                assertThat(ssl.sslCloseFuture().await(30, TimeUnit.SECONDS)).as("the server answered close_notify").isTrue();
                assertThat(ssl.sslCloseFuture().isSuccess()).isTrue();
            }
            ch.close().sync();
        } finally {
            listening.close().sync();
        }
    }
}
