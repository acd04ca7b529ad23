package org.glouglou.server.viz;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.ssl.SslContext;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.glouglou.spi.ConfigException;
import org.glouglou.spi.GlouglouModule;
import org.glouglou.spi.ModuleRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The viewer half of the processing server (issue 5): a TCP listener (TLS 1.3 unless plain was asked for) whose
 * connections speak the viewer protocol ({@link ViewerHandler}) and receive the live graph from the
 * {@link ViewerHub}. {@link #bind} opens the socket and makes the TLS identity (before a privilege drop), {@link #start}
 * begins following Redis.
 */
public final class ViewerServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ViewerServer.class);
    /**
     * Netty's write buffer water marks per viewer: above 1 MiB queued the channel is "not writable" and the viewer
     * is skipped (its changes coalesce); below 256 KiB it is writable again.
     */
    static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(256 * 1024, 1024 * 1024);

    private final ViewerServerConfig config;
    private final ViewerUsers users;
    private final ViewerHub hub;
    private final List<String> modules;
    private final ViewerTls tls;
    private final SslContext ssl;
    private final AtomicInteger connections = new AtomicInteger();
    /** One Argon2 at a time, 64 waiting: logins cannot take more than one core, a flood is refused. */
    private final ExecutorService auth = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(64), r -> {
                Thread t = new Thread(r, "viewer-auth");
                t.setDaemon(true);
                return t;
            });
    private EventLoopGroup boss;
    private EventLoopGroup workers;
    private Channel listener;

    public ViewerServer(ViewerServerConfig config, ViewerUsers users, String redisUri, ModuleRegistry registry,
            long tickMillis) throws ConfigException {
        this(config, users, org.glouglou.server.store.RedisTarget.standalone(redisUri), registry, tickMillis);
    }

    /** Viewers of the graph in {@code redis}: a standalone Redis or a Redis Cluster. */
    public ViewerServer(ViewerServerConfig config, ViewerUsers users, org.glouglou.server.store.RedisTarget redis,
            ModuleRegistry registry, long tickMillis) throws ConfigException {
        this.config = config;
        this.users = users;
        this.modules = registry.modules().stream().filter(m -> m.graphSide() != null).map(GlouglouModule::name)
                .toList();
        if (config.plain()) {
            tls = null;
            ssl = null;
        } else {
            if (config.keystore() != null) {
                tls = ViewerTls.fromPkcs12(config.keystore(), config.keystorePassword());
            } else if (config.tlsCert() != null) {
                tls = ViewerTls.fromPem(config.tlsCert(), config.tlsKey());
            } else {
                tls = ViewerTls.selfSigned(config.stateDir());
            }
            ssl = tls.serverContext();
        }
        this.hub = new ViewerHub(redis, registry, tickMillis);
    }

    /** Opens the viewer port; logs the certificate fingerprint viewers pin. */
    public InetSocketAddress bind() throws ConfigException {
        boss = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        // two I/O threads: TLS encryption of a large snapshot on one does not stall the other viewers
        workers = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        ServerBootstrap b = new ServerBootstrap().group(boss, workers).channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
                .childOption(ChannelOption.TCP_NODELAY, true).childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (ssl != null) {
                            ch.pipeline().addLast("tls", ssl.newHandler(ch.alloc()));
                        }
                        ch.pipeline().addLast("lines", new LineBasedFrameDecoder(config.maxMessageBytes(), true,
                                true));
                        ch.pipeline().addLast("viewer", new ViewerHandler(ViewerServer.this));
                    }
                });
        try {
            listener = b.bind(config.listen()).sync().channel();
        } catch (Exception e) {
            close();
            throw new ConfigException("cannot listen for viewers on tcp " + config.listen() + ": " + e.getMessage()
                    + " (choose another --viewers address, or 'off')");
        }
        InetSocketAddress a = (InetSocketAddress) listener.localAddress();
        if (tls != null) {
            LOG.info("viewers on tcp {} (TLS 1.3); certificate SHA-256 fingerprint {}{}", a, tls.fingerprint(), tls
                    .generated() ? " (new self-signed certificate in " + config.stateDir() + ")" : "");
        } else {
            LOG.warn("viewers on tcp {} WITHOUT TLS (--plain-viewers): passwords and the graph travel in clear", a);
        }
        return a;
    }

    public void start() {
        hub.start();
    }

    public String fingerprint() {
        return tls == null ? null : tls.fingerprint();
    }

    /** The viewer side's gauges and counters on the server's metrics endpoint. */
    public void metrics(org.glouglou.server.metrics.ServerMetrics m) {
        hub.metrics(m);
    }

    public ViewerHub hub() {
        return hub;
    }

    ViewerServerConfig config() {
        return config;
    }

    ViewerUsers users() {
        return users;
    }

    List<String> modules() {
        return modules;
    }

    ExecutorService authExecutor() {
        return auth;
    }

    boolean admit() {
        if (connections.incrementAndGet() > config.maxViewers()) {
            return false;
        }
        return true;
    }

    void leave() {
        connections.decrementAndGet();
    }

    @Override
    public void close() {
        if (listener != null) {
            listener.close();
        }
        hub.close();
        auth.shutdownNow();
        if (boss != null) {
            boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }
}
