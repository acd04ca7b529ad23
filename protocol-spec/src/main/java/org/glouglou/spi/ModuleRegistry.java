package org.glouglou.spi;

import java.security.CodeSource;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import org.glouglou.protocol.internal.InternalModule;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The modules of this process: the protocol's internal module (id 0) plus every {@link GlouglouModule} found with
 * {@link ServiceLoader}. Refuses, at start-up, two modules with one id or name, and two codecs with one type code,
 * naming the jars of both.
 */
public final class ModuleRegistry {
    private static final Logger LOG = LoggerFactory.getLogger(ModuleRegistry.class);

    private final GlouglouModule[] byId = new GlouglouModule[256];
    private final EventCodec<?>[][] codecs = new EventCodec<?>[256][];
    private final Map<String, GlouglouModule> byName = new HashMap<>();
    private final List<GlouglouModule> modules = new ArrayList<>();

    /** Only the internal module: for tests and tools that want no plug-ins. */
    public static ModuleRegistry internalOnly() {
        return new ModuleRegistry(List.of());
    }

    /** The internal module plus the given ones, in order. */
    public ModuleRegistry(List<? extends GlouglouModule> plugins) {
        add(InternalModule.INSTANCE);
        for (GlouglouModule m : plugins) {
            add(m);
        }
    }

    /** Discovers plug-ins on the class path of {@code loader}. */
    public static ModuleRegistry load(ClassLoader loader) {
        List<GlouglouModule> found = new ArrayList<>();
        try {
            for (GlouglouModule m : ServiceLoader.load(GlouglouModule.class, loader)) {
                found.add(m);
            }
        } catch (ServiceConfigurationError e) {
            throw new IllegalStateException("cannot load a glouglou module: " + e.getMessage(), e);
        }
        found.sort((a, b) -> Integer.compare(a.id(), b.id()));
        ModuleRegistry r = new ModuleRegistry(found);
        for (GlouglouModule m : found) {
            LOG.info("module {} id {} version {} from {}: {} event types", m.name(), m.id(), m.version(),
                    origin(m.getClass()), m.codecs().size());
        }
        return r;
    }

    public static ModuleRegistry load() {
        return load(Thread.currentThread().getContextClassLoader());
    }

    private void add(GlouglouModule m) {
        int id = m.id();
        if (id < 0 || id > 255) {
            throw new IllegalStateException("module " + m.name() + " (" + origin(m.getClass()) + ") has id " + id
                    + ", outside 1..255");
        }
        if (id == 0 && m != InternalModule.INSTANCE) {
            throw new IllegalStateException("module " + m.name() + " (" + origin(m.getClass())
                    + ") claims id 0, which is reserved for the protocol");
        }
        GlouglouModule clash = byId[id];
        if (clash == null) {
            clash = byName.get(m.name());
        }
        if (clash != null) {
            throw new IllegalStateException("modules clash: " + describe(m) + " and " + describe(clash)
                    + " have the same id or name; remove one of the jars");
        }
        EventCodec<?>[] table = new EventCodec<?>[256];
        for (EventCodec<?> c : m.codecs()) {
            EventType t = c.type();
            if (t.moduleId() != id) {
                throw new IllegalStateException(describe(m) + ": codec " + t + " belongs to module " + t.moduleId());
            }
            if (table[t.code()] != null) {
                throw new IllegalStateException(describe(m) + ": two event types with code " + t.code() + ": "
                        + table[t.code()].type().name() + " and " + t.name());
            }
            table[t.code()] = c;
        }
        byId[id] = m;
        codecs[id] = table;
        byName.put(m.name(), m);
        modules.add(m);
    }

    private static String describe(GlouglouModule m) {
        return "'" + m.name() + "' (id " + m.id() + ", " + m.getClass().getName() + " in " + origin(m.getClass())
                + ")";
    }

    static String origin(Class<?> c) {
        CodeSource cs = c.getProtectionDomain().getCodeSource();
        return cs == null || cs.getLocation() == null ? "the runtime" : cs.getLocation().getPath();
    }

    /** The module with this id, or null. */
    public GlouglouModule module(int id) {
        return id < 0 || id > 255 ? null : byId[id];
    }

    public GlouglouModule moduleByName(String name) {
        return byName.get(name);
    }

    /** The codec of (module, type), or null when either is unknown. */
    public EventCodec<?> codec(int moduleId, int type) {
        if (moduleId < 0 || moduleId > 255 || type < 0 || type > 255) {
            return null;
        }
        EventCodec<?>[] t = codecs[moduleId];
        return t == null ? null : t[type];
    }

    public EventCodec<?> codec(EventType type) {
        EventCodec<?> c = codec(type.moduleId(), type.code());
        if (c == null) {
            throw new IllegalArgumentException("no codec registered for " + type);
        }
        return c;
    }

    public EventCodec<?> codec(int moduleId, String typeName) {
        EventCodec<?>[] t = moduleId < 0 || moduleId > 255 ? null : codecs[moduleId];
        if (t != null) {
            for (EventCodec<?> c : t) {
                if (c != null && c.type().name().equals(typeName)) {
                    return c;
                }
            }
        }
        return null;
    }

    /** The internal module first, then plug-ins by id. */
    public List<GlouglouModule> modules() {
        return Collections.unmodifiableList(modules);
    }
}
