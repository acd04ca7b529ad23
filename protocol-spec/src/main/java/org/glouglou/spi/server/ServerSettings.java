package org.glouglou.spi.server;

/**
 * What the processing server tells every module's server side at start: the tick at which writes are coalesced, the
 * idle times after which graph elements expire, so that all modules age their keys alike, and the mark horizon of
 * contributions (spec 5.8).
 *
 * @param tickMillis         writes are coalesced per key over this period
 * @param nodeTtlSeconds     a node (host) not seen for this long expires
 * @param linkTtlSeconds     a link (host pair) without traffic for this long expires
 * @param connTtlSeconds     an open connection without traffic for this long expires
 * @param markHorizonSeconds a closed contributor's mark is kept this long after it closed (and a closed connection's
 *                           key as long): longer than any copy of its events can still arrive
 * @param nameTtlSeconds     a name not seen again for this long expires
 * @param maxConnsPerBoot    connection ids remembered per probe boot; more are refused and counted
 */
public record ServerSettings(long tickMillis, long nodeTtlSeconds, long linkTtlSeconds, long connTtlSeconds,
        long markHorizonSeconds, long nameTtlSeconds, int maxConnsPerBoot) {

    /**
     * 100 ms: viewers see changes within a tenth of a second while bursts still coalesce. 300 s for nodes and links:
     * outlives a quiet minute, yet a dead host leaves the graph within minutes. 900 s for open connections: longer
     * than any probe's flow idle timeout, so an open flow's key (what another server reads to resolve its events)
     * never expires under it. 600 s mark horizon: ten times the probes' 60 s resend horizon (spec 5.8), so no copy of
     * a closed flow's events can arrive after its mark is gone. 3600 s for names: names are stable and rarely
     * re-resolved. 131072 connections per boot: a busy probe's flow table, at about 200 bytes each.
     */
    public static ServerSettings defaults() {
        return new ServerSettings(100, 300, 300, 900, 600, 3600, 131_072);
    }
}
