package org.glouglou.probe.print;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import org.glouglou.spi.Event;
import org.glouglou.spi.EventSink;
import org.glouglou.spi.JsonForm;
import org.glouglou.spi.ModuleRegistry;
import org.glouglou.spi.TimedEvent;

/** {@code --print}: every event as one JSON object a line (spec section 6), instead of sending. */
public final class JsonLinePrinter implements EventSink, AutoCloseable {
    private final ModuleRegistry registry;
    private final long probeId;
    private final BufferedWriter out;
    private long lines;

    public JsonLinePrinter(ModuleRegistry registry, long probeId, OutputStream out) {
        this.registry = registry;
        this.probeId = probeId;
        this.out = new BufferedWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), 1 << 16);
    }

    @Override
    public synchronized void emit(long timeMicros, Event event) {
        try {
            out.write(JsonForm.toJson(registry, new TimedEvent(probeId, timeMicros, event)).toString());
            out.write('\n');
            lines++;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write to standard output", e);
        }
    }

    public synchronized void flush() {
        try {
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write to standard output", e);
        }
    }

    public synchronized long lines() {
        return lines;
    }

    @Override
    public void close() {
        flush();
    }
}
