package dev.freshcreds.agent;

import java.lang.instrument.ClassFileTransformer;
import java.security.ProtectionDomain;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The one transformer the agent registers. Its filter is a set lookup of the class name, so
 * every class the JVM loads costs a hash lookup; only the advised SDK classes reach ByteBuddy,
 * which the agent's start thread builds in the background ({@link #prepare()}), or the first
 * such class builds if it comes first. Never throws: a failure
 * leaves the class as the SDK wrote it.
 */
final class LazyTransformer implements ClassFileTransformer {
    private final Set<String> names;
    private final List<Targets.Target> targets;
    private final AtomicBoolean warned = new AtomicBoolean();
    private volatile ClassFileTransformer delegate;

    LazyTransformer(List<Targets.Target> targets) {
        this.targets = targets;
        this.names = Targets.internalNames(targets);
    }

    boolean isTarget(String internalName) {
        return internalName != null && names.contains(internalName);
    }

    @Override
    public byte[] transform(ClassLoader loader, String className, Class<?> classBeingRedefined,
            ProtectionDomain protectionDomain, byte[] classfileBuffer) {
        if (!isTarget(className)) {
            return null;
        }
        try {
            return delegate().transform(loader, className, classBeingRedefined, protectionDomain, classfileBuffer);
        } catch (Throwable t) {
            if (warned.compareAndSet(false, true)) {
                AgentLog.warn("could not advise " + className + " (it keeps the SDK's own behaviour)", t);
            }
            return null;
        }
    }

    /**
     * Builds ByteBuddy now (the agent's start thread calls this after the engine is up): an
     * application that loads the SDK a moment later finds it ready instead of building it on its
     * own thread. Never throws.
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
                    d = Instrumenter.build(targets);
                    delegate = d;
                    long ms = (System.nanoTime() - t0) / 1_000_000;
                    AgentLog.fine("ByteBuddy ready in " + ms + " ms");
                }
            }
        }
        return d;
    }
}
