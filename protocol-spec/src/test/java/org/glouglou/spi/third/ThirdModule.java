package org.glouglou.spi.third;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import java.util.List;
import org.glouglou.protocol.ProtocolException;
import org.glouglou.protocol.Varint;
import org.glouglou.spi.BaseEventCodec;
import org.glouglou.spi.Event;
import org.glouglou.spi.EventCodec;
import org.glouglou.spi.EventType;
import org.glouglou.spi.GlouglouModule;

/**
 * A third-party module as it would ship in its own jar: a temperature probe, id 77. Not registered on the test class
 * path: ThirdModuleJarTest packs it into a jar with its service entry, as a vendor would.
 */
public final class ThirdModule implements GlouglouModule {
    public static final EventType READING = new EventType(77, 1, "READING");

    /** A sensor reading in milli-degrees. */
    public record Reading(long sensor, long milliCelsius) implements Event {
        @Override
        public EventType type() {
            return READING;
        }
    }

    @Override
    public int id() {
        return 77;
    }

    @Override
    public String name() {
        return "thermal";
    }

    @Override
    public String version() {
        return "0.1";
    }

    @Override
    public List<EventCodec<?>> codecs() {
        return List.of(new BaseEventCodec<>(READING, Reading.class, 20) {
            @Override
            public void encode(Reading e, ByteBuf out) {
                Varint.write(out, e.sensor());
                Varint.writeSigned(out, e.milliCelsius());
            }

            @Override
            public Reading decode(ByteBuf in) throws ProtocolException {
                return new Reading(Varint.read(in), Varint.readSigned(in));
            }

            @Override
            public void writeJson(Reading e, ObjectNode node) {
                node.put("sensor", e.sensor()).put("milli_celsius", e.milliCelsius());
            }

            @Override
            public Reading readJson(ObjectNode node) {
                return new Reading(node.path("sensor").asLong(), node.path("milli_celsius").asLong());
            }
        });
    }
}
