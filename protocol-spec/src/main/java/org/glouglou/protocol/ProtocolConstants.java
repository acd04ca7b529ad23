package org.glouglou.protocol;

/**
 * Fixed values and limits of wire protocol v3 (spec sections 2 and 3). One place, so that the encoder, the decoder
 * and the spec agree.
 */
public final class ProtocolConstants {
    public static final int VERSION = 3;

    /** version(1) flags(1) probe id(4) session id(4) sequence(8) base time(8). */
    public static final int HEADER_LENGTH = 26;

    /** Poly1305 tag appended to a sealed datagram. */
    public static final int TAG_LENGTH = 16;

    /** module id(1) type(1) length(varint, 1 to 3 bytes): the shortest record header. */
    public static final int MIN_RECORD_HEADER_LENGTH = 3;

    /** Flag bit 0: the payload is ChaCha20-Poly1305 ciphertext followed by its tag. */
    public static final int FLAG_SEALED = 0x01;

    /** Flags a receiver understands; any other bit set makes the datagram malformed. */
    public static final int KNOWN_FLAGS = FLAG_SEALED;

    /** 1200: the whole UDP payload fits the IPv6 minimum MTU (1280) minus IPv6 and UDP headers. */
    public static final int DEFAULT_MAX_DATAGRAM = 1200;

    /** The smallest size an encoder may be configured to: a header, a tag and one maximal handshake record. */
    public static final int MIN_MAX_DATAGRAM = 512;

    /** The largest UDP payload over IPv4. */
    public static final int MAX_DATAGRAM = 65507;

    /** Largest record body: 65535, so a length takes at most 3 varint bytes. */
    public static final int MAX_RECORD_BODY = 0xFFFF;

    /** Module id 0 is the protocol's own (handshake, clock, stats, forward). */
    public static final int INTERNAL_MODULE_ID = 0;

    /** Width of the anti-replay window, in sequence numbers (spec 5.4). */
    public static final int REPLAY_WINDOW = 1024;

    /** Size of the handshake nonces and proofs. */
    public static final int NONCE_LENGTH = 32;

    /** Smallest accepted per-probe secret: 128 bits. */
    public static final int MIN_SECRET_LENGTH = 16;

    private ProtocolConstants() {
    }
}
