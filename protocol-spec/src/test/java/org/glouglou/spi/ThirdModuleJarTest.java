package org.glouglou.spi;

import static org.junit.jupiter.api.Assertions.*;

import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import org.glouglou.protocol.DropReason;
import org.glouglou.protocol.PayloadBuilder;
import org.glouglou.protocol.ProtocolConstants;
import org.glouglou.protocol.RecordDecoder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 2: a third module is a jar on the class path and nothing else. The test packs a module class and its service
 * entry into a jar, loads it through a class loader that cannot see the class otherwise, and checks that the core
 * registers it, encodes, decodes and renders its events, and refuses a second jar that claims the same id, naming
 * both jars.
 */
class ThirdModuleJarTest {
    static final String PKG = "org.glouglou.spi.third.";

    /** Hides the third-party classes from the test class path, so they can only come from the jars. */
    static final class Hiding extends ClassLoader {
        Hiding(ClassLoader parent) {
            super(parent);
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            if (name.startsWith(PKG)) {
                throw new ClassNotFoundException(name);
            }
            return super.loadClass(name, resolve);
        }

        @Override
        public URL getResource(String name) {
            return name.startsWith("META-INF/services/") ? null : super.getResource(name);
        }

        @Override
        public java.util.Enumeration<URL> getResources(String name) throws IOException {
            return name.startsWith("META-INF/services/org.glouglou")
                    ? java.util.Collections.emptyEnumeration()
                    : super.getResources(name);
        }
    }

    /** A jar holding the given classes (with their nested classes) and a service entry for {@code module}. */
    static Path jar(Path dir, String name, String module, String... classes) throws IOException {
        Path jar = dir.resolve(name);
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
            out.putNextEntry(new JarEntry("META-INF/services/org.glouglou.spi.GlouglouModule"));
            out.write((module + "\n").getBytes(StandardCharsets.UTF_8));
            Path classes0 = Path.of(ThirdModuleJarTest.class.getProtectionDomain().getCodeSource().getLocation()
                    .getPath());
            for (String c : classes) {
                String prefix = c.replace('.', '/');
                try (var files = Files.list(classes0.resolve(prefix).getParent())) {
                    for (Path f : files.toList()) {
                        String fn = f.getFileName().toString();
                        String simple = prefix.substring(prefix.lastIndexOf('/') + 1);
                        if (fn.equals(simple + ".class") || fn.startsWith(simple + "$")) {
                            out.putNextEntry(new JarEntry(prefix.substring(0, prefix.lastIndexOf('/') + 1) + fn));
                            try (InputStream in = Files.newInputStream(f)) {
                                in.transferTo((OutputStream) out);
                            }
                        }
                    }
                }
            }
        }
        return jar;
    }

    @Test
    void aModuleJarOnTheClassPathIsRegisteredAndItsEventsTravel(@TempDir Path dir) throws Exception {
        Path jar = jar(dir, "thermal.jar", PKG + "ThirdModule", PKG + "ThirdModule");
        ClassLoader hidden = new Hiding(getClass().getClassLoader());
        assertThrows(ClassNotFoundException.class, () -> hidden.loadClass(PKG + "ThirdModule"));
        try (URLClassLoader loader = new URLClassLoader(new URL[]{jar.toUri().toURL()}, hidden)) {
            ModuleRegistry r = ModuleRegistry.load(loader);
            GlouglouModule m = r.moduleByName("thermal");
            assertNotNull(m, "the jar's module is registered");
            assertEquals(jar.toString(), m.getClass().getProtectionDomain().getCodeSource().getLocation().getPath(),
                    "its class comes from the jar");
            EventCodec<?> codec = r.codec(77, 1);
            Class<?> reading = loader.loadClass(PKG + "ThirdModule$Reading");
            Event e = (Event) reading.getConstructors()[0].newInstance(3L, -12_500L);

            PayloadBuilder b = new PayloadBuilder(r, ProtocolConstants.DEFAULT_MAX_DATAGRAM, 1000);
            assertTrue(b.add(1_000_000, e));
            ByteBuf d = b.finish(9, 0, 1, null);
            d.skipBytes(ProtocolConstants.HEADER_LENGTH);
            List<Event> got = new ArrayList<>();
            new RecordDecoder(r).decode(d, 1_000_000, new RecordDecoder.Listener() {
                @Override
                public void onEvent(long t, Event ev) {
                    got.add(ev);
                }

                @Override
                public void onSkipped(DropReason reason, String detail) {
                    fail(reason + " " + detail);
                }
            });
            assertEquals(List.of(e), got);
            assertEquals("{\"module\":\"thermal\",\"type\":\"READING\",\"time\":1000000,\"probe\":9,\"sensor\":3,"
                    + "\"milli_celsius\":-12500}", JsonForm.toJson(r, new TimedEvent(9, 1_000_000, e)).toString());
            assertNotNull(codec);

            // a receiver without the jar skips the record by its length and counts it
            List<DropReason> skipped = new ArrayList<>();
            PayloadBuilder b2 = new PayloadBuilder(r, 1200, 1000);
            b2.add(5, e);
            ByteBuf d2 = b2.finish(9, 0, 3, null);
            d2.skipBytes(ProtocolConstants.HEADER_LENGTH);
            new RecordDecoder(ModuleRegistry.internalOnly()).decode(d2, 5, new RecordDecoder.Listener() {
                @Override
                public void onEvent(long t, Event ev) {
                    fail("an unknown module's event must not be delivered");
                }

                @Override
                public void onSkipped(DropReason reason, String detail) {
                    skipped.add(reason);
                }
            });
            assertEquals(List.of(DropReason.UNKNOWN_MODULE), skipped);
        }
    }

    @Test
    void twoJarsClaimingOneIdAreRefusedNamingBoth(@TempDir Path dir) throws Exception {
        Path a = jar(dir, "thermal.jar", PKG + "ThirdModule", PKG + "ThirdModule");
        Path b = jar(dir, "other-vendor.jar", PKG + "ThirdModuleClash", PKG + "ThirdModuleClash");
        try (URLClassLoader loader = new URLClassLoader(new URL[]{a.toUri().toURL(), b.toUri().toURL()}, new Hiding(
                getClass().getClassLoader()))) {
            IllegalStateException ex = assertThrows(IllegalStateException.class, () -> ModuleRegistry.load(loader));
            assertTrue(ex.getMessage().contains("thermal.jar") && ex.getMessage().contains("other-vendor.jar"), ex
                    .getMessage());
        }
    }
}
