/**
 * Packet capture for the network module: capture files read in Java ({@link
 * org.glouglou.module.network.capture.CaptureFileReader}), live interfaces through libpcap ({@code LiveCapture}), one
 * decoder and pipeline for both.
 *
 * <p>
 * A flow is what {@code shared/pcaps/groundtruth/flows.py} counts from tshark's dissection, checked on every shared
 * capture by {@code NetworkGroundTruthIT}: the outer IP 5-tuple, direction-independent, IP-layer bytes. Three of its
 * consequences look odd and are deliberate: an IPv6 flow's protocol is the first next header (a hop-by-hop header makes
 * it protocol 0, ports 0); IPv4 fragments count to the datagram's addresses with ports 0 except the fragment that
 * completes the datagram, which gets the ports (tshark shows the reassembled transport header there); ICMP errors are
 * ICMP flows. One difference is kept on purpose: flows.py takes the inner header of IPv4-in-IPv6 (its {@code ip.src}
 * field is the inner one), against its own "tunnels are not opened"; this decoder keeps the outer IPv6 header.
 */
package org.glouglou.module.network.capture;
