package dev.freshcreds.agent;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.ProtectionDomain;
import net.bytebuddy.jar.asm.ClassReader;
import net.bytebuddy.jar.asm.ClassWriter;
import net.bytebuddy.jar.asm.commons.ClassRemapper;
import net.bytebuddy.jar.asm.commons.Remapper;

/**
 * A class loader beside one copy of an AWS SDK, so that code compiled against the SDK links
 * against that copy, wherever the application put it (a web application's loader, a Spring
 * Boot nested jar, a relocated copy).
 *
 * <p>It defines, from the agent jar's bytes, only the SDK-facing classes: the agent's
 * adapters ({@code dev.freshcreds.agent.sdk}) and the library's v1/v2 adapters (the request
 * handler and the interceptor). Every other freshcreds class comes from the agent's own
 * loader, so there is one engine handle and one JNI binding; everything else, the SDK
 * included, from the parent: the SDK's loader. For an SDK relocated under a package prefix,
 * SDK type references in the defined classes are rewritten to that prefix.
 */
final class SdkLoader extends ClassLoader {
    static {
        ClassLoader.registerAsParallelCapable();
    }

    private static final String[] SDK_ROOTS = {"com/amazonaws/", "software/amazon/awssdk/"};

    private final ClassLoader agent;
    private final String[] local;
    private final String[] fromAgent;
    private final String prefixPath;
    private final ProtectionDomain domain;

    /**
     * A loader.
     *
     * @param sdk the SDK copy's loader (null: the bootstrap loader)
     * @param agent the agent's loader
     * @param agentRoot the agent's package with a trailing dot
     * @param libraryRoot the (possibly relocated) library package with a trailing dot
     * @param prefix the SDK's package prefix, empty when not relocated
     */
    SdkLoader(ClassLoader sdk, ClassLoader agent, String agentRoot, String libraryRoot, String prefix) {
        super(sdk);
        this.agent = agent;
        this.local = new String[] {agentRoot + "sdk.", libraryRoot + "v1.", libraryRoot + "v2."};
        this.fromAgent = new String[] {agentRoot, libraryRoot, "dev.freshcreds.bootstrap."};
        this.prefixPath = prefix.replace('.', '/');
        this.domain = SdkLoader.class.getProtectionDomain();
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
        synchronized (getClassLoadingLock(name)) {
            Class<?> c = findLoadedClass(name);
            if (c == null) {
                if (startsWithAny(name, local)) {
                    c = define(name);
                } else if (startsWithAny(name, fromAgent)) {
                    c = Class.forName(name, false, agent);
                } else {
                    c = super.loadClass(name, false);
                }
            }
            if (resolve) {
                resolveClass(c);
            }
            return c;
        }
    }

    private static boolean startsWithAny(String name, String[] prefixes) {
        for (String p : prefixes) {
            if (name.startsWith(p)) {
                return true;
            }
        }
        return false;
    }

    private Class<?> define(String name) throws ClassNotFoundException {
        byte[] bytes;
        try (InputStream in = agent.getResourceAsStream(name.replace('.', '/') + ".class")) {
            if (in == null) {
                throw new ClassNotFoundException(name);
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            for (int n; (n = in.read(buf)) > 0; ) {
                out.write(buf, 0, n);
            }
            bytes = out.toByteArray();
        } catch (IOException e) {
            throw new ClassNotFoundException(name, e);
        }
        if (!prefixPath.isEmpty()) {
            bytes = relocate(bytes);
        }
        return defineClass(name, bytes, 0, bytes.length, domain);
    }

    /** Rewrites SDK type references to the relocated SDK (ASM, as ByteBuddy ships it). */
    private byte[] relocate(byte[] bytes) {
        ClassReader reader = new ClassReader(bytes);
        ClassWriter writer = new ClassWriter(0);
        reader.accept(new ClassRemapper(writer, new Remapper() {
            @Override
            public String map(String internalName) {
                for (String root : SDK_ROOTS) {
                    if (internalName.startsWith(root)) {
                        return prefixPath + internalName;
                    }
                }
                return internalName;
            }
        }), 0);
        return writer.toByteArray();
    }

    @Override
    public String toString() {
        return "freshcreds SdkLoader(" + getParent() + (prefixPath.isEmpty() ? "" : ", prefix " + prefixPath) + ")";
    }
}
