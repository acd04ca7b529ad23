package org.glouglou.viz.gs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.glouglou.viz.text.Pipeline;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 6, desktop viewer under Xvfb (started here; skipped with a message when it is missing): against the real
 * pipeline replaying a capture, the viewer process's graph holds exactly Redis's hosts and host pairs, and its
 * screenshot is a real rendering (many colours, much drawn), not a blank window.
 */
class ViewerScreenshotIT {
    static Pipeline pipeline;
    static Process xvfb;
    static String display;

    @BeforeAll
    static void start() throws Exception {
        Assumptions.assumeTrue(new File("/usr/bin/Xvfb").canExecute() || onPath("Xvfb"),
                "Xvfb is not installed (apt-get install xvfb; .ci/run does): desktop viewer test skipped");
        display = ":" + (150 + (int) (ProcessHandle.current().pid() % 100));
        xvfb = new ProcessBuilder("Xvfb", display, "-screen", "0", "1400x900x24", "-nolisten", "tcp")
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        Thread.sleep(1000);
        Assumptions.assumeTrue(xvfb.isAlive(), "Xvfb " + display + " did not start: desktop viewer test skipped");
        pipeline = new Pipeline();
        assertEquals(0, pipeline.replay(Pipeline.capture("web_browsing__ntopng-e2e_test_01.pcap")));
    }

    static boolean onPath(String exe) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (new File(d, exe).canExecute()) {
                return true;
            }
        }
        return false;
    }

    @AfterAll
    static void stop() throws Exception {
        if (pipeline != null) {
            pipeline.close();
        }
        if (xvfb != null) {
            xvfb.destroy();
            xvfb.waitFor(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void screenshotShowsTheReplayedGraph() throws Exception {
        Path shot = pipeline.dir.resolve("shot.png");
        Path dump = pipeline.dir.resolve("graph.txt");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-cp", System.getProperty("java.class.path"), ViewerMain.class.getName()));
        cmd.addAll(List.of(pipeline.login("--screenshot", shot.toString(), "--after", "6", "--dump", dump
                .toString())));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(pipeline.dir.resolve(
                "viewer.log").toFile());
        pb.environment().put("DISPLAY", display);
        Process p = pb.start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "viewer exits after its screenshot");
        String log = Files.readString(pipeline.dir.resolve("viewer.log"));
        assertEquals(0, p.exitValue(), log);
        assertTrue(!log.contains("Exception"), "no stack trace: " + log);

        TreeSet<String> nodes = new TreeSet<>();
        TreeSet<String> edges = new TreeSet<>();
        for (String l : Files.readAllLines(dump)) {
            String[] f = l.split(" ");
            (f[0].equals("node") ? nodes : edges).add(f[1]);
        }
        assertEquals(pipeline.redisNodes(), nodes, "the viewer's nodes");
        assertEquals(pipeline.redisLinks().keySet(), edges, "the viewer's edges");

        BufferedImage img = ImageIO.read(shot.toFile());
        assertTrue(img.getWidth() >= 1000 && img.getHeight() >= 600, img.getWidth() + "x" + img.getHeight());
        Set<Integer> colours = new HashSet<>();
        int background = img.getRGB(img.getWidth() / 3, 60); // inside the graph panel, near its top edge
        long drawn = 0;
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                int c = img.getRGB(x, y);
                colours.add(c);
                if (c != background) {
                    drawn++;
                }
            }
        }
        assertTrue(colours.size() > 200, "anti-aliased nodes, edges, labels and legend: " + colours.size()
                + " colours");
        double share = (double) drawn / ((long) img.getWidth() * img.getHeight());
        assertTrue(share > 0.03, "drawn share of the picture: " + share);
        assertTrue(colours.contains(GraphStyler.REMOTE.getRGB()) || colours.stream().anyMatch(c -> near(c,
                GraphStyler.REMOTE.getRGB())), "remote hosts are drawn in their colour");
    }

    static boolean near(int a, int b) {
        int dr = ((a >> 16) & 255) - ((b >> 16) & 255);
        int dg = ((a >> 8) & 255) - ((b >> 8) & 255);
        int db = (a & 255) - (b & 255);
        return dr * dr + dg * dg + db * db < 300;
    }
}
