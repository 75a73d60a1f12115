package dev.freshcreds.bootstrap;

import java.util.function.Function;

/**
 * The adapters for one copy of an AWS SDK (one class loader, one package prefix): a factory
 * that turns {@link Creds} into that copy's credentials objects, and the freshcreds error
 * hook for its clients (a v2 {@code ExecutionInterceptor} or a v1 {@code RequestHandler2}).
 * The last credentials object built is cached, so the hot path allocates nothing.
 */
public final class Sdk {
    /** No adapters: the advice falls through to the SDK. */
    public static final Sdk NONE = new Sdk(null, null, false);

    private final Function<Creds, Object> factory;
    private final Object errorHook;
    private final boolean defaultChain;
    private volatile Built built;

    /**
     * Adapters.
     *
     * @param factory builds that SDK copy's credentials object, or null
     * @param errorHook the interceptor or request handler to add to every client, or null
     * @param defaultChain whether the advised class is the SDK's default credentials chain
     */
    public Sdk(Function<Creds, Object> factory, Object errorHook, boolean defaultChain) {
        this.factory = factory;
        this.errorHook = errorHook;
        this.defaultChain = defaultChain;
    }

    /**
     * This adapter set for another advised class of the same SDK copy.
     *
     * @param isDefaultChain whether that class is the default chain
     * @return adapters sharing the factory and the hook
     */
    public Sdk withDefaultChain(boolean isDefaultChain) {
        return new Sdk(factory, errorHook, isDefaultChain);
    }

    Object credentials(Creds c) {
        Built b = built;
        if (b != null && b.creds == c) {
            return b.value;
        }
        if (factory == null) {
            return null;
        }
        Object v = factory.apply(c);
        built = new Built(c, v);
        return v;
    }

    Object errorHook() {
        return errorHook;
    }

    boolean isDefaultChain() {
        return defaultChain;
    }

    /** A credentials object and the set it was built from. */
    private static final class Built {
        final Creds creds;
        final Object value;

        Built(Creds creds, Object value) {
            this.creds = creds;
            this.value = value;
        }
    }

    @Override
    public String toString() {
        return "Sdk(factory=" + (factory != null) + ", errorHook=" + (errorHook != null) + ", defaultChain=" + defaultChain + ")";
    }
}
