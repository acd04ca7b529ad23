package org.glouglou.viewer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * One connection to a glouglou server's viewer port (issue 5), blocking: TLS 1.3 with pinning or a CA
 * ({@link ViewerTrust}), hello with a token or password, then configurations, and the stream: JSON lines
 * ({@link #next} returns a String) or NetStream frames (a ByteBuffer holding one whole frame, size included, as
 * gs-core's {@code NetStreamDecoder.decode} takes it). {@link ViewerClient} adds reconnection. Not thread-safe for
 * reading; {@link #sendConfig} may be called from another thread.
 */
public final class ViewerConnection implements AutoCloseable {
    /** A line or a frame longer than this is refused: no server sends one (64 MiB). */
    static final int MAX_ITEM = 64 << 20;
    static final ObjectMapper JSON = new ObjectMapper();

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    private final JsonNode welcome;
    private volatile boolean frames;
    private volatile String format;

    private ViewerConnection(Socket socket, JsonNode welcome, DataInputStream in) throws IOException {
        this.socket = socket;
        this.in = in;
        this.out = socket.getOutputStream();
        this.welcome = welcome;
    }

    /**
     * Connects and authenticates: {@code token} is {@code NAME:SECRET}, or give {@code user} and {@code password}.
     * Throws {@link ViewerRefusedException} with the reason when the server or TLS refuses.
     */
    public static ViewerConnection open(String host, int port, ViewerTrust trust, String user, String secret,
            boolean isToken, int timeoutMillis) throws IOException {
        Socket s = new Socket();
        try {
            s.connect(new InetSocketAddress(host, port), timeoutMillis);
            s.setSoTimeout(timeoutMillis);
            s.setTcpNoDelay(true);
            if (trust.mode != ViewerTrust.Mode.PLAIN) {
                SSLSocket t;
                try {
                    t = (SSLSocket) trust.context(host + ":" + port).getSocketFactory().createSocket(s, host, port,
                            true);
                } catch (IOException e) {
                    throw e;
                } catch (Exception e) {
                    throw new ViewerRefusedException("TLS set-up failed: " + e.getMessage(), e);
                }
                t.setEnabledProtocols(new String[]{"TLSv1.3"});
                if (trust.mode == ViewerTrust.Mode.CA) {
                    SSLParameters p = t.getSSLParameters();
                    p.setEndpointIdentificationAlgorithm("HTTPS");
                    t.setSSLParameters(p);
                }
                try {
                    t.startHandshake();
                } catch (SSLHandshakeException e) {
                    throw new ViewerRefusedException("TLS handshake failed: " + rootMessage(e), e);
                }
                s = t;
            }
            DataInputStream in = new DataInputStream(new BufferedInputStream(s.getInputStream(), 64 * 1024));
            ObjectNode hello = JSON.createObjectNode();
            ObjectNode h = hello.putObject("hello");
            if (isToken) {
                h.put("token", secret);
            } else {
                h.put("user", user).put("password", secret);
            }
            s.getOutputStream().write((hello + "\n").getBytes(StandardCharsets.UTF_8));
            s.getOutputStream().flush();
            JsonNode w = JSON.readTree(readLine(in));
            if (w.has("error")) {
                throw new ViewerRefusedException(w.get("error").path("reason").asText());
            }
            if (!w.has("welcome")) {
                throw new ViewerRefusedException("unexpected answer to hello: " + w);
            }
            s.setSoTimeout(0);
            return new ViewerConnection(s, w.get("welcome"), in);
        } catch (IOException e) {
            s.close();
            throw e;
        }
    }

    static String rootMessage(Throwable t) {
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage();
    }

    /** The server's welcome: {@code {"server":"glouglou","protocol":1,"viewer":NAME,"modules":[...]}}. */
    public JsonNode welcome() {
        return welcome;
    }

    /** Sends {@code {"config": config}}; see the server's ViewerConfig for the fields. */
    public synchronized void sendConfig(JsonNode config) throws IOException {
        ObjectNode m = JSON.createObjectNode();
        m.set("config", config);
        sendRaw((m + "\n").getBytes(StandardCharsets.UTF_8));
    }

    /** Sends bytes as they are (tests of malformed messages). */
    public synchronized void sendRaw(byte[] b) throws IOException {
        out.write(b);
        out.flush();
    }

    /** The format the stream is in, once the server acknowledged the first configuration. */
    public String format() {
        return format;
    }

    /**
     * The next item: a String (a JSON line: an event, a step, a notice) or a ByteBuffer (one NetStream frame). The
     * server's {@code {"ok":...}} line is returned too, and switches reading to frames for NetStream. A server error
     * line throws {@link ViewerRefusedException}; end of stream throws {@link EOFException}.
     */
    public Object next() throws IOException {
        if (frames) {
            int size = in.readInt();
            if (size < 5 || size > MAX_ITEM) {
                throw new IOException("bad NetStream frame size " + size);
            }
            byte[] b = new byte[size];
            ByteBuffer.wrap(b).putInt(size);
            in.readFully(b, 4, size - 4);
            return ByteBuffer.wrap(b);
        }
        String line = readLine(in);
        if (line.startsWith("{\"error\"")) {
            throw new ViewerRefusedException(JSON.readTree(line).path("error").path("reason").asText());
        }
        if (line.startsWith("{\"ok\"")) {
            format = JSON.readTree(line).path("ok").path("format").asText();
            frames = "netstream".equals(format);
        }
        return line;
    }

    private static String readLine(DataInputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream(256);
        int c;
        while ((c = in.read()) != '\n') {
            if (c < 0) {
                throw new EOFException("the server closed the connection");
            }
            if (b.size() >= MAX_ITEM) {
                throw new IOException("line longer than " + MAX_ITEM + " bytes");
            }
            b.write(c);
        }
        return b.toString(StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
