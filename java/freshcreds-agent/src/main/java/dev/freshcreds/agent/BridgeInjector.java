package dev.freshcreds.agent;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.instrument.Instrumentation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.security.ProtectionDomain;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarInputStream;

/**
 * Puts the bridge ({@code dev.freshcreds.bootstrap}, a nested jar in the agent jar) into the
 * bootstrap class loader, so every class loader resolves it to the same classes. Runs in
 * {@code premain}, before the application's main, so a copy of the library that the
 * application ships finds the bridge from its first call.
 *
 * <p>First choice: define the six classes in the bootstrap loader directly, through the JDK's
 * internal {@code Unsafe.defineClass}, its package exported to this module with
 * {@link Instrumentation}'s {@code redefineModule} (Java 9+; {@code sun.misc.Unsafe} on Java 8):
 * about a millisecond. Appending a jar to the bootstrap class path instead
 * ({@link Instrumentation#appendToBootstrapClassLoaderSearch}) makes HotSpot give up class-data
 * sharing for every application and platform class loaded afterwards and print "Sharing is
 * only supported for boot loader classes because bootstrap classpath has been appended" on
 * the application's stderr; it is the fallback for a JVM where the first way fails. Written
 * by hand: ByteBuddy's {@code ClassInjector.UsingUnsafe} does the same but loads some 650 of
 * its classes to get there (0.6 s of start-up, measured), and no public API defines a class in
 * the bootstrap loader.
 */
final class BridgeInjector {
    static final String BRIDGE = "dev.freshcreds.bootstrap.FreshcredsBridge";
    private static final String RESOURCE = "freshcreds-bootstrap.jar";

    private BridgeInjector() {}

    /** @return whether the bridge is in the bootstrap loader */
    static boolean present() {
        try {
            Class.forName(BRIDGE, false, null);
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /**
     * Installs the bridge unless it is there already.
     *
     * @param inst the instrumentation
     * @return how: "present", "defined" or "appended"
     * @throws IOException when the nested jar is missing or neither way works
     */
    static String install(Instrumentation inst) throws IOException {
        if (present()) {
            return "present";
        }
        Map<String, byte[]> classes = readClasses();
        try {
            define(inst, classes);
            if (present()) {
                return "defined";
            }
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            AgentLog.fine("defining the bridge in the bootstrap loader failed; appending its jar instead", e);
        }
        append(inst);
        return "appended";
    }

    /**
     * Defines the classes in the bootstrap loader (a null loader). Reflection throughout: the
     * agent compiles for Java 8, where {@code Module} and {@code redefineModule} do not exist,
     * and the Unsafe classes are not API.
     */
    private static void define(Instrumentation inst, Map<String, byte[]> classes) throws ReflectiveOperationException {
        Object unsafe;
        Method defineClass;
        try {
            Class<?> moduleType = Class.forName("java.lang.Module");
            Method getModule = Class.class.getMethod("getModule");
            Object javaBase = getModule.invoke(Object.class);
            Object agent = getModule.invoke(BridgeInjector.class);
            Instrumentation.class.getMethod("redefineModule", moduleType, java.util.Set.class, Map.class, Map.class,
                    java.util.Set.class, Map.class)
                    .invoke(inst, javaBase, Collections.emptySet(),
                            Collections.singletonMap("jdk.internal.misc", Collections.singleton(agent)),
                            Collections.emptyMap(), Collections.emptySet(), Collections.emptyMap());
            Class<?> type = Class.forName("jdk.internal.misc.Unsafe");
            unsafe = type.getMethod("getUnsafe").invoke(null);
            defineClass = type.getMethod("defineClass", String.class, byte[].class, int.class, int.class,
                    ClassLoader.class, ProtectionDomain.class);
        } catch (ClassNotFoundException java8) {
            Class<?> type = Class.forName("sun.misc.Unsafe");
            Field f = type.getDeclaredField("theUnsafe");
            f.setAccessible(true);
            unsafe = f.get(null);
            defineClass = type.getMethod("defineClass", String.class, byte[].class, int.class, int.class,
                    ClassLoader.class, ProtectionDomain.class);
        }
        for (Map.Entry<String, byte[]> e : classes.entrySet()) {
            byte[] b = e.getValue();
            defineClass.invoke(unsafe, e.getKey(), b, 0, b.length, null, null);
        }
    }

    /** The bridge's class files, by binary name. */
    private static Map<String, byte[]> readClasses() throws IOException {
        Map<String, byte[]> out = new LinkedHashMap<>();
        try (InputStream raw = resource(); JarInputStream jar = new JarInputStream(raw)) {
            for (JarEntry e; (e = jar.getNextJarEntry()) != null; ) {
                String n = e.getName();
                if (n.endsWith(".class")) {
                    out.put(n.substring(0, n.length() - ".class".length()).replace('/', '.'), drain(jar));
                }
            }
        }
        if (!out.containsKey(BRIDGE)) {
            throw new IOException(RESOURCE + " in the agent jar holds no " + BRIDGE + "; rebuild the agent");
        }
        return out;
    }

    private static InputStream resource() throws IOException {
        InputStream in = BridgeInjector.class.getResourceAsStream(RESOURCE);
        if (in == null) {
            throw new IOException(RESOURCE + " is missing from the agent jar; rebuild the agent");
        }
        return in;
    }

    private static byte[] drain(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        for (int n; (n = in.read(buf)) > 0; ) {
            out.write(buf, 0, n);
        }
        return out.toByteArray();
    }

    /**
     * The fallback: the nested jar copied to a unique owner-only temporary file (in
     * {@code freshcreds.native.workdir}, else {@code java.io.tmpdir}), appended to the bootstrap
     * class path, and deleted (the JVM keeps its open handle).
     */
    private static void append(Instrumentation inst) throws IOException {
        String dir = System.getProperty("freshcreds.native.workdir");
        if (dir == null || dir.trim().isEmpty()) {
            dir = System.getProperty("java.io.tmpdir", "/tmp");
        }
        Path tmp;
        Path workdir = Paths.get(dir);
        try {
            tmp = Files.createTempFile(workdir, "freshcreds-bootstrap-", ".jar",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException e) {
            tmp = Files.createTempFile(workdir, "freshcreds-bootstrap-", ".jar");
        }
        try {
            try (InputStream in = resource(); OutputStream out = Files.newOutputStream(tmp)) {
                out.write(drain(in));
            }
            try (JarFile jar = new JarFile(tmp.toFile())) {
                inst.appendToBootstrapClassLoaderSearch(jar);
            }
            if (!present()) {
                throw new IOException("the bridge is not visible after appending " + tmp + " to the bootstrap class path");
            }
        } finally {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException e) {
                tmp.toFile().deleteOnExit();
            }
        }
    }
}
