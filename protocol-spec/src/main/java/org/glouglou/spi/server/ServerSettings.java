package org.glouglou.spi.server;

/**
 * What the processing server tells every module's server side at start (issue 4): the tick at which writes are
 * coalesced and the idle times after which graph elements expire, so that all modules age their keys alike.
 *
 * @param tickMillis            writes are coalesced per key over this period
 * @param nodeTtlSeconds        a node (host) not seen for this long expires
 * @param linkTtlSeconds        a link (host pair) without traffic for this long expires
 * @param connTtlSeconds        a connection without traffic for this long expires
 * @param closedConnTtlSeconds  a closed connection stays visible this long, then expires
 * @param nameTtlSeconds        a name not seen again for this long expires
 * @param maxConnsPerSession    connection ids remembered per probe session; more are refused and counted
 */
public record ServerSettings(long tickMillis, long nodeTtlSeconds, long linkTtlSeconds, long connTtlSeconds,
        long closedConnTtlSeconds, long nameTtlSeconds, int maxConnsPerSession) {

    /**
     * 100 ms: viewers see changes within a tenth of a second while bursts still coalesce. 300 s for nodes and links:
     * outlives a probe's 1 s summaries and a quiet minute, yet a dead host leaves the graph within minutes. 120 s for
     * connections: longer than the probe's flow idle timeout so a live flow never blinks out. 10 s for closed ones:
     * a viewer sees the close before the element goes. 3600 s for names: names are stable and rarely re-resolved.
     * 131072 connections per session: a busy probe's flow table, at about 200 bytes each.
     */
    public static ServerSettings defaults() {
        return new ServerSettings(100, 300, 300, 120, 10, 3600, 131_072);
    }
}
