package org.glouglou.server.ingest;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.nio.NioDatagramChannel;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.glouglou.protocol.ProtocolConstants;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Netty UDP socket of the server. One channel, one event loop thread: it runs {@link IngestCore} for every
 * datagram, its tick, and the work that Redis replies make due (acknowledgements, answered reads), so the receiver
 * sessions and the streams need no locks.
 */
public final class UdpListener implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(UdpListener.class);

    /** 8 MiB: absorbs a burst of about 7000 full datagrams while the thread is in a tick; Linux caps it at rmem_max. */
    static final int RECEIVE_BUFFER = 8 << 20;

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final IngestCore core;
    private volatile Channel channel;
    private final java.util.concurrent.atomic.AtomicBoolean progressPending = new java.util.concurrent.atomic.AtomicBoolean();

    public UdpListener(IngestCore core) {
        this.core = core;
    }

    /** Binds (needs privileges for a port below 1024: call before the drop) and starts the tick. */
    public InetSocketAddress bind(InetSocketAddress at, long tickMillis) throws InterruptedException {
        Bootstrap b = new Bootstrap().group(group).channel(NioDatagramChannel.class)
                .option(ChannelOption.SO_RCVBUF, RECEIVE_BUFFER)
                // heap buffers: the receiver opens sealed datagrams in place through their array
                .option(ChannelOption.ALLOCATOR, new PooledByteBufAllocator(false))
                .option(ChannelOption.RCVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(ProtocolConstants.MAX_DATAGRAM))
                .handler(new SimpleChannelInboundHandler<DatagramPacket>() {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket p) {
                        core.receive(p.content(), p.sender(), System.currentTimeMillis(), System.nanoTime());
                    }

                    @Override
                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                        // ICMP port unreachable after a reply and the like: never close the socket for it
                        LOG.debug("UDP channel: {}", cause.toString());
                    }
                });
        channel = b.bind(at).sync().channel();
        core.replier((d, to) -> channel.writeAndFlush(new DatagramPacket(d, to)));
        channel.eventLoop().scheduleAtFixedRate(() -> core.tick(System.currentTimeMillis()), tickMillis, tickMillis,
                TimeUnit.MILLISECONDS);
        InetSocketAddress bound = (InetSocketAddress) channel.localAddress();
        LOG.info("listening for probes on udp {}", bound);
        return bound;
    }

    /** Runs {@link IngestCore#progress} on the ingest thread soon (Redis replied), once however often asked. */
    public void progress() {
        Channel c = channel;
        if (c != null && progressPending.compareAndSet(false, true)) {
            c.eventLoop().execute(() -> {
                progressPending.set(false);
                core.progress();
            });
        }
    }

    /** Stops reading datagrams (a graceful stop); replies can still be sent. */
    public void pauseReading() {
        Channel c = channel;
        if (c != null) {
            c.config().setAutoRead(false);
        }
    }

    /** Runs {@code task} on the ingest thread (tests read the key copy this way). */
    public <T> T call(java.util.concurrent.Callable<T> task) throws Exception {
        return channel.eventLoop().submit(task).get();
    }

    @Override
    public void close() {
        if (channel != null) {
            channel.close().awaitUninterruptibly();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    }
}
