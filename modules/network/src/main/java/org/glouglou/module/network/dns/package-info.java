/** Names for addresses from DNS and mDNS responses seen on the wire (NAME events), with a bounded repeat filter. */
package org.glouglou.module.network.dns;
