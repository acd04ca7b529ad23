package org.glouglou.server;

import java.nio.file.Files;
import java.nio.file.Path;
import org.glouglou.server.store.RedisTarget;
import org.glouglou.server.viz.ViewerServer;
import org.glouglou.server.viz.ViewerServerConfig;
import org.glouglou.server.viz.ViewerUsers;

/**
 * The server (ingest, no write budget to speak of) and its TLS viewer listener, both on a real Redis Cluster given by
 * its seed nodes, started; closed viewers first. For {@link RedisClusterIT} and {@link RedisClusterFailoverIT}.
 */
final class ClusterServers implements AutoCloseable {
    final IngestFixture fx = new IngestFixture();
    final GlouglouServer server;
    final ViewerServer viewers;
    final int port;

    ClusterServers(RedisClusterProcess cluster, Path users) throws Exception {
        ServerConfig c = ServerConfig.forTest("unused", fx.secrets, false, IngestFixture.SETTINGS).withRedisCluster(
                cluster.seeds());
        server = new GlouglouServer(c, fx.registry).redisKeysPerSecond(1_000_000);
        try {
            viewers = new ViewerServer(ViewerServerConfig.forTest(users, Files.createTempDirectory("gg-state"), false),
                    ViewerUsers.load(users), RedisTarget.parse(cluster.seeds(), true), fx.registry,
                    IngestFixture.SETTINGS.tickMillis());
        } catch (Exception | Error e) {
            server.close();
            throw e;
        }
        try {
            server.bind();
            server.start();
            port = viewers.bind().getPort();
            viewers.start();
        } catch (Exception | Error e) {
            close();
            throw e;
        }
    }

    /** A JSON viewer logged in as the users file's alice, its certificate pinned. */
    TestViewer viewer() throws Exception {
        return new TestViewer(port, viewers.fingerprint(), "json", null);
    }

    /** The web-browsing capture when it is shared, else the first of the others: a mid-sized replay. */
    static String webCapture() throws Exception {
        return GroundTruth.names().stream().filter(n -> n.startsWith("web_browsing")).findFirst().orElse(
                RedisClusterIT.captures().get(0));
    }

    @Override
    public void close() {
        viewers.close();
        server.close();
    }
}
