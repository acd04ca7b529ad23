package org.glouglou.server.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.glouglou.module.network.FlowKey;
import org.glouglou.module.network.NetworkEvents;
import org.glouglou.protocol.session.ProbeSecrets;
import org.glouglou.server.FakeProbe;
import org.glouglou.spi.ModuleRegistry;

/**
 * Ingest load generator (figures only: no test asserts speed). Pretends to be K probes, each with its own sealed
 * session ({@code ProbeSession} through {@link FakeProbe}) and UDP socket, spread over T sending threads, and sends a
 * DATA-heavy mix to one or more running servers over loopback (probe i to server i mod N, as several servers sharing
 * one Redis would share the probes): every flow gets one DATA per pass (cumulative counts, spec 4.1), and a share of
 * the flows close (DELCONN with totals) and reopen under a new id (NEWCONN) each second. Counts delivered events and
 * Redis writes from the servers' own metrics endpoints (summed), and the CPU of the generator, the servers and Redis
 * over the window.
 *
 * <pre>
 * IngestBench --make-secrets K FILE          writes K probe secrets (ids 1..K) for the servers' --secrets
 * IngestBench --server 127.0.0.1:P[,127.0.0.1:P2...] --secrets FILE --metrics http://127.0.0.1:M/metrics[,...]
 *             --probes K --flows F --threads T --rate R (events/s, 0 = as fast as the sockets take) --warmup S
 *             --seconds S [--server-pid PID[,PID2...] --redis-pid PID] [--label TEXT]
 * </pre>
 *
 * scripts/bench-ingest.sh starts Redis, the servers and this generator, and redis-benchmark on the same Redis.
 */
public final class IngestBench {
    /** Share of flows that close and reopen per second: a busy network's churn, still DATA-heavy. */
    static final double CHURN_PER_SECOND = 0.02;

    public static void main(String[] args) throws Exception {
        if (args.length == 3 && args[0].equals("--make-secrets")) {
            StringBuilder b = new StringBuilder();
            for (int i = 1; i <= Integer.parseInt(args[1]); i++) {
                b.append(ProbeSecrets.newLine(i, "bench-" + i)).append('\n');
            }
            Files.writeString(Path.of(args[2]), b);
            return;
        }
        Map<String, String> a = BenchOptions.parse(args, Map.of("--probes", "8", "--flows", "10000", "--threads", "2",
                "--rate", "500000", "--warmup", "5", "--seconds", "15", "--label", ""));
        List<InetSocketAddress> servers = new ArrayList<>();
        for (String s : a.get("--server").split(",")) {
            String[] hp = s.split(":");
            servers.add(new InetSocketAddress(hp[0], Integer.parseInt(hp[1])));
        }
        List<URI> metrics = new ArrayList<>();
        for (String m : a.get("--metrics").split(",")) {
            metrics.add(URI.create(m));
        }
        int probes = Integer.parseInt(a.get("--probes"));
        int flows = Integer.parseInt(a.get("--flows"));
        int threads = Math.min(probes, Integer.parseInt(a.get("--threads")));
        long rate = Long.parseLong(a.get("--rate"));
        int warmup = Integer.parseInt(a.get("--warmup"));
        int seconds = Integer.parseInt(a.get("--seconds"));

        Map<Long, byte[]> secrets = new HashMap<>();
        for (String line : Files.readAllLines(Path.of(a.get("--secrets")))) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 2 && !line.startsWith("#")) {
                secrets.put(Long.parseLong(f[0]), Base64.getDecoder().decode(f[1]));
            }
        }
        ModuleRegistry registry = ModuleRegistry.load();
        List<Sender> senders = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            senders.add(new Sender(rate / threads));
        }
        for (int p = 1; p <= probes; p++) {
            FakeProbe probe = connect(registry, p, secrets.get((long) p), servers.get((p - 1) % servers.size()));
            probe.keepSent(false);
            senders.get((p - 1) % threads).add(new ProbeLoad(probe, p, flows / probes));
        }
        for (Sender s : senders) {
            s.open();
        }
        for (Sender s : senders) {
            s.start();
        }
        Thread.sleep(warmup * 1000L);

        long[] cpu0 = cpu(a);
        Map<String, Double> m0 = scrape(metrics);
        long sent0 = sent(senders);
        long t0 = System.nanoTime();
        Thread.sleep(seconds * 1000L);
        long sent1 = sent(senders);
        long t1 = System.nanoTime();
        Map<String, Double> m1 = scrape(metrics);
        long[] cpu1 = cpu(a);
        for (Sender s : senders) {
            s.running = false;
        }
        for (Sender s : senders) {
            s.join();
        }
        double secs = (t1 - t0) / 1e9;
        double sentRate = (sent1 - sent0) / secs;
        double delivered = delta(m0, m1, "glouglou_server_events_total{outcome=\"delivered\"}") / secs;
        double keys = delta(m0, m1, "glouglou_server_keys_written_total") / secs;
        double cmds = delta(m0, m1, "glouglou_server_redis_commands_total{outcome=\"ok\"}") / secs;
        double deferred = delta(m0, m1, "glouglou_server_keys_deferred_total") / secs;
        double accepted = delta(m0, m1, "glouglou_server_datagrams_total{outcome=\"accepted\"}") / secs;
        double ticks = 1000.0 / 100;
        double[] share = new double[3];
        for (int i = 0; i < 3; i++) {
            share[i] = cpu1[i] < 0 || cpu0[i] < 0 ? -1 : (cpu1[i] - cpu0[i]) / 1e9 / secs * 100;
        }
        System.out.printf("RESULT label=%s servers=%d probes=%d flows=%d target=%d sent=%.0f delivered=%.0f"
                + " datagrams=%.0f keys=%.0f cmds=%.0f deferred_per_tick=%.0f dirty=%.0f cpu_gen=%.0f cpu_server=%.0f"
                + " cpu_redis=%.0f%n", a.get("--label"), servers.size(), probes, flows, rate, sentRate, delivered,
                accepted, keys, cmds, deferred / ticks,
                m1.getOrDefault("glouglou_server_store_dirty_keys", -1.0), share[0], share[1], share[2]);
        System.out.printf("  sent %,.0f events/s by %d probes (%d threads, %d flows, %.0f%% churn/s); delivered %,.0f"
                + " events/s (%.1f%%), %,.0f datagrams/s%n", sentRate, probes, threads, flows, CHURN_PER_SECOND * 100,
                delivered, 100 * delivered / Math.max(1, sentRate), accepted);
        System.out.printf("  Redis: %,.0f keys/s written, %,.0f commands/s (%.3f commands per event); deferred %,.0f"
                + " keys per tick on average%n", keys, cmds, cmds / Math.max(1, delivered), deferred / ticks);
        System.out.printf("  CPU (%% of one core over the window): generator %.0f, server %.0f, redis %.0f%n", share[0],
                share[1], share[2]);
        for (Sender s : senders) {
            s.close();
        }
    }

    /** Handshake, retried: on a loaded box a late CHALLENGE may answer a HELLO that was already sent again. */
    static FakeProbe connect(ModuleRegistry registry, long id, byte[] secret, InetSocketAddress server)
            throws Exception {
        for (int attempt = 1;; attempt++) {
            FakeProbe p = new FakeProbe(registry, id, secret, server);
            try {
                return p.connect();
            } catch (Exception e) {
                p.close();
                if (attempt == 20) {
                    throw e;
                }
                Thread.sleep(200); // the server may still be working off the previous run's backlog
            }
        }
    }

    /** Generator, servers (summed) and Redis CPU time in ns (-1 when unknown). */
    static long[] cpu(Map<String, String> a) {
        long self = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
        long servers = 0;
        String pids = a.get("--server-pid");
        if (pids == null) {
            servers = -1;
        } else {
            for (String pid : pids.split(",")) {
                long c = procCpu(pid);
                if (c < 0) {
                    servers = -1;
                    break;
                }
                servers += c;
            }
        }
        return new long[]{self, servers, procCpu(a.get("--redis-pid"))};
    }

    static long procCpu(String pid) {
        if (pid == null) {
            return -1;
        }
        try {
            String stat = Files.readString(Path.of("/proc", pid, "stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            // utime and stime are fields 14 and 15 of stat, in clock ticks (100 per second on Linux)
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10_000_000L;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    static long sent(List<Sender> senders) {
        long n = 0;
        for (Sender s : senders) {
            n += s.sent.get();
        }
        return n;
    }

    static double delta(Map<String, Double> m0, Map<String, Double> m1, String name) {
        return m1.getOrDefault(name, 0.0) - m0.getOrDefault(name, 0.0);
    }

    /** The servers' metrics in the Prometheus text format, summed: series (name with labels) to value. */
    static Map<String, Double> scrape(List<URI> uris) throws Exception {
        Map<String, Double> m = new HashMap<>();
        for (URI uri : uris) {
            try (java.io.InputStream in = uri.toURL().openStream()) {
                for (String line : new String(in.readAllBytes()).split("\n")) {
                    if (line.isEmpty() || line.startsWith("#")) {
                        continue;
                    }
                    int sp = line.lastIndexOf(' ');
                    m.merge(line.substring(0, sp), Double.parseDouble(line.substring(sp + 1)), Double::sum);
                }
            }
        }
        return m;
    }

    /** One probe's flows: conn ids, open flows and their totals for DELCONN. */
    static final class ProbeLoad {
        final FakeProbe probe;
        final int probeIndex;
        final long[] ids;
        final FlowKey[] keys;
        /** DATA events sent per flow: the cumulative counts are this many times one packet each way. */
        final long[] pkts;
        long nextId;

        ProbeLoad(FakeProbe probe, int probeIndex, int flows) {
            this.probe = probe;
            this.probeIndex = probeIndex;
            this.ids = new long[flows];
            this.keys = new FlowKey[flows];
            this.pkts = new long[flows];
        }

        /** NEWCONN for slot i under a fresh id: 10.P.x.y talking to one of 200 servers, like a probe's LAN. */
        int open(int i, long tMicros) throws Exception {
            long id = ++nextId;
            ids[i] = id;
            pkts[i] = 0;
            byte[] src = {10, (byte) probeIndex, (byte) (id >> 8), (byte) id};
            byte[] dst = {(byte) 172, 16, 0, (byte) (id % 200)};
            keys[i] = new FlowKey(6, InetAddress.getByAddress(src), 1024 + (int) (id % 50_000), InetAddress
                    .getByAddress(dst), 443);
            probe.add(tMicros, new NetworkEvents.NewConn(id, keys[i]));
            return 1;
        }

        int data(int i, long tMicros) throws Exception {
            long n = ++pkts[i];
            probe.add(tMicros, new NetworkEvents.Data(ids[i], n, n * 100, n, n * 1400, null));
            return 1;
        }

        int close(int i, long tMicros) throws Exception {
            long n = pkts[i];
            probe.add(tMicros, new NetworkEvents.DelConn(ids[i], NetworkEvents.Reason.FIN, n, n * 100, n, n * 1400,
                    null));
            return 1;
        }
    }

    /** One sending thread: round-robin over its probes' flows, paced in 1 ms slices. */
    static final class Sender extends Thread {
        final List<ProbeLoad> loads = new ArrayList<>();
        final long rate;
        final AtomicLong sent = new AtomicLong();
        volatile boolean running = true;

        Sender(long rate) {
            super("sender");
            this.rate = rate;
            setDaemon(true);
        }

        void add(ProbeLoad l) {
            loads.add(l);
        }

        void open() throws Exception {
            long t = FakeProbe.nowMicros();
            for (ProbeLoad l : loads) {
                for (int i = 0; i < l.ids.length; i++) {
                    l.open(i, t);
                    if (i % 400 == 399) {
                        l.probe.flush();
                        Thread.sleep(1); // the socket buffer must not overflow while flows open
                    }
                }
                l.probe.flush();
            }
        }

        @Override
        public void run() {
            try {
                long start = System.nanoTime();
                long n = 0;
                int[] cursor = new int[loads.size()];
                double churnDebt = 0;
                long lastNanos = start;
                int li = 0;
                while (running) {
                    long now = System.nanoTime();
                    long due = rate == 0 ? n + 2000 : (now - start) * rate / 1_000_000_000L;
                    long t = FakeProbe.nowMicros();
                    int total = 0;
                    for (ProbeLoad l : loads) {
                        total += l.ids.length;
                    }
                    churnDebt += total * CHURN_PER_SECOND * (now - lastNanos) / 1e9;
                    lastNanos = now;
                    while (n < due) {
                        ProbeLoad l = loads.get(li);
                        int i = cursor[li];
                        if (churnDebt >= 1) {
                            churnDebt--;
                            n += l.close(i, t);
                            n += l.open(i, t);
                        } else {
                            n += l.data(i, t);
                        }
                        cursor[li] = (i + 1) % l.ids.length;
                        li = (li + 1) % loads.size();
                    }
                    sent.set(n);
                    for (ProbeLoad l : loads) {
                        l.probe.flush(); // a probe sends at least once per slice, as its export tick would
                    }
                    if (rate != 0) {
                        LockSupport.parkNanos(1_000_000); // sleep, never spin: the server needs the CPU
                    }
                }
                for (ProbeLoad l : loads) {
                    l.probe.flush();
                }
            } catch (Exception e) {
                e.printStackTrace();
            }
        }

        void close() {
            for (ProbeLoad l : loads) {
                l.probe.close();
            }
        }
    }
}
