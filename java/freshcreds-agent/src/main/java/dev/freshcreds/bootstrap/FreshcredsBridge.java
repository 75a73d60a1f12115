package dev.freshcreds.bootstrap;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;

/**
 * The freshcreds agent's bootstrap bridge: the one class through which advice inlined into
 * AWS SDK classes, in whatever class loader they live, reaches the agent's engine.
 *
 * <p>The agent defines this package in the bootstrap class loader (or, failing that, appends its jar to the bootstrap class path), so every
 * class loader resolves this class to the same one. It names JDK types only. The agent, in
 * its own loader, publishes the current credentials and clock offset here and installs its
 * {@link Hooks}; JNI stays in the agent's loader.
 *
 * <h2>Hot path</h2>
 * {@link #credentials(Class)}: a volatile read, a deadline check, a {@link ClassValue} lookup
 * and a cached SDK object: no lock, no allocation, no JNI. {@link #timeOffset(int)}: one
 * volatile read.
 *
 * <p>Every advice entry point is also wrapped by the advice in a catch-all, so nothing here
 * can turn into a failure of an SDK call; a null or an unchanged value means "let the SDK do
 * what it would have done".
 */
public final class FreshcredsBridge {
    /** The bridge's version; an agent finding another version on the bootstrap path stands down. */
    public static final int VERSION = 1;

    private static final long OFFSET_UNKNOWN = Long.MIN_VALUE;
    private static final CountDownLatch STARTED = new CountDownLatch(1);

    private static volatile Hooks hooks;
    private static volatile Creds creds;
    /** SDK time offset in seconds (local − server), or {@link #OFFSET_UNKNOWN}. */
    private static volatile long offsetSeconds = OFFSET_UNKNOWN;
    private static volatile BiFunction<String, Object[], Object> dispatcher;

    /** Per advised SDK class: the adapters of its SDK copy. */
    private static final ClassValue<Sdk> SDKS = new ClassValue<Sdk>() {
        @Override
        protected Sdk computeValue(Class<?> type) {
            Hooks h = hooks;
            Sdk s = h == null ? null : h.sdkFor(type);
            return s == null ? Sdk.NONE : s;
        }
    };

    private FreshcredsBridge() {}

    // ===== the agent's side =====

    /**
     * Installs the agent's hooks; only the first call counts.
     *
     * @param h the hooks
     * @return whether these hooks were installed
     */
    public static synchronized boolean install(Hooks h) {
        if (hooks != null || h == null) {
            return false;
        }
        hooks = h;
        return true;
    }

    /** @return whether an agent installed its hooks */
    public static boolean installed() {
        return hooks != null;
    }

    /**
     * Publishes the current credentials.
     *
     * @param c valid credentials, or null when there are none
     */
    public static void publish(Creds c) {
        creds = c;
    }

    /**
     * Publishes the SDK time offset: whole seconds, local time minus server time (the opposite
     * sign of freshcreds' skew).
     *
     * @param seconds the offset
     */
    public static void publishOffset(int seconds) {
        offsetSeconds = seconds;
    }

    /** Forgets the offset: SDKs keep their own values. */
    public static void clearOffset() {
        offsetSeconds = OFFSET_UNKNOWN;
    }

    /**
     * The agent finished starting its engine.
     *
     * @param d the native dispatcher (a {@code BiFunction<String, Object[], Object>}), or null
     *     when the native library could not be loaded
     */
    public static void engineStarted(BiFunction<String, Object[], Object> d) {
        dispatcher = d;
        STARTED.countDown();
    }

    /**
     * For copies of the freshcreds library elsewhere in the JVM: the agent's native
     * dispatcher, so that the JVM runs one native library and one engine. Waits while the
     * agent is still loading the library.
     *
     * @param timeoutMillis the longest wait
     * @return the dispatcher, or null when the agent has none
     */
    public static Object engineDispatcher(long timeoutMillis) {
        try {
            if (!STARTED.await(Math.max(0, timeoutMillis), TimeUnit.MILLISECONDS)) {
                return null;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
        return dispatcher;
    }

    /**
     * Waits until the agent finished starting its engine.
     *
     * @param timeoutMillis the longest wait
     * @return whether it finished (successfully or not)
     * @throws InterruptedException when interrupted
     */
    public static boolean awaitStarted(long timeoutMillis) throws InterruptedException {
        return STARTED.await(Math.max(0, timeoutMillis), TimeUnit.MILLISECONDS);
    }

    /** @return the credentials published now, or null (tests, the agent) */
    public static Creds current() {
        return creds;
    }

    // ===== advice entry points =====

    /**
     * Credentials for an advised instance-profile provider (or, in {@code mode=force}, a
     * default chain), as the SDK copy of {@code type} wants them.
     *
     * @param type the advised class
     * @return that SDK's credentials object, or null to let the SDK's own code run
     */
    public static Object credentials(Class<?> type) {
        Creds c = creds;
        if (c == null || System.currentTimeMillis() >= c.localDeadlineMillis()) {
            Hooks h = hooks;
            c = h == null ? null : h.awaitCredentials();
            if (c == null) {
                return null;
            }
        }
        return SDKS.get(type).credentials(c);
    }

    /**
     * {@link #credentials(Class)} for a v1 {@code AWSCredentialsProviderChain}: only the
     * default chain is replaced ({@code mode=force}); other chains run as written.
     *
     * @param chain the chain instance
     * @return credentials, or null to let the chain run
     */
    public static Object defaultChainCredentials(Object chain) {
        if (chain == null || !SDKS.get(chain.getClass()).isDefaultChain()) {
            return null;
        }
        return credentials(chain.getClass());
    }

    /**
     * An SDK provider's {@code refresh()} ran: while freshcreds serves credentials, that
     * becomes one shared refresh of the engine.
     */
    public static void refresh() {
        Hooks h = hooks;
        if (h != null && creds != null) {
            h.invalidate();
        }
    }

    /**
     * The time offset an SDK should sign with.
     *
     * @param sdkValue what the SDK holds
     * @return freshcreds' offset when the clock was measured, else {@code sdkValue}
     */
    public static int timeOffset(int sdkValue) {
        long o = offsetSeconds;
        return o == OFFSET_UNKNOWN ? sdkValue : (int) o;
    }

    /**
     * Adds the freshcreds error hook of {@code type}'s SDK copy to a list of global handlers
     * or interceptors the SDK is building for a new client.
     *
     * @param type the advised class ({@code HandlerChainFactory} or
     *     {@code ClasspathInterceptorChainFactory})
     * @param list the mutable list the SDK returns
     */
    @SuppressWarnings("unchecked")
    public static void addErrorHook(Class<?> type, Object list) {
        if (!(list instanceof List)) {
            return;
        }
        Object hook = SDKS.get(type).errorHook();
        List<Object> l = (List<Object>) list;
        if (hook != null && !l.contains(hook)) {
            l.add(hook);
        }
    }
}
