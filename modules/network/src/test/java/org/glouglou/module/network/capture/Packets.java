package org.glouglou.module.network.capture;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Hand-built frames for tests: each method returns the bytes of one layer wrapped around its payload. */
final class Packets {
    private Packets() {
    }

    static byte[] cat(byte[]... parts) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            o.writeBytes(p);
        }
        return o.toByteArray();
    }

    static byte[] ip4(String src, String dst, int proto, int ttl, byte[] payload) {
        return ip4(src, dst, proto, ttl, 0, payload);
    }

    static byte[] ip4(String src, String dst, int proto, int ttl, int fragWord, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(20 + payload.length);
        b.put((byte) 0x45).put((byte) 0).putShort((short) (20 + payload.length)).putShort((short) 1)
                .putShort((short) fragWord).put((byte) ttl).put((byte) proto).putShort((short) 0);
        b.put(addr(src)).put(addr(dst)).put(payload);
        return b.array();
    }

    static byte[] ip6(String src, String dst, int nxt, int hlim, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(40 + payload.length);
        b.putInt(0x60000000).putShort((short) payload.length).put((byte) nxt).put((byte) hlim);
        b.put(addr(src)).put(addr(dst)).put(payload);
        return b.array();
    }

    static byte[] addr(String s) {
        try {
            return java.net.InetAddress.getByName(s).getAddress();
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }

    static byte[] udp(int sp, int dp, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(8 + data.length);
        b.putShort((short) sp).putShort((short) dp).putShort((short) (8 + data.length)).putShort((short) 0)
                .put(data);
        return b.array();
    }

    static byte[] tcp(int sp, int dp, int flags, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(20 + data.length);
        b.putShort((short) sp).putShort((short) dp).putInt(1).putInt(0).put((byte) 0x50).put((byte) flags)
                .putShort((short) 65535).putInt(0).put(data);
        return b.array();
    }

    /** Ethernet with optional tags: pairs of (TPID, VLAN id). */
    static byte[] eth(int etype, byte[] payload, int... tags) {
        ByteBuffer b = ByteBuffer.allocate(14 + tags.length * 2 + payload.length);
        b.put(new byte[]{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1});
        for (int i = 0; i < tags.length; i += 2) {
            b.putShort((short) tags[i]).putShort((short) tags[i + 1]);
        }
        b.putShort((short) etype).put(payload);
        return b.array();
    }

    static byte[] sll(int etype, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(16 + payload.length);
        b.putShort((short) 0).putShort((short) 1).putShort((short) 6).put(new byte[8]).putShort((short) etype)
                .put(payload);
        return b.array();
    }

    static byte[] sll2(int etype, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(20 + payload.length);
        b.putShort((short) etype).putShort((short) 0).putInt(2).putShort((short) 1).put((byte) 0).put((byte) 6)
                .put(new byte[8]).put(payload);
        return b.array();
    }

    static byte[] nullFamily(int family, ByteOrder order, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(4 + payload.length);
        b.order(order).putInt(family).put(payload);
        return b.array();
    }

    /** A pcap file: little-endian microsecond unless told, one record per frame, timestamps 1 ms apart. */
    static byte[] pcap(ByteOrder order, boolean nano, int linkType, byte[]... frames) {
        int n = 24;
        for (byte[] f : frames) {
            n += 16 + f.length;
        }
        ByteBuffer b = ByteBuffer.allocate(n).order(order);
        b.putInt(nano ? 0xa1b23c4d : 0xa1b2c3d4).putShort((short) 2).putShort((short) 4).putInt(0).putInt(0)
                .putInt(262144).putInt(linkType);
        int i = 0;
        for (byte[] f : frames) {
            b.putInt(1_700_000_000).putInt(nano ? i * 1_000_000 + 999 : i * 1000).putInt(f.length).putInt(f.length)
                    .put(f);
            i++;
        }
        return b.array();
    }
}
