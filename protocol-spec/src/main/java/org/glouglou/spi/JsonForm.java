package org.glouglou.spi;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The one JSON form of every event (spec section 6): an object with {@code module}, {@code type}, {@code time}
 * (microseconds since the epoch), {@code probe}, then the fields the module's codec writes.
 */
public final class JsonForm {
    public static final ObjectMapper MAPPER = new ObjectMapper();

    private JsonForm() {
    }

    public static ObjectNode toJson(ModuleRegistry registry, TimedEvent te) {
        EventType t = te.event().type();
        ObjectNode node = MAPPER.createObjectNode();
        node.put("module", registry.module(t.moduleId()).name());
        node.put("type", t.name());
        node.put("time", te.timeMicros());
        node.put("probe", te.probeId());
        registry.codec(t).writeJsonAny(te.event(), node);
        return node;
    }

    /** Reads the JSON form back into an event: inverse of {@link #toJson} for the event part. */
    public static TimedEvent fromJson(ModuleRegistry registry, ObjectNode node) {
        GlouglouModule m = registry.moduleByName(node.path("module").asText());
        if (m == null) {
            throw new IllegalArgumentException("unknown module " + node.path("module"));
        }
        EventCodec<?> codec = registry.codec(m.id(), node.path("type").asText());
        if (codec == null) {
            throw new IllegalArgumentException("unknown type " + node.path("type") + " in module " + m.name());
        }
        return new TimedEvent(node.path("probe").asLong(), node.path("time").asLong(), codec.readJson(node));
    }
}
