package org.glouglou.server.viz;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The viewer protocol on one connection (issue 5), after TLS and line framing: first {@code {"hello":{"user":U,
 * "password":P}}} or {@code {"hello":{"token":"NAME:SECRET"}}}, answered {@code {"welcome":{...}}}; then
 * {@code {"config":{...}}} messages at any time (see {@link ViewerConfig}). The first configuration is answered by
 * {@code {"ok":{"format":F}}} and the stream in format F follows. A wrong secret, a malformed or unexpected message,
 * a too long line or a silent client closes this connection with {@code {"error":{"reason":R}}} (or, once a
 * NetStream has begun, the graph attribute {@code gg.notice} = "error: R"); other viewers are untouched.
 */
final class ViewerHandler extends SimpleChannelInboundHandler<ByteBuf> {
    private static final Logger LOG = LoggerFactory.getLogger(ViewerHandler.class);
    static final ObjectMapper JSON = new ObjectMapper();

    private enum State {
        HELLO, AUTHENTICATING, STREAMING, CLOSED
    }

    private final ViewerServer server;
    private State state = State.HELLO;
    private ViewerSession session;
    private ScheduledFuture<?> helloTimeout;

    ViewerHandler(ViewerServer server) {
        this.server = server;
    }

    static byte[] errorLine(String reason) {
        ObjectNode o = JSON.createObjectNode();
        o.putObject("error").put("reason", reason);
        return (o.toString() + "\n").getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        if (!server.admit()) {
            refuse(ctx, "too many viewers (at most " + server.config().maxViewers() + "); try again later");
            return;
        }
        helloTimeout = ctx.executor().schedule(() -> {
            if (state == State.HELLO || state == State.AUTHENTICATING) {
                refuse(ctx, "no hello within " + server.config().helloTimeoutSeconds() + " s");
            }
        }, server.config().helloTimeoutSeconds(), TimeUnit.SECONDS);
        ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        server.leave();
        if (helloTimeout != null) {
            helloTimeout.cancel(false);
        }
        if (session != null) {
            session.requestClose(null);
        }
        state = State.CLOSED;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, ByteBuf msg) {
        if (state == State.CLOSED) {
            return; // keep discarding until the close completes
        }
        try {
            JsonNode m;
            try {
                m = JSON.readTree(msg.toString(StandardCharsets.UTF_8));
            } catch (Exception e) {
                throw new ViewerProtocolException("malformed message: not JSON (" + firstLine(e.getMessage()) + ")");
            }
            if (m == null || !m.isObject() || m.size() != 1) {
                throw new ViewerProtocolException("malformed message: expected one object with one field, hello or"
                        + " config");
            }
            String type = m.fieldNames().next();
            switch (state) {
                case HELLO -> {
                    if (!type.equals("hello")) {
                        throw new ViewerProtocolException("expected hello first, got " + type);
                    }
                    hello(ctx, m.get("hello"));
                }
                case AUTHENTICATING -> throw new ViewerProtocolException("message before the answer to hello");
                case STREAMING -> {
                    if (!type.equals("config")) {
                        throw new ViewerProtocolException("unknown message " + type + " (expected config)");
                    }
                    ViewerConfig c = ViewerConfig.parse(m.get("config"));
                    server.hub().execute(() -> session.configure(c));
                }
                default -> {
                }
            }
        } catch (ViewerProtocolException e) {
            refuse(ctx, e.getMessage());
        }
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    private void hello(ChannelHandlerContext ctx, JsonNode h) throws ViewerProtocolException {
        if (h == null || !h.isObject()) {
            throw new ViewerProtocolException("hello must be an object");
        }
        String user;
        String secret;
        if (h.hasNonNull("token")) {
            String t = h.get("token").asText();
            int colon = t.indexOf(':');
            if (colon <= 0) {
                throw new ViewerProtocolException("hello.token must be NAME:SECRET as --add-viewer printed it");
            }
            user = t.substring(0, colon);
            secret = t.substring(colon + 1);
        } else if (h.hasNonNull("user") && h.hasNonNull("password")) {
            user = h.get("user").asText();
            secret = h.get("password").asText();
        } else {
            throw new ViewerProtocolException("hello needs a token, or a user and a password");
        }
        state = State.AUTHENTICATING;
        ExecutorService auth = server.authExecutor();
        try {
            auth.execute(() -> {
                boolean ok = server.users().verify(user, secret);
                ctx.executor().execute(() -> authenticated(ctx, user, ok));
            });
        } catch (RejectedExecutionException e) {
            throw new ViewerProtocolException("server busy authenticating other viewers; try again later");
        }
    }

    private void authenticated(ChannelHandlerContext ctx, String user, boolean ok) {
        if (state != State.AUTHENTICATING) {
            return;
        }
        if (!ok) {
            LOG.info("viewer {}: authentication failed for '{}'", ctx.channel().remoteAddress(), user);
            refuse(ctx, "authentication failed: unknown viewer or wrong password/token");
            return;
        }
        helloTimeout.cancel(false);
        state = State.STREAMING;
        session = new ViewerSession(server.hub(), ctx.channel(), user);
        ObjectNode w = JSON.createObjectNode();
        ObjectNode o = w.putObject("welcome");
        o.put("server", "glouglou").put("protocol", 1).put("viewer", user);
        server.modules().forEach(o.putArray("modules")::add);
        ctx.writeAndFlush(Unpooled.wrappedBuffer((w.toString() + "\n").getBytes(StandardCharsets.UTF_8)));
        LOG.info("viewer {} authenticated from {}", user, ctx.channel().remoteAddress());
    }

    private void refuse(ChannelHandlerContext ctx, String reason) {
        if (state == State.CLOSED) {
            return;
        }
        if (session != null) {
            state = State.CLOSED;
            session.requestClose(reason);
            return;
        }
        state = State.CLOSED;
        LOG.info("viewer {}: closing: {}", ctx.channel().remoteAddress(), reason);
        ctx.writeAndFlush(Unpooled.wrappedBuffer(errorLine(reason))).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof TooLongFrameException) {
            refuse(ctx, "message longer than " + server.config().maxMessageBytes() + " bytes");
            return;
        }
        Throwable root = cause;
        while (root.getCause() != null && root != root.getCause()) {
            root = root.getCause();
        }
        if (cause instanceof DecoderException && root instanceof SSLException) {
            LOG.info("viewer {}: TLS failed: {}", ctx.channel().remoteAddress(), root.getMessage());
        } else {
            LOG.info("viewer {}: {}", ctx.channel().remoteAddress(), root.toString());
        }
        state = State.CLOSED;
        if (session != null) {
            session.requestClose(null);
        }
        ctx.close();
    }
}
