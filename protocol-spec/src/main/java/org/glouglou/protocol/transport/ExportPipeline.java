package org.glouglou.protocol.transport;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import org.glouglou.protocol.Payload;
import org.glouglou.protocol.PayloadBuilder;
import org.glouglou.spi.Event;
import org.glouglou.spi.EventSink;
import org.glouglou.spi.ModuleRegistry;

/**
 * Packs the sources' events into datagram payloads and queues them for the uplink. The queue is bounded: a live
 * capture never waits for the network (a payload that does not fit is dropped and counted), while a capture file,
 * which loses nothing by waiting, blocks its reader instead. The fill level is the backlog the sources read to
 * coalesce harder.
 */
public final class ExportPipeline implements EventSink {
    private final PayloadBuilder builder;
    private final BlockingQueue<Payload> queue;
    private final int capacity;
    private final boolean block;
    private final LongAdder eventsIn = new LongAdder();
    private final LongAdder enqueued = new LongAdder();
    private final LongAdder eventsDropped = new LongAdder();
    private final LongAdder payloadsDropped = new LongAdder();
    private volatile Consumer<Payload> dropListener = p -> {
    };

    /**
     * @param capacity payloads queued at most: 1024 x 1200 bytes stays near 1 MiB
     * @param block    wait for room instead of dropping (offline replay)
     */
    public ExportPipeline(ModuleRegistry registry, int maxDatagram, int capacity, boolean block) {
        this.builder = new PayloadBuilder(registry, maxDatagram, 1000);
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.capacity = capacity;
        this.block = block;
    }

    @Override
    public synchronized void emit(long timeMicros, Event event) {
        eventsIn.increment();
        if (!builder.add(timeMicros, event)) {
            enqueue(builder.take());
            builder.add(timeMicros, event);
        }
    }

    /**
     * Called with every payload dropped because the queue was full, on the thread that dropped it (a relay counts the
     * origin events its FORWARD records carried). Must be quick and must not call back into this pipeline.
     */
    public void onDrop(Consumer<Payload> listener) {
        this.dropListener = listener;
    }

    /** Queues what is built so far; called every tick so a quiet source's events still leave promptly. */
    public synchronized void flush() {
        if (!builder.isEmpty()) {
            enqueue(builder.take());
        }
    }

    private void enqueue(Payload p) {
        if (block) {
            try {
                queue.put(p);
                enqueued.increment();
                return;
            } catch (InterruptedException e) {
                // an interrupt asks the thread to stop, not to lose what it holds (a stop's last DELCONNs): one more
                // try without waiting before the payload counts as dropped
                Thread.currentThread().interrupt();
                if (queue.offer(p)) {
                    enqueued.increment();
                    return;
                }
            }
        } else if (queue.offer(p)) {
            enqueued.increment();
            return;
        }
        payloadsDropped.increment();
        eventsDropped.add(p.events());
        dropListener.accept(p);
    }

    /** The next payload to send, waiting at most {@code millis}; null if none. */
    public Payload poll(long millis) throws InterruptedException {
        return queue.poll(millis, TimeUnit.MILLISECONDS);
    }

    /** True when a full queue makes the producer wait (a capture file) instead of dropping (a live capture). */
    public boolean blocks() {
        return block;
    }

    /** Payloads queued since the start (not counting those dropped because the queue was full). */
    public long enqueued() {
        return enqueued.sum();
    }

    public int queued() {
        return queue.size();
    }

    /** 0 below a quarter full, then 1, 2, 3 at each further quarter. */
    public int backlog() {
        return Math.min(3, queue.size() * 4 / capacity);
    }

    public long eventsIn() {
        return eventsIn.sum();
    }

    public long eventsDropped() {
        return eventsDropped.sum();
    }

    public long payloadsDropped() {
        return payloadsDropped.sum();
    }
}
