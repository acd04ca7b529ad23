package org.glouglou.server;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.sync.RedisAdvancedClusterCommands;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import io.lettuce.core.api.sync.RedisCommands;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Set;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.glouglou.spi.testkit.RedisServerProcess;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real Redis Cluster for integration tests: {@code masters * (1 + replicas)} {@code redis-server --cluster-enabled
 * yes} processes on free loopback ports, joined with {@code redis-cli --cluster create ... --cluster-replicas R
 * --cluster-yes} (slots spread evenly over the masters), ready once every node reports {@code cluster_state:ok}.
 * Node timeout 2 s, so a killed master's replica is promoted within a few seconds. Static {@code @RegisterExtension}
 * field; killed after the class. Never touches a system Redis.
 */
final class RedisClusterProcess implements BeforeAllCallback, AfterAllCallback {
    private final int masters;
    private final int replicas;
    private final Set<Integer> killed = new HashSet<>();
    private final Map<Integer, RedisClient> nodeClients = new HashMap<>();
    private final Map<Integer, StatefulRedisConnection<String, String>> nodes = new HashMap<>();
    private final List<Integer> ports = new ArrayList<>();
    private final List<Process> processes = new ArrayList<>();
    private final List<ProcessBuilder> commands = new ArrayList<>();
    private Path dir;
    private RedisClusterClient client;
    private StatefulRedisClusterConnection<String, String> connection;

    RedisClusterProcess(int masters) {
        this(masters, 0);
    }

    RedisClusterProcess(int masters, int replicas) {
        this.masters = masters;
        this.replicas = replicas;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        dir = Files.createTempDirectory("gg-redis-cluster");
        for (int i = 0; i < masters * (1 + replicas); i++) {
            int port = RedisServerProcess.freePort();
            // the cluster bus listens on port + 10000: both must be free
            while (port > 55_535 || ports.contains(port) || !free(port + 10_000)) {
                port = RedisServerProcess.freePort();
            }
            ports.add(port);
            Path d = Files.createDirectories(dir.resolve(String.valueOf(port)));
            ProcessBuilder b = new ProcessBuilder("redis-server", "--port", String.valueOf(port), "--bind",
                    "127.0.0.1", "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                    "--cluster-node-timeout", "2000", "--save", "", "--appendonly", "no", "--dir", d.toString())
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(d.resolve("redis.log")
                            .toFile()));
            commands.add(b);
            processes.add(b.start());
        }
        for (int port : ports) {
            waitFor(() -> RedisServerProcess.answersPing(port), 10_000,
                    "redis-server on port " + port + " did not answer PING");
        }
        List<String> cmd = new ArrayList<>(List.of("redis-cli", "--cluster", "create"));
        ports.forEach(p -> cmd.add("127.0.0.1:" + p));
        cmd.add("--cluster-replicas");
        cmd.add(String.valueOf(replicas));
        cmd.add("--cluster-yes");
        Process create = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(create.getInputStream().readAllBytes());
        if (!create.waitFor(30, TimeUnit.SECONDS) || create.exitValue() != 0) {
            throw new IllegalStateException("redis-cli --cluster create failed: " + out);
        }
        for (int port : ports) {
            waitFor(() -> info(port).contains("cluster_state:ok"), 20_000, "node " + port
                    + " never reported cluster_state:ok");
        }
        waitFor(() -> masterPorts().size() == masters, 20_000, masters + " masters");
        for (int port : ports) {
            if (!masterPorts().contains(port)) {
                waitFor(() -> node(port).info("replication").contains("master_link_status:up"), 20_000, "replica "
                        + port + " in sync");
            }
        }
    }

    private static boolean free(int port) {
        try (java.net.ServerSocket s = new java.net.ServerSocket(port, 1, java.net.InetAddress
                .getLoopbackAddress())) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private interface Check {
        boolean ok() throws Exception;
    }

    private static void waitFor(Check c, long millis, String what) throws Exception {
        long deadline = System.currentTimeMillis() + millis;
        while (System.currentTimeMillis() < deadline) {
            if (c.ok()) {
                return;
            }
            Thread.sleep(50);
        }
        throw new IllegalStateException(what + " within " + millis + " ms");
    }

    /** CLUSTER INFO of one node, through redis-cli (no client state to manage). */
    static String info(int port) throws Exception {
        Process p = new ProcessBuilder("redis-cli", "-p", String.valueOf(port), "cluster", "info")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor(5, TimeUnit.SECONDS);
        return out;
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (connection != null) {
            connection.close();
        }
        nodes.values().forEach(StatefulRedisConnection::close);
        nodeClients.values().forEach(c -> c.shutdown(Duration.ZERO, Duration.ofSeconds(1)));
        if (client != null) {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(1));
        }
        for (Process p : processes) {
            p.destroyForcibly();
        }
        for (Process p : processes) {
            try {
                p.waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    List<Integer> ports() {
        return List.copyOf(ports);
    }

    /** Every node as a seed list, {@code redis://127.0.0.1:P1,redis://127.0.0.1:P2,...} (the --redis syntax). */
    String seeds() {
        return ports.stream().map(p -> "redis://127.0.0.1:" + p).collect(Collectors.joining(","));
    }

    /** A cluster-wide synchronous API for assertions (SCAN covers every master, commands routed by slot). */
    RedisAdvancedClusterCommands<String, String> sync() {
        if (client == null) {
            client = RedisClusterClient.create(RedisURI.create("redis://127.0.0.1:" + ports.get(0)));
            client.setOptions(io.lettuce.core.cluster.ClusterClientOptions.builder().topologyRefreshOptions(
                    io.lettuce.core.cluster.ClusterTopologyRefreshOptions.builder().enablePeriodicRefresh(Duration
                            .ofSeconds(1)).build())
                    .build());
            connection = client.connect();
        }
        return connection.sync();
    }

    /** The cluster's topology as the assertion client sees it. */
    io.lettuce.core.cluster.models.partitions.Partitions partitions() {
        sync();
        return client.getPartitions();
    }

    /** A connection to one node itself (not routed), kept for the class. */
    synchronized RedisCommands<String, String> node(int port) {
        StatefulRedisConnection<String, String> c = nodes.get(port);
        if (c == null) {
            RedisClient client = RedisClient.create(RedisURI.create("redis://127.0.0.1:" + port));
            nodeClients.put(port, client);
            c = client.connect();
            nodes.put(port, c);
        }
        return c.sync();
    }

    /** Nodes still running. */
    List<Integer> alive() {
        return ports.stream().filter(p -> !killed.contains(p)).toList();
    }

    /** Running nodes that are masters now (ROLE). */
    List<Integer> masterPorts() {
        return alive().stream().filter(p -> "master".equals(String.valueOf(node(p).role().get(0)))).toList();
    }

    /** Kills one node (SIGKILL, like a crash). */
    void kill(int port) throws InterruptedException {
        Process p = processes.get(ports.indexOf(port));
        killed.add(port);
        p.destroyForcibly();
        p.waitFor(5, TimeUnit.SECONDS);
        StatefulRedisConnection<String, String> c = nodes.remove(port);
        if (c != null) {
            c.close();
        }
    }

    /**
     * Starts a killed node again on its port, EMPTY (no persistence) but with its nodes.conf: it rejoins the cluster
     * with its node id (and its slots, unless a replica took them over); waits until every running node reports
     * cluster_state:ok.
     */
    void restart(int port) throws Exception {
        int i = ports.indexOf(port);
        processes.set(i, commands.get(i).start());
        killed.remove(port);
        waitFor(() -> RedisServerProcess.answersPing(port), 10_000,
                "redis-server on port " + port + " did not answer PING");
        for (int p : alive()) {
            waitFor(() -> info(p).contains("cluster_state:ok"), 20_000, "node " + p + " cluster_state:ok");
        }
    }

    /** FLUSHALL on every master. */
    void flushAll() {
        for (int port : masterPorts()) {
            node(port).flushall();
        }
    }

    /**
     * What {@code read} finds on each running master, read on the master itself (SCAN and HGETALL there), merged:
     * the cluster's content without relying on the client's topology.
     */
    <T> T merged(java.util.function.Function<RedisCommands<String, String>, T> read,
            java.util.function.BinaryOperator<T> merge) {
        T all = null;
        for (int port : masterPorts()) {
            T one = read.apply(node(port));
            all = all == null ? one : merge.apply(all, one);
        }
        return all;
    }

    /** Hosts in the cluster, read on each master itself. */
    Set<String> hosts() {
        return merged(GroundTruth::hosts, (a, b) -> {
            Set<String> m = new java.util.TreeSet<>(a);
            m.addAll(b);
            return m;
        });
    }

    /** Host pairs with their totals, read on each master itself. */
    Map<String, GroundTruth.LinkTotals> links() {
        return merged(GroundTruth::links, (a, b) -> {
            Map<String, GroundTruth.LinkTotals> m = new java.util.TreeMap<>(a);
            m.putAll(b);
            return m;
        });
    }

    /**
     * Waits up to {@code wait} ms for the cluster to hold exactly {@code hosts} and {@code links} (read on each master),
     * then asserts it.
     */
    void awaitHolds(Set<String> hosts, Map<String, GroundTruth.LinkTotals> links, String what, long wait)
            throws InterruptedException {
        IngestFixture.waitFor(() -> links().equals(links) && hosts().equals(hosts), wait);
        GroundTruth.assertSame(hosts, hosts(), what + ": hosts");
        GroundTruth.assertSame(links, links(), what + ": links with per-direction totals");
    }

    /** Keys under {@code prefix} held by each running master (port to count), read on the node itself. */
    Map<Integer, Long> keysPerNode(String prefix) {
        Map<Integer, Long> m = new LinkedHashMap<>();
        for (int port : masterPorts()) {
            m.put(port, (long) GroundTruth.scan(node(port), prefix + "*").size());
        }
        return m;
    }

    /**
     * Which of the K, h and x keyspace-notification flags {@code f} (a node's notify-keyspace-events) lacks: "" when
     * the node publishes what the viewers need ('A' stands for every event class, never for K).
     */
    static String missingNotifyFlags(String f) {
        StringBuilder missing = new StringBuilder();
        for (char c : "Khx".toCharArray()) {
            if (f == null || f.indexOf(c) < 0 && (c == 'K' || f.indexOf('A') < 0)) {
                missing.append(c);
            }
        }
        return missing.toString();
    }

    /** notify-keyspace-events of each running node, masters and replicas. */
    Map<Integer, String> notifyFlags() {
        Map<Integer, String> m = new LinkedHashMap<>();
        for (int port : alive()) {
            m.put(port, node(port).configGet("notify-keyspace-events").get("notify-keyspace-events"));
        }
        return m;
    }
}
