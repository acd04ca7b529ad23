package org.glouglou.module.network.dns;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.glouglou.module.network.NetworkEvents.Name;
import org.glouglou.module.network.NetworkEvents.NameSource;
import org.junit.jupiter.api.Test;

class DnsResponseParserTest {
    final DnsResponseParser p = new DnsResponseParser();

    /** A response: header, one question, answers given as raw bytes. */
    static byte[] response(String qname, int qtype, int ancount, byte[]... answers) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        o.writeBytes(ByteBuffer.allocate(12).putShort((short) 0x1234).putShort((short) 0x8180).putShort((short) 1)
                .putShort((short) ancount).putInt(0).array());
        o.writeBytes(name(qname));
        o.writeBytes(ByteBuffer.allocate(4).putShort((short) qtype).putShort((short) 1).array());
        for (byte[] a : answers) {
            o.writeBytes(a);
        }
        return o.toByteArray();
    }

    static byte[] name(String n) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        for (String l : n.split("\\.")) {
            o.write(l.length());
            o.writeBytes(l.getBytes());
        }
        o.write(0);
        return o.toByteArray();
    }

    static byte[] rr(byte[] owner, int type, int ttl, byte[] rdata) {
        return ByteBuffer.allocate(owner.length + 10 + rdata.length).put(owner).putShort((short) type)
                .putShort((short) 1).putInt(ttl).putShort((short) rdata.length).put(rdata).array();
    }

    /** A compression pointer to offset 12: the question's name. */
    static final byte[] PTR_Q = {(byte) 0xc0, 12};

    List<Name> parse(byte[] msg) {
        byte[] exact = Arrays.copyOf(msg, msg.length);
        return p.parse(exact, 0, exact.length, false);
    }

    @Test
    void aAnswerNamesTheAddress() throws Exception {
        List<Name> n = parse(response("www.example.com", 1, 1, rr(PTR_Q, 1, 300, new byte[]{93, (byte) 184,
                (byte) 216, 34})));
        assertEquals(List.of(new Name(InetAddress.getByName("93.184.216.34"), "www.example.com", NameSource.DNS_A,
                300)), n);
    }

    @Test
    void cnameChainGivesTheAskedNameAndTheOwner() throws Exception {
        // www.repubblica.it CNAME a.edgekey.net CNAME e7047.akamaiedge.net A 92.122.247.92, AAAA too
        byte[] msg = response("www.repubblica.it", 1, 4, rr(PTR_Q, 5, 60, name("a.edgekey.net")),
                rr(name("a.edgekey.net"), 5, 60, name("e7047.akamaiedge.net")),
                rr(name("e7047.akamaiedge.net"), 1, 20, new byte[]{92, 122, (byte) 247, 92}),
                rr(name("E7047.akamaiedge.net"), 28, 20, InetAddress.getByName("2001:db8::5").getAddress()));
        List<Name> n = parse(msg);
        InetAddress a = InetAddress.getByName("92.122.247.92");
        InetAddress a6 = InetAddress.getByName("2001:db8::5");
        assertEquals(List.of(new Name(a, "e7047.akamaiedge.net", NameSource.DNS_A, 20),
                new Name(a, "www.repubblica.it", NameSource.DNS_CNAME, 20),
                new Name(a6, "E7047.akamaiedge.net", NameSource.DNS_AAAA, 20),
                new Name(a6, "www.repubblica.it", NameSource.DNS_CNAME, 20)), n);
    }

    @Test
    void ptrNamesTheAddressItEncodes() throws Exception {
        byte[] v4 = response("34.216.184.93.in-addr.arpa", 12, 1, rr(PTR_Q, 12, 3600, name("host.example")));
        assertEquals(List.of(new Name(InetAddress.getByName("93.184.216.34"), "host.example", NameSource.DNS_PTR,
                3600)), parse(v4));
        String v6 = "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa";
        assertEquals(InetAddress.getByName("2001:db8::1"), InetAddress.getByAddress(DnsResponseParser.reverse(v6)));
        assertNull(DnsResponseParser.reverse("1.2.3.in-addr.arpa"));
        assertNull(DnsResponseParser.reverse("300.2.3.4.in-addr.arpa"));
    }

    @Test
    void queriesGiveNothing() {
        byte[] q = response("www.example.com", 1, 0);
        q[2] = 0x01; // QR clear
        assertTrue(parse(q).isEmpty());
        assertEquals(0, p.responses());
    }

    @Test
    void pointerLoopsAndForwardPointersAreMalformedNotHangs() {
        // the answer's owner points to itself
        byte[] head = response("a.b", 1, 1);
        int at = head.length;
        byte[] self = {(byte) 0xc0, (byte) at};
        byte[] msg = Arrays.copyOf(head, head.length + 20);
        byte[] ans = rr(self, 1, 1, new byte[4]);
        System.arraycopy(ans, 0, msg, at, ans.length);
        assertTrue(parse(msg).isEmpty());
        assertEquals(1, p.malformed());
        // a question name pointing forward
        byte[] fwd = response("a.b", 1, 0);
        fwd[12] = (byte) 0xc0;
        fwd[13] = 14;
        assertTrue(parse(fwd).isEmpty());
        assertEquals(2, p.malformed());
    }

    @Test
    void randomAndCutMessagesNeverThrow() throws Exception {
        Random rnd = new Random(53);
        byte[] good = response("www.repubblica.it", 1, 2, rr(PTR_Q, 5, 60, name("a.edgekey.net")),
                rr(name("a.edgekey.net"), 1, 20, new byte[]{1, 2, 3, 4}));
        assertEquals(2, parse(good).size());
        for (int i = 0; i < 50_000; i++) {
            byte[] b = Arrays.copyOf(good, rnd.nextInt(good.length + 1));
            for (int k = rnd.nextInt(5); k > 0 && b.length > 0; k--) {
                b[rnd.nextInt(b.length)] = (byte) rnd.nextInt(256);
            }
            parse(b);
            byte[] r = new byte[rnd.nextInt(200)];
            rnd.nextBytes(r);
            if (r.length > 3) {
                r[2] |= (byte) 0x80;
            }
            parse(r);
        }
    }
}
