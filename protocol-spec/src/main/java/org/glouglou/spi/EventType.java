package org.glouglou.spi;

/**
 * One kind of event on the wire: the owning module's id and the type code within it (spec 3.2), and a name used in
 * JSON ({@code "type"}) and logs. Codes are explicit wire values, never ordinals.
 */
public record EventType(int moduleId, int code, String name) {
    public EventType {
        if (moduleId < 0 || moduleId > 255 || code < 1 || code > 255) {
            throw new IllegalArgumentException("module id must be 0..255 and type code 1..255: " + moduleId + "/"
                    + code);
        }
        if (name == null || !name.matches("[A-Z][A-Z0-9_]{0,31}")) {
            throw new IllegalArgumentException("event type name must be upper case: " + name);
        }
    }

    @Override
    public String toString() {
        return name + "(" + moduleId + "/" + code + ")";
    }
}
