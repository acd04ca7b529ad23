package org.glouglou.module.network.capture;

/**
 * Why a captured packet was not counted in a flow. Each has a stable lower-case counter name, reported in the probe's
 * STATS as {@code malformed_<label>} or as the label alone for packets that are fine but not ours.
 */
public enum DropReason {
    LINK_SHORT("malformed_link_short"), VLAN_SHORT("malformed_vlan_short"), IP_SHORT(
            "malformed_ip_short"), IP_VERSION("malformed_ip_version"), IPV4_HEADER_LENGTH(
                    "malformed_ipv4_header_length"), IPV4_TOTAL_LENGTH("malformed_ipv4_total_length"), IPV6_EXTENSION(
                            "malformed_ipv6_extension"), NON_IP("non_ip"), UNSUPPORTED_LINKTYPE(
                                    "unsupported_linktype"), EXPORT_TRAFFIC("export_excluded");

    public final String label;

    DropReason(String label) {
        this.label = label;
    }
}
