package dev.freshcreds.internal;

import dev.freshcreds.FreshCredentialsException;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * One open engine handle and the Java machinery around it: the {@code freshcreds-updater}
 * daemon thread and the published SDK objects.
 *
 * <h2>Hot path</h2>
 * Providers read {@link #published()}: one {@code volatile} read, then a prebuilt SDK object.
 * No lock, no allocation, no JNI.
 *
 * <h2>Updater</h2>
 * The updater thread blocks in a native wait that returns when a snapshot is published, the
 * skew changes, log records wait, or the handle is closed, or after a timeout that never runs
 * past the current credentials' corrected expiry. It builds the SDK objects once per snapshot
 * and publishes them; at the corrected expiry it publishes "no valid credentials". It is a
 * daemon thread, and native threads never attach to the JVM, so nothing here keeps a JVM
 * from exiting.
 *
 * <h2>Slow path</h2>
 * Only when nothing valid is published does a caller make a bounded synchronous native call
 * ({@link #blocking()}); the engine runs one fetch however many callers wait.
 *
 * <p>Thread safety: {@link #published} is written only under {@code lock}; readers need none.
 */
public final class EngineCore {
    private static final Logger LOG = Logger.getLogger("dev.freshcreds");
    /** The longest native wait of the updater: it re-reads the logger level at least this often. */
    private static final long MAX_WAIT_MILLIS = 10_000;

    private final Backend backend;
    private final long handle;
    private final String name;
    private final long blockingWaitMillis;
    private final Runnable onClose;
    private final Object lock = new Object();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicLong blockingCalls = new AtomicLong();
    private final Thread updater;
    private volatile Published published = Published.EMPTY;
    private volatile Function<CredentialsSnapshot, Object> v1Factory;
    private volatile Function<CredentialsSnapshot, Object> v2Factory;
    private volatile ObjectName mbean;
    private final List<Consumer<Published>> listeners = new CopyOnWriteArrayList<>();

    private EngineCore(Backend backend, long handle, String name, long blockingWaitMillis, Runnable onClose) {
        this.backend = backend;
        this.handle = handle;
        this.name = name;
        this.blockingWaitMillis = blockingWaitMillis;
        this.onClose = onClose;
        this.updater = new Thread(this::runUpdater, "freshcreds-updater");
        this.updater.setDaemon(true);
    }

    /**
     * Opens a handle on the engine for these settings (sharing a running engine with equal
     * settings) and starts the updater thread.
     *
     * @param name the JMX name
     * @param overrides explicit settings by name (e.g. {@code imds.endpoint})
     * @param blockingWaitMillis how long a caller may wait when nothing valid is published
     * @param onClose run once after {@link #close()}
     * @return the core
     * @throws FreshCredentialsException when the library cannot be loaded or a setting is bad
     */
    public static EngineCore open(String name, Map<String, String> overrides, long blockingWaitMillis, Runnable onClose) {
        Backend backend = Backends.get();
        long handle = backend.engineOpen(systemProperties(), flatten(overrides));
        EngineCore core = new EngineCore(backend, handle, name, blockingWaitMillis, onClose);
        core.updater.start();
        core.registerMBean();
        return core;
    }

    private static String[] systemProperties() {
        List<String> out = new ArrayList<>();
        for (String k : System.getProperties().stringPropertyNames()) {
            if (k.startsWith("freshcreds.") || k.startsWith("aws.") || k.startsWith("com.amazonaws.sdk.")) {
                String v = System.getProperty(k);
                if (v != null) {
                    out.add(k);
                    out.add(v);
                }
            }
        }
        return out.toArray(new String[0]);
    }

    private static String[] flatten(Map<String, String> m) {
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, String> e : m.entrySet()) {
            out.add(e.getKey());
            out.add(e.getValue());
        }
        return out.toArray(new String[0]);
    }

    /**
     * The hot path: the latest published state (one volatile read).
     *
     * @return the published state, never null
     */
    public Published published() {
        return published;
    }

    /**
     * Turns on SDK v1 objects: from now on every publication carries {@code factory(snapshot)}.
     *
     * @param factory builds an {@code AWSSessionCredentials}
     */
    public void enableV1(Function<CredentialsSnapshot, Object> factory) {
        synchronized (lock) {
            if (v1Factory == null) {
                v1Factory = factory;
                published = build(published.snapshot);
            }
        }
    }

    /**
     * Turns on SDK v2 objects: from now on every publication carries {@code factory(snapshot)}
     * and a completed future of it.
     *
     * @param factory builds an {@code AwsSessionCredentials}
     */
    public void enableV2(Function<CredentialsSnapshot, Object> factory) {
        synchronized (lock) {
            if (v2Factory == null) {
                v2Factory = factory;
                published = build(published.snapshot);
            }
        }
    }

    /**
     * Calls {@code listener} with the current state now and after every publication (a new
     * snapshot, a skew change, expiry, close), in publication order. It runs with the
     * publication lock held, on the updater thread or a caller of {@link #blocking()}: it must
     * be quick and must not call back into this core except {@link #published()} and
     * {@link #healthFigures()}. The agent uses it to feed its bootstrap bridge.
     *
     * @param listener the listener; exceptions it throws are logged and ignored
     */
    public void addPublishListener(Consumer<Published> listener) {
        synchronized (lock) {
            listeners.add(listener);
            notify(listener, published);
        }
    }

    private static void notify(Consumer<Published> listener, Published p) {
        try {
            listener.accept(p);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "a publish listener failed", e);
        }
    }

    /**
     * The slow path, for a caller that found nothing valid published: a bounded native call
     * that waits for the engine's single running fetch.
     *
     * @return a published state with valid credentials
     * @throws FreshCredentialsException when none arrive in time (the message carries the
     *     last refresh error) or the engine is closed
     */
    public Published blocking() {
        if (closed.get()) {
            throw new FreshCredentialsException("this FreshCredentials is closed");
        }
        blockingCalls.incrementAndGet();
        String[] s = new String[4];
        long[] n = new long[4];
        backend.engineCredentials(handle, blockingWaitMillis, s, n);
        Published p = publish(CredentialsSnapshot.of(s, n));
        if (!p.valid) {
            throw new FreshCredentialsException("the engine's credentials (" + p.snapshot
                    + ") are already past their expiry on the skew-corrected clock");
        }
        return p;
    }

    /**
     * Asks for one shared refresh (an SDK saw {@code ExpiredToken}).
     *
     * @return whether this call started a refresh
     */
    public boolean invalidate() {
        return !closed.get() && backend.engineInvalidate(handle);
    }

    /** Asks for a new clock measurement (an SDK saw a skew error). */
    public void requestClockMeasurement() {
        if (!closed.get()) {
            backend.engineMeasureClock(handle);
        }
    }

    /**
     * Reads the health figures.
     *
     * @return the figures
     */
    public HealthFigures healthFigures() {
        String[] s = new String[5];
        long[] n = new long[8];
        backend.engineHealth(handle, s, n);
        return new HealthFigures(s, n, blockingCalls.get(), backend.describe());
    }

    /** @return the JMX name given at open */
    public String name() {
        return name;
    }

    /** @return true once {@link #close()} ran */
    public boolean isClosed() {
        return closed.get();
    }

    /** @return whether the updater thread is still running (tests: close wakes it) */
    public boolean updaterAlive() {
        return updater.isAlive();
    }

    /**
     * Joins the updater thread.
     *
     * @param millis the longest wait
     * @throws InterruptedException when interrupted
     */
    public void joinUpdater(long millis) throws InterruptedException {
        updater.join(millis);
    }

    /** Closes the handle: wakes and ends the updater, unregisters the MBean. Idempotent. */
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        synchronized (lock) {
            published = Published.EMPTY;
            for (Consumer<Published> l : listeners) {
                notify(l, Published.EMPTY);
            }
        }
        try {
            backend.engineClose(handle);
        } catch (RuntimeException e) {
            LOG.log(Level.FINE, "closing the native handle failed", e);
        }
        unregisterMBean();
        onClose.run();
    }

    // ===== publication =====

    private Published publish(CredentialsSnapshot s) {
        synchronized (lock) {
            Published current = published;
            if (closed.get()) {
                return current;
            }
            if (s != null && current.snapshot != null && s.seq() < current.snapshot.seq()) {
                return current; // a slow caller came back with an older set
            }
            Published next = build(s);
            published = next;
            for (Consumer<Published> l : listeners) {
                notify(l, next);
            }
            if (current.snapshot == null || s == null || current.snapshot.seq() != s.seq()) {
                LOG.fine(() -> "published " + next);
            }
            return next;
        }
    }

    /** Builds the published state for {@code s}; call with {@code lock} held. */
    private Published build(CredentialsSnapshot s) {
        if (s == null) {
            return Published.EMPTY;
        }
        if (System.currentTimeMillis() >= s.localDeadlineMillis()) {
            return new Published(s, false, null, null, null);
        }
        Function<CredentialsSnapshot, Object> f1 = v1Factory;
        Function<CredentialsSnapshot, Object> f2 = v2Factory;
        Object v1 = f1 == null ? null : f1.apply(s);
        Object v2 = f2 == null ? null : f2.apply(s);
        return new Published(s, true, v1, v2, v2 == null ? null : CompletableFuture.completedFuture(v2));
    }

    // ===== the updater thread =====

    private void runUpdater() {
        int level = -1;
        try {
            while (!closed.get()) {
                int wanted = NativeLogs.wantedLevel();
                if (wanted != level) {
                    backend.logLevel(wanted);
                    level = wanted;
                }
                int bits = backend.engineWait(handle, nextWaitMillis());
                if ((bits & Native.LOGS) != 0) {
                    NativeLogs.drain(backend);
                }
                if ((bits & Native.CLOSED) != 0) {
                    break;
                }
                if ((bits & (Native.SNAPSHOT | Native.SKEW)) != 0) {
                    readSnapshot();
                } else {
                    expireIfDue();
                }
            }
        } catch (RuntimeException | Error e) {
            if (!closed.get()) {
                LOG.log(Level.SEVERE, "the freshcreds-updater thread stopped (" + e.getMessage()
                        + "); callers now wait for credentials in a native call", e);
            }
        } finally {
            try {
                NativeLogs.drain(backend);
            } catch (RuntimeException e) {
                LOG.log(Level.FINEST, "last log drain failed", e);
            }
        }
    }

    private long nextWaitMillis() {
        Published p = published;
        if (!p.valid) {
            return MAX_WAIT_MILLIS;
        }
        long untilExpiry = p.snapshot.localDeadlineMillis() - System.currentTimeMillis();
        return Math.max(1, Math.min(MAX_WAIT_MILLIS, untilExpiry));
    }

    private void readSnapshot() {
        String[] s = new String[4];
        long[] n = new long[4];
        if (backend.engineSnapshot(handle, s, n)) {
            publish(CredentialsSnapshot.of(s, n));
        }
    }

    private void expireIfDue() {
        Published p = published;
        if (p.valid && System.currentTimeMillis() >= p.snapshot.localDeadlineMillis()) {
            LOG.warning(() -> "credentials " + CredentialsSnapshot.abbreviate(p.snapshot.accessKeyId())
                    + " reached their expiry on the corrected clock without a refresh; callers now wait for new ones");
            publish(p.snapshot);
        }
    }

    // ===== JMX =====

    private void registerMBean() {
        try {
            MBeanServer server = ManagementFactory.getPlatformMBeanServer();
            ObjectName on = new ObjectName("dev.freshcreds:type=Credentials,name=" + ObjectName.quote(name));
            if (!server.isRegistered(on)) {
                server.registerMBean(new CredentialsMonitor(this), on);
                mbean = on;
            }
        } catch (Exception e) { // a name taken by another loader, or no JMX: not fatal
            LOG.log(Level.FINE, "JMX registration skipped for " + name, e);
        }
    }

    private void unregisterMBean() {
        ObjectName on = mbean;
        if (on != null) {
            try {
                ManagementFactory.getPlatformMBeanServer().unregisterMBean(on);
            } catch (Exception e) {
                LOG.log(Level.FINE, "JMX unregistration failed for " + name, e);
            }
        }
    }

    /**
     * Test-only: makes the native side panic.
     *
     * @param message the panic message
     */
    public static void debugPanic(String message) {
        Backends.get().debugPanic(message);
    }

    /**
     * Engines running in the process (all class loaders that share the library).
     *
     * @return the count
     */
    public static int engineCount() {
        return Backends.get().engineCount();
    }

    @Override
    public String toString() {
        return "EngineCore(name=" + name + ", handle=" + handle + ", " + published + ")";
    }
}
