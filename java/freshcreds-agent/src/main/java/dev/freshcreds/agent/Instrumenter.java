package dev.freshcreds.agent;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import java.lang.instrument.ClassFileTransformer;
import java.security.ProtectionDomain;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import net.bytebuddy.ClassFileVersion;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.asm.AsmVisitorWrapper;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.dynamic.ClassFileLocator;
import net.bytebuddy.implementation.Implementation;
import net.bytebuddy.jar.asm.ClassReader;
import net.bytebuddy.jar.asm.ClassVisitor;
import net.bytebuddy.jar.asm.ClassWriter;
import net.bytebuddy.pool.TypePool;
import net.bytebuddy.utility.OpenedClassReader;

/**
 * Weaves ByteBuddy {@link Advice} into the {@link Targets}, used as an ASM visitor directly
 * (ByteBuddy's documented stand-alone use of {@code Advice}) rather than through
 * {@code AgentBuilder}: the class is read, the advice inlined into the named no-argument
 * methods, and nothing else changes (no new fields or methods), so already loaded classes can
 * be retransformed. Types are described from class files through a lazy {@link TypePool} over
 * the class's own loader, so nothing is loaded. Built by {@link LazyTransformer}: a JVM that
 * never loads an AWS SDK class never loads ByteBuddy.
 */
final class Instrumenter implements ClassFileTransformer {
    private final Map<String, AsmVisitorWrapper> byInternalName;

    private Instrumenter(Map<String, AsmVisitorWrapper> byInternalName) {
        this.byInternalName = byInternalName;
    }

    static ClassFileTransformer build(List<Targets.Target> targets) {
        Map<Class<?>, Advice> advice = new IdentityHashMap<>();
        Map<String, AsmVisitorWrapper> m = new HashMap<>();
        for (Targets.Target t : targets) {
            Advice a = advice.computeIfAbsent(t.advice, Advice::to);
            AsmVisitorWrapper w = a.on(named(t.method).and(takesArguments(0)));
            m.merge(t.className.replace('.', '/'), w, AsmVisitorWrapper.Compound::new);
        }
        return new Instrumenter(m);
    }

    @Override
    public byte[] transform(ClassLoader loader, String className, Class<?> classBeingRedefined,
            ProtectionDomain protectionDomain, byte[] bytes) {
        AsmVisitorWrapper wrapper = byInternalName.get(className);
        if (wrapper == null) {
            return null;
        }
        String name = className.replace('/', '.');
        ClassFileLocator locator = new ClassFileLocator.Compound(ClassFileLocator.Simple.of(name, bytes),
                loader == null ? ClassFileLocator.ForClassLoader.ofBootLoader() : ClassFileLocator.ForClassLoader.of(loader));
        TypePool pool = TypePool.Default.WithLazyResolution.of(locator);
        TypeDescription type = pool.describe(name).resolve();
        int readerFlags = wrapper.mergeReader(0);
        int writerFlags = wrapper.mergeWriter(0);
        ClassReader reader = OpenedClassReader.of(bytes);
        ClassWriter writer = new ClassWriter(reader, writerFlags);
        ClassVisitor visitor = wrapper.wrap(type, writer,
                new Implementation.Context.Disabled(type, ClassFileVersion.ofClassFile(bytes),
                        (readerFlags & ClassReader.EXPAND_FRAMES) != 0
                                ? Implementation.Context.FrameGeneration.EXPAND : Implementation.Context.FrameGeneration.GENERATE) {
                    // Anonymous: the constructor is protected. Advice adds no auxiliary types.
                }, pool,
                type.getDeclaredFields(), type.getDeclaredMethods(), writerFlags, readerFlags);
        reader.accept(visitor, readerFlags);
        AgentLog.fine("advised " + name + " in " + loader + (classBeingRedefined != null ? " (retransformed)" : ""));
        return writer.toByteArray();
    }
}
