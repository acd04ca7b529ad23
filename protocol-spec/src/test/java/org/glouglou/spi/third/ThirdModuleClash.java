package org.glouglou.spi.third;

import java.util.List;
import org.glouglou.spi.EventCodec;
import org.glouglou.spi.GlouglouModule;

/** Another vendor's module that claims the same id as {@link ThirdModule}: start-up must refuse the pair. */
public final class ThirdModuleClash implements GlouglouModule {
    @Override
    public int id() {
        return 77;
    }

    @Override
    public String name() {
        return "thermal-other";
    }

    @Override
    public String version() {
        return "9";
    }

    @Override
    public List<EventCodec<?>> codecs() {
        return List.of();
    }
}
