package dev.freshcreds.bootstrap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import net.bytebuddy.jar.asm.ClassReader;
import net.bytebuddy.jar.asm.ClassWriter;
import net.bytebuddy.jar.asm.commons.ClassRemapper;
import net.bytebuddy.jar.asm.commons.Remapper;
import org.junit.jupiter.api.Test;

/**
 * The bridge in this test JVM (no agent: it is a plain class here). One hooks instance is
 * installed for the whole class, as the agent does once per JVM.
 */
class FreshcredsBridgeTest {
    static final AtomicInteger built = new AtomicInteger();
    static final AtomicInteger waits = new AtomicInteger();

    static {
        FreshcredsBridge.install(new Hooks() {
            @Override
            public Sdk sdkFor(Class<?> advised) {
                return new Sdk(c -> {
                    built.incrementAndGet();
                    return "sdk-object-for-" + c.accessKeyId();
                }, "hook", advised == StringBuilder.class);
            }

            @Override
            public Creds awaitCredentials() {
                waits.incrementAndGet();
                return null;
            }

            @Override
            public void invalidate() {}
        });
    }

    @Test
    void credentialsAreBuiltOncePerSetAndSdkCopy() {
        Creds c = new Creds("AKIAFIRSTKEY00000001", "secret", "token", 1, System.currentTimeMillis() + 60_000);
        FreshcredsBridge.publish(c);
        int before = built.get();
        Object a = FreshcredsBridge.credentials(Integer.class);
        assertSame(a, FreshcredsBridge.credentials(Integer.class), "the hot path reuses the built object");
        assertEquals(before + 1, built.get());
        FreshcredsBridge.publish(new Creds("AKIASECONDKEY0000002", "secret", "token", 2, System.currentTimeMillis() + 60_000));
        assertEquals("sdk-object-for-AKIASECONDKEY0000002", FreshcredsBridge.credentials(Integer.class));
    }

    @Test
    void expiredOrMissingCredentialsAskTheAgentAndFallThrough() {
        FreshcredsBridge.publish(new Creds("AKIAEXPIREDKEY000001", "secret", "token", 3, System.currentTimeMillis() - 1));
        int before = waits.get();
        assertNull(FreshcredsBridge.credentials(Long.class));
        FreshcredsBridge.publish(null);
        assertNull(FreshcredsBridge.credentials(Long.class));
        assertEquals(before + 2, waits.get());
    }

    @Test
    void onlyTheDefaultChainIsReplaced() {
        FreshcredsBridge.publish(new Creds("AKIACHAINKEY00000003", "secret", null, 4, System.currentTimeMillis() + 60_000));
        assertEquals("sdk-object-for-AKIACHAINKEY00000003", FreshcredsBridge.defaultChainCredentials(new StringBuilder()));
        assertNull(FreshcredsBridge.defaultChainCredentials("not the default chain"));
    }

    @Test
    void timeOffsetOnlyOnceMeasured() {
        FreshcredsBridge.clearOffset();
        assertEquals(7, FreshcredsBridge.timeOffset(7));
        FreshcredsBridge.publishOffset(-600);
        assertEquals(-600, FreshcredsBridge.timeOffset(7));
        FreshcredsBridge.clearOffset();
    }

    @Test
    void errorHookAddedOnce() {
        List<Object> l = new ArrayList<>();
        FreshcredsBridge.addErrorHook(Short.class, l);
        FreshcredsBridge.addErrorHook(Short.class, l);
        assertEquals(1, l.size());
        FreshcredsBridge.addErrorHook(Short.class, "not a list");
    }

    @Test
    void credsToStringShowsNoSecret() {
        String s = new Creds("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI", "the-token", 9, 0).toString();
        assertTrue(s.contains("AKIA…MPLE"), s);
        assertFalse(s.contains("wJalr") || s.contains("the-token"), s);
    }

    /** On the bootstrap class path only the JDK is visible: the bridge must name nothing else. */
    @Test
    void bridgeClassesNameOnlyJdkTypes() throws IOException {
        Path dir = Paths.get("target/classes/dev/freshcreds/bootstrap");
        TreeSet<String> foreign = new TreeSet<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                try (InputStream in = Files.newInputStream(f)) {
                    new ClassReader(in).accept(new ClassRemapper(new ClassWriter(0), new Remapper() {
                        @Override
                        public String map(String name) {
                            if (!name.startsWith("java/") && !name.startsWith("dev/freshcreds/bootstrap/")) {
                                foreign.add(name);
                            }
                            return name;
                        }
                    }), 0);
                }
            }
        }
        assertTrue(foreign.isEmpty(), "non-JDK types in the bridge: " + foreign);
    }
}
