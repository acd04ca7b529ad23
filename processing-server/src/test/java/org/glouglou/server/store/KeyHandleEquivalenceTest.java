package org.glouglou.server.store;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.glouglou.server.GroundTruth;
import org.glouglou.spi.GlouglouModule;
import org.glouglou.spi.ModuleRegistry;
import org.glouglou.spi.server.ProbeContext;
import org.glouglou.spi.server.ServerSettings;
import org.glouglou.spi.server.ServerSide;
import org.glouglou.spi.server.StateWriter;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A module writing through {@link KeyCoalescer}'s key handles leaves exactly the copy that writing by key text
 * leaves. Every shared capture's events go through the modules' server sides twice, once into a copy that hands out
 * its fast handles and once behind a writer that only knows key text (the SPI's default handles); the writes drained
 * from both must be equal, with local expiry running in between.
 */
class KeyHandleEquivalenceTest {
    static List<String> captures() throws Exception {
        return GroundTruth.names();
    }

    /** A writer with the SPI's default handles: every operation by key text. */
    record ByText(KeyCoalescer c) implements StateWriter {
        @Override
        public void hset(String key, String field, String value) {
            c.hset(key, field, value);
        }

        @Override
        public void hset(String key, String field, long value) {
            c.hset(key, field, value);
        }

        @Override
        public void hsetIfAbsent(String key, String field, long value) {
            c.hsetIfAbsent(key, field, value);
        }

        @Override
        public void hsetIfAbsent(String key, String field, String value) {
            c.hsetIfAbsent(key, field, value);
        }

        @Override
        public void hmax(String key, String field, long value) {
            c.hmax(key, field, value);
        }

        @Override
        public void hmin(String key, String field, long value) {
            c.hmin(key, field, value);
        }

        @Override
        public void contribute(String key, String contributor, String[] fields, long[] values, boolean closed) {
            c.contribute(key, contributor, fields, values, closed);
        }

        @Override
        public void rate(String key, String rateField, String totalField) {
            c.rate(key, rateField, totalField);
        }

        @Override
        public boolean exists(String key) {
            return c.exists(key);
        }

        @Override
        public int fieldCount(String key) {
            return c.fieldCount(key);
        }

        @Override
        public void expire(String key, long ttlSeconds) {
            c.expire(key, ttlSeconds);
        }
    }

    record Ctx(long probeId, long boot, String probeName, Object[] holder) implements ProbeContext {
        @Override
        public Object state() {
            return holder[0];
        }

        @Override
        public void retryLater(String reason) {
        }
    }

    /** Runs the events and returns every write drained, in order, as text. */
    static List<String> run(List<GroundTruth.Timed> events, boolean handles) {
        KeyCoalescer c = new KeyCoalescer(1_000_000, 300, 1000);
        StateWriter out = handles ? c : new ByText(c);
        List<String> writes = new ArrayList<>();
        List<ServerSide> sides = new ArrayList<>();
        List<Ctx> ctxs = new ArrayList<>();
        List<Integer> ids = new ArrayList<>();
        for (GlouglouModule m : ModuleRegistry.load().modules()) {
            ServerSide s = m.serverSide();
            if (s != null) {
                ids.add(m.id());
                // short TTLs so keys expire (and come back) within the capture's events
                s.start(new ServerSettings(100, 3, 4, 2, 1, 5, 131_072));
                Ctx ctx = new Ctx(7, 42, "p", new Object[1]);
                ctx.holder()[0] = s.openStream(ctx);
                sides.add(s);
                ctxs.add(ctx);
            }
        }
        long now = 0;
        int i = 0;
        for (GroundTruth.Timed t : events) {
            c.lock().lock();
            try {
                // a simulated clock: 1 ms per event, a tick every 100 events, so keys expire mid-stream
                now = ++i;
                c.now(now);
                for (int k = 0; k < sides.size(); k++) {
                    if (t.event().type().moduleId() == ids.get(k)) {
                        sides.get(k).onEvent(ctxs.get(k), t.timeMicros(), t.event(), out);
                    }
                }
                if (i % 100 == 0) {
                    for (ServerSide s : sides) {
                        s.onTick(now, out);
                    }
                }
            } finally {
                c.lock().unlock();
            }
            if (i % 100 == 0) {
                c.lock().lock();
                try {
                    c.tick(now);
                } finally {
                    c.lock().unlock();
                }
                drain(c, writes);
            }
        }
        c.expireIdle(now);
        drain(c, writes);
        return writes;
    }

    /** Every write due, as text, answered as Redis would (so that keys may expire locally afterwards). */
    static void drain(KeyCoalescer c, List<String> writes) {
        for (KeyCoalescer.Write w : c.drainDirty(Integer.MAX_VALUE)) {
            writes.add(w.key() + " " + w.ttlSeconds() + " " + w.ops());
            for (int i = 0; i < w.calls(); i++) {
                c.done(w, true);
            }
        }
        c.confirm();
    }

    @ParameterizedTest
    @MethodSource("captures")
    void handlesLeaveTheSameCopyAsKeyText(String capture) throws Exception {
        GroundTruth truth = new GroundTruth(capture);
        List<GroundTruth.Timed> events = new ArrayList<>(truth.nameEvents());
        events.addAll(truth.events(0, truth.flows.size()));
        List<String> byText = run(events, false);
        List<String> byHandle = run(events, true);
        assertEquals(byText.size(), byHandle.size(), capture + ": writes");
        for (int i = 0; i < byText.size(); i++) {
            assertEquals(byText.get(i), byHandle.get(i), capture + ": write " + i);
        }
    }
}
