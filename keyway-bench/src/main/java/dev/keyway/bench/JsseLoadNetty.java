package dev.keyway.bench;

import dev.keyway.bench.JsseLoad.CountingTrust;
import dev.keyway.bench.JsseLoad.Credential;
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

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static dev.keyway.bench.JsseLoad.PROVIDERS;
import static dev.keyway.bench.JsseLoad.credential;
import static dev.keyway.bench.JsseLoad.intOpt;
import static dev.keyway.bench.JsseLoad.load;
import static dev.keyway.bench.JsseLoad.median;
import static dev.keyway.bench.JsseLoad.newContext;
import static dev.keyway.bench.JsseLoad.serverContext;

/**
 * {@link JsseLoad netty}: Netty's SslHandler echo over 127.0.0.1 in this JVM, the same provider on both sides, MB/s
 * of payload per provider and the ratio keyway/jsse.
 */
final class JsseLoadNetty {
    private JsseLoadNetty() {
    }

    static final int CHUNK = 16 * 1024;

    /** Echoes what it reads; stops reading while the echo cannot be written out. */
    static final class Echo extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.write(msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
            if (!ctx.channel().isWritable()) {
                ctx.channel().config().setAutoRead(false);
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable()) {
                ctx.channel().config().setAutoRead(true);
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /** Streams {@code total} bytes while the channel is writable and counts what comes back. */
    static final class Stream extends ChannelInboundHandlerAdapter {
        final long total;
        final byte[] data;
        final CompletableFuture<Long> done = new CompletableFuture<>();
        volatile ChannelHandlerContext ctx;
        long sent;
        long received;
        long startNanos;

        Stream(long total, byte[] data) {
            this.total = total;
            this.data = data;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            this.ctx = ctx;
        }

        void start() {
            ctx.executor().execute(() -> {
                startNanos = System.nanoTime();
                fill();
            });
        }

        void fill() {
            while (sent < total && ctx.channel().isWritable()) {
                int n = (int) Math.min(CHUNK, total - sent);
                ctx.write(Unpooled.wrappedBuffer(data, 0, n));
                sent += n;
            }
            ctx.flush();
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable() && sent < total) {
                fill();
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf b = (ByteBuf) msg;
            received += b.readableBytes();
            b.release();
            if (received >= total) {
                done.complete(System.nanoTime() - startNanos);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            done.completeExceptionally(cause);
            ctx.close();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            done.completeExceptionally(new IOException("closed after " + received + " of " + total + " bytes"));
        }
    }

    record NettyRun(String tls, double mbPerSecond) {
    }

    static NettyRun nettyRun(SSLContext sctx, SSLContext cctx, long bytes, byte[] data, EventLoopGroup serverGroup, EventLoopGroup clientGroup,
                             String suite) throws Exception {
        Channel listening = new ServerBootstrap().group(serverGroup).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        SSLEngine e = sctx.createSSLEngine();
                        e.setUseClientMode(false);
                        ch.pipeline().addLast(new SslHandler(e), new Echo());
                    }
                }).bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
        try {
            int port = ((InetSocketAddress) listening.localAddress()).getPort();
            Stream stream = new Stream(bytes, data);
            Channel ch = new Bootstrap().group(clientGroup).channel(NioSocketChannel.class).handler(new ChannelInitializer<SocketChannel>() {
                @Override
                protected void initChannel(SocketChannel c) {
                    SSLEngine e = cctx.createSSLEngine("localhost", port);
                    e.setUseClientMode(true);
                    SSLParameters p = e.getSSLParameters();
                    p.setEndpointIdentificationAlgorithm("HTTPS");
                    if (suite != null) {
                        p.setCipherSuites(new String[]{suite});
                    }
                    e.setSSLParameters(p);
                    c.pipeline().addLast(new SslHandler(e), stream);
                }
            }).connect("127.0.0.1", port).sync().channel();
            try {
                SslHandler ssl = ch.pipeline().get(SslHandler.class);
                ssl.handshakeFuture().get(30, TimeUnit.SECONDS);
                String tls = ssl.engine().getSession().getProtocol() + " " + ssl.engine().getSession().getCipherSuite();
                stream.start();
                long nanos = stream.done.get(600, TimeUnit.SECONDS);
                return new NettyRun(tls, bytes / (nanos / 1e9) / 1e6);
            } finally {
                ch.close().sync();
            }
        } finally {
            listening.close().sync();
        }
    }

    static boolean netty(Map<String, String> o) throws Exception {
        int mib = intOpt(o, "mib", 256, 1);
        int warmMib = intOpt(o, "warmup-mib", 64, 0);
        int repeat = intOpt(o, "repeat", 3, 1);
        String suite = o.get("suite");
        Credential cred = credential();
        byte[] data = new byte[CHUNK];
        new Random(18).nextBytes(data);
        Map<String, SSLContext[]> ctx = new HashMap<>();
        for (String p : PROVIDERS) {
            SSLContext c = newContext(p);
            c.init(null, new TrustManager[]{new CountingTrust(cred.cert())}, null);
            ctx.put(p, new SSLContext[]{serverContext(p, cred.keyStore()), c});
        }
        EventLoopGroup serverGroup = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        EventLoopGroup clientGroup = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        Map<String, List<Double>> runs = new HashMap<>();
        AtomicLong errors = new AtomicLong();
        try {
            System.out.printf(Locale.ROOT, "%nnetty: SslHandler echo, java %s, %d CPUs, one event loop thread for the server and one for the client;"
                    + " %d MiB per run in %d KiB writes, warm-up %d MiB per provider, median of %d%n", Runtime.version(),
                    Runtime.getRuntime().availableProcessors(), mib, CHUNK / 1024, warmMib, repeat);
            if (warmMib > 0) {
                for (String p : PROVIDERS) {
                    NettyRun w = nettyRun(ctx.get(p)[0], ctx.get(p)[1], (long) warmMib << 20, data, serverGroup, clientGroup, suite);
                    System.out.printf(Locale.ROOT, "  warm-up %-6s %8.1f MB/s  (%s)%n", p, w.mbPerSecond(), w.tls());
                }
            }
            for (int r = 1; r <= repeat; r++) {
                String[] order = r % 2 == 1 || PROVIDERS.length == 1 ? PROVIDERS : new String[]{PROVIDERS[1], PROVIDERS[0]};
                for (String p : order) {
                    String load = load();
                    try {
                        NettyRun run = nettyRun(ctx.get(p)[0], ctx.get(p)[1], (long) mib << 20, data, serverGroup, clientGroup, suite);
                        runs.computeIfAbsent(p, k -> new ArrayList<>()).add(run.mbPerSecond());
                        System.out.printf(Locale.ROOT, "  run %d %-6s %8.1f MB/s  (%s; load %s)%n", r, p, run.mbPerSecond(), run.tls(), load);
                    } catch (Exception e) {
                        errors.incrementAndGet();
                        System.out.println("  run " + r + " " + p + " failed: " + e);
                    }
                }
            }
        } finally {
            serverGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS);
            clientGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS);
        }
        {
            double k = median(runs.getOrDefault("keyway", List.of()).stream().mapToDouble(Double::doubleValue).toArray());
            double j = median(runs.getOrDefault("jsse", List.of()).stream().mapToDouble(Double::doubleValue).toArray());
            System.out.printf(Locale.ROOT, "RESULT netty keyway=%.1f jsse=%.1f ratio=%.2f%n", k, j, k / j);
        }
        return errors.get() == 0;
    }
}
