package dev.freshcreds.agent;

import dev.freshcreds.FreshCredentials;
import dev.freshcreds.internal.Access;
import dev.freshcreds.internal.Backends;
import dev.freshcreds.internal.CredentialsSnapshot;
import dev.freshcreds.internal.EngineCore;
import dev.freshcreds.internal.HealthFigures;
import dev.freshcreds.internal.Published;
import dev.freshcreds.bootstrap.Creds;
import dev.freshcreds.bootstrap.FreshcredsBridge;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiFunction;

/**
 * The agent's engine: loaded and opened on the {@code freshcreds-agent-start} daemon thread,
 * so {@code premain} returns at once and never waits for the native library or the network.
 * Every publication of the engine (new credentials, a skew change, expiry) is copied into the
 * {@link FreshcredsBridge}; the native dispatcher is handed to the bridge too, so copies of the
 * library elsewhere in the JVM share this engine.
 *
 * <p>State: {@link #handle} and {@link #core} are written once by the start thread, before the
 * bridge's start latch opens; {@link #failing} is set by a caller whose bounded wait failed and
 * cleared by the next valid publication.
 */
public final class AgentEngine {
    /** The longest an adapter waits for the engine to start (the native load, not the network). */
    private static final long START_WAIT_MILLIS = 10_000;

    private static volatile FreshCredentials handle;
    private static volatile EngineCore core;
    private static volatile long waitMillis = 5_000;
    private static final AtomicBoolean failing = new AtomicBoolean();
    private static final AtomicBoolean warnedSkew = new AtomicBoolean();
    private static final AtomicBoolean warnedSlowStart = new AtomicBoolean();

    private AgentEngine() {}

    /**
     * Starts the engine on the calling thread (the agent's start thread), then runs
     * {@code afterStart}; adapters waiting for the engine are released in between.
     *
     * @param options the agent's options
     * @param afterStart run once the engine is up (or failed)
     */
    static void start(AgentOptions options, Runnable afterStart) {
        waitMillis = options.waitMillis();
        run(options, afterStart);
    }

    private static void run(AgentOptions options, Runnable afterStart) {
        BiFunction<String, Object[], Object> dispatcher = null;
        try {
            AgentLog.configure(options.log());
            for (String p : options.problems()) {
                AgentLog.warn("option ignored: " + p);
            }
            Shadowing.warnOnce(options.mode());
            dispatcher = Backends.ownDispatcher();
            FreshCredentials fc = FreshCredentials.builder().name("agent")
                    .blockingTimeout(Duration.ofMillis(Math.max(1, Math.min(60_000, options.waitMillis()))))
                    .build();
            EngineCore c = Access.core(fc);
            core = c;
            handle = fc;
            c.addPublishListener(AgentEngine::onPublish);
            AgentLog.fine("engine started (" + options + "; " + c.healthFigures().library + ")");
        } catch (Throwable e) {
            AgentLog.warn("freshcreds is not serving credentials, so the AWS SDKs keep their own providers: "
                    + e.getMessage());
            AgentLog.fine("engine start failure", e);
        } finally {
            FreshcredsBridge.engineStarted(dispatcher);
        }
        try {
            afterStart.run();
        } catch (Throwable e) {
            AgentLog.warn("retransforming already loaded AWS SDK classes failed", e);
        }
    }

    /** Copies a publication into the bridge. Runs under the core's publication lock. */
    private static void onPublish(Published p) {
        CredentialsSnapshot s = p.snapshot;
        if (p.valid && s != null) {
            FreshcredsBridge.publish(new Creds(s.accessKeyId(), s.secretAccessKey(), s.sessionToken(), s.seq(),
                    s.localDeadlineMillis()));
            failing.set(false);
        } else {
            FreshcredsBridge.publish(null);
        }
        EngineCore c = core;
        if (c == null || s == null) {
            return;
        }
        HealthFigures h = c.healthFigures();
        if ("none".equals(h.skewSource)) {
            FreshcredsBridge.clearOffset();
            return;
        }
        int offset = sdkOffsetSeconds(h.skewMillis);
        FreshcredsBridge.publishOffset(offset);
        if (Math.abs(h.skewMillis) >= 1_000 && warnedSkew.compareAndSet(false, true)) {
            AgentLog.warn(String.format("this host's clock is off by %+.1f s (%s): the AWS SDKs now sign with an "
                    + "offset of %d s; fix the clock (chrony or ntpd with Amazon Time Sync, 169.254.169.123)",
                    h.skewMillis / 1000.0, h.skewSource, offset));
        }
    }

    /**
     * The SDKs' time offset for a measured skew: whole seconds of local minus server time,
     * so the opposite sign of freshcreds' skew (server minus local).
     *
     * @param skewMillis server time minus local time, milliseconds
     * @return {@code -round(skew / 1 s)}
     */
    static int sdkOffsetSeconds(long skewMillis) {
        return (int) -Math.round(skewMillis / 1000.0);
    }

    /**
     * The agent's engine handle, waiting (bounded) while it starts.
     *
     * @return the handle, or null when the engine did not start
     */
    public static FreshCredentials awaitHandle() {
        try {
            FreshcredsBridge.awaitStarted(START_WAIT_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return handle;
    }

    /**
     * The slow path: no valid credentials are published. Waits (at most the {@code wait}
     * option) for the engine's running fetch, unless the engine is unavailable or the last
     * such wait failed and nothing valid arrived since; then returns null at once, and the
     * SDK's own provider runs.
     *
     * @return valid credentials or null
     */
    static Creds awaitCredentials() {
        long deadline = System.nanoTime() + waitMillis * 1_000_000;
        try {
            if (!FreshcredsBridge.awaitStarted(waitMillis)) {
                if (warnedSlowStart.compareAndSet(false, true)) {
                    AgentLog.warn("the engine did not start within " + waitMillis + " ms; this SDK call uses the SDK's own provider");
                }
                return null;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
        EngineCore c = core;
        if (c == null || waitMillis == 0 || failing.get() || System.nanoTime() >= deadline) {
            return FreshcredsBridge.current();
        }
        try {
            c.blocking();
            return FreshcredsBridge.current();
        } catch (RuntimeException e) {
            if (failing.compareAndSet(false, true)) {
                AgentLog.warn("freshcreds has no credentials (" + e.getMessage()
                        + "); the AWS SDKs use their own instance-profile provider until it has");
            }
            return null;
        }
    }

    /** One shared refresh, for an SDK provider's {@code refresh()}. */
    static void invalidate() {
        EngineCore c = core;
        if (c != null) {
            c.invalidate();
        }
    }
}
