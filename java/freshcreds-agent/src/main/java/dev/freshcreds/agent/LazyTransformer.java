package dev.freshcreds.agent;

import java.lang.instrument.ClassFileTransformer;
import java.security.ProtectionDomain;
import java.util.Collections;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

/**
 * The one transformer the agent registers. Its filter is a set lookup of the class name, so
 * every class the JVM loads costs a hash lookup; only the advised SDK classes reach ByteBuddy,
 * which the agent's prepare thread builds in the background ({@link #prepare()}), or the first
 * such class builds if it comes first, after making sure the bridge its advice calls is in the
 * bootstrap loader. Never throws: a failure leaves the class as the SDK wrote it.
 */
final class LazyTransformer implements ClassFileTransformer {
    private final Set<String> names;
    private final AgentOptions options;
    private final BooleanSupplier bridgeReady;
    private final AtomicBoolean warned = new AtomicBoolean();
    /** Advised classes by loader (null: bootstrap), so a retransformation pass skips them. */
    private final Map<ClassLoader, Set<String>> advised = Collections.synchronizedMap(new WeakHashMap<>());
    private volatile ClassFileTransformer delegate;

    /**
     * @param options what to advise ({@link Targets})
     * @param bridgeReady installs the bridge once and says whether the agent serves; the
     *     transformer leaves every class alone when it says no
     */
    LazyTransformer(AgentOptions options, BooleanSupplier bridgeReady) {
        this.options = options;
        this.names = Targets.internalNames(options);
        this.bridgeReady = bridgeReady;
    }

    boolean isTarget(String internalName) {
        return internalName != null && names.contains(internalName);
    }

    /** @return whether this transformer already advised the class (in its loader) */
    boolean wasAdvised(Class<?> c) {
        Set<String> s = advised.get(c.getClassLoader());
        return s != null && s.contains(c.getName().replace('.', '/'));
    }

    @Override
    public byte[] transform(ClassLoader loader, String className, Class<?> classBeingRedefined,
            ProtectionDomain protectionDomain, byte[] classfileBuffer) {
        if (!isTarget(className)) {
            return null;
        }
        try {
            if (!bridgeReady.getAsBoolean()) {
                return null;
            }
            byte[] out = delegate().transform(loader, className, classBeingRedefined, protectionDomain, classfileBuffer);
            if (out != null) {
                advised.computeIfAbsent(loader, k -> Collections.synchronizedSet(new HashSet<>())).add(className);
            }
            return out;
        } catch (Throwable t) {
            if (warned.compareAndSet(false, true)) {
                AgentLog.warn("could not advise " + className + " (it keeps the SDK's own behaviour)", t);
            }
            return null;
        }
    }

    /**
     * Builds ByteBuddy's advice now (the agent's prepare thread calls this): an application
     * that loads the SDK a moment later finds it ready instead of building it on its own
     * thread. Never throws.
     */
    void prepare() {
        try {
            delegate();
        } catch (Throwable t) {
            AgentLog.fine("preparing ByteBuddy failed; it is retried on the first AWS SDK class", t);
        }
    }

    private ClassFileTransformer delegate() {
        ClassFileTransformer d = delegate;
        if (d == null) {
            synchronized (this) {
                d = delegate;
                if (d == null) {
                    long t0 = System.nanoTime();
                    d = Instrumenter.build(Targets.of(options));
                    delegate = d;
                    long ms = (System.nanoTime() - t0) / 1_000_000;
                    AgentLog.fine("ByteBuddy ready in " + ms + " ms");
                }
            }
        }
        return d;
    }
}
