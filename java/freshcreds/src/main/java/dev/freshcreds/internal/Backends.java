package dev.freshcreds.internal;

import java.lang.management.ManagementFactory;
import java.util.function.BiFunction;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.management.InstanceAlreadyExistsException;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * Picks the {@link Backend} for this class loader, so that one JVM loads one copy of the
 * native library and so runs one engine per configuration, however many class loaders hold
 * the freshcreds classes (application servers, the agent plus the library).
 *
 * <p>The rendezvous is the platform MBean server: the first loader to load the library
 * registers {@value #BRIDGE_NAME}, whose {@code Dispatcher} attribute is a
 * {@code BiFunction<String, Object[], Object>} (JDK types, so any loader can call it). A
 * later loader that finds it uses a {@link BridgeBackend} over it and loads nothing.
 *
 * <p>When the {@code -javaagent} is attached, its bootstrap bridge ({@value #AGENT_BRIDGE}, in
 * the bootstrap loader, so visible from every loader) is asked first: the agent loads the
 * library in its own loader ({@link #ownDispatcher()}) and owns the engine, and every copy of
 * the library in the JVM calls through it.
 */
public final class Backends {
    /** The bridge's object name. */
    public static final String BRIDGE_NAME = "dev.freshcreds:type=NativeBridge";
    /** The agent's bootstrap bridge class; present only when the agent is attached. */
    public static final String AGENT_BRIDGE = "dev.freshcreds.bootstrap.FreshcredsBridge";
    /**
     * System property the agent sets in {@code premain}: its bridge is "pending" (being defined
     * on the agent's start thread), "ready" or "failed".
     */
    public static final String AGENT_BRIDGE_STATE = "freshcreds.agent.bridge";
    /** {@link #AGENT_BRIDGE_STATE} while the agent defines its bridge: library copies wait. */
    public static final String AGENT_BRIDGE_PENDING = "pending";
    /** {@link #AGENT_BRIDGE_STATE} once the bridge is installed. */
    public static final String AGENT_BRIDGE_READY = "ready";
    /** {@link #AGENT_BRIDGE_STATE} when the agent gave up: library copies load their own. */
    public static final String AGENT_BRIDGE_FAILED = "failed";
    /** How long a library copy waits for the agent to finish loading the native library. */
    private static final long AGENT_WAIT_MILLIS = 10_000;

    private static final Logger LOG = Logger.getLogger("dev.freshcreds");
    private static Backend instance;

    private Backends() {}

    /**
     * The backend for this class loader: another loader's bridge if one is registered,
     * otherwise this loader's own natives (registering the bridge for others).
     *
     * @return the backend
     * @throws dev.freshcreds.FreshCredentialsException when the library cannot be loaded
     */
    public static synchronized Backend get() {
        if (instance != null) {
            return instance;
        }
        Backend agent = fromAgent();
        if (agent != null) {
            instance = agent;
            return agent;
        }
        MBeanServer server = platformServer();
        Backend found = lookup(server);
        if (found == null) {
            Backend own = new JniBackend(Native.checkLoaded());
            found = own;
            if (server != null) {
                try {
                    server.registerMBean(new NativeBridge(own), new ObjectName(BRIDGE_NAME));
                } catch (InstanceAlreadyExistsException e) { // another loader won the race
                    Backend theirs = lookup(server);
                    found = theirs != null ? theirs : own;
                } catch (Exception e) {
                    LOG.log(Level.FINE, "cannot register " + BRIDGE_NAME + "; other class loaders will load their own copy", e);
                }
            }
        }
        instance = found;
        return found;
    }

    /**
     * For the agent: this class loader's own natives, never another loader's, and the
     * dispatcher other loaders should call (the agent publishes it in its bootstrap bridge).
     *
     * @return the dispatcher, a {@code BiFunction<String, Object[], Object>} over JDK types
     * @throws dev.freshcreds.FreshCredentialsException when the library cannot be loaded
     */
    public static synchronized BiFunction<String, Object[], Object> ownDispatcher() {
        if (!(instance instanceof JniBackend)) {
            instance = new JniBackend(Native.checkLoaded());
        }
        return new BackendDispatcher(instance);
    }

    /**
     * The agent's dispatcher, if the agent is attached and loaded the library. Reflection,
     * because the bridge class exists only when the agent put it in the bootstrap loader:
     * this jar cannot link against it.
     */
    @SuppressWarnings("unchecked")
    private static Backend fromAgent() {
        Class<?> bridge = agentBridge();
        if (bridge == null) {
            return null; // no agent: the usual case
        }
        try {
            Object d = bridge.getMethod("engineDispatcher", long.class).invoke(null, AGENT_WAIT_MILLIS);
            if (d instanceof BiFunction) {
                return new BridgeBackend((BiFunction<String, Object[], Object>) d, d + " (owned by the freshcreds agent)");
            }
            LOG.fine("the freshcreds agent is attached but has no native library; loading this jar's copy");
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.log(Level.FINE, "cannot use the freshcreds agent's bridge", e);
        }
        return null;
    }

    /**
     * The agent's bridge class, waiting (at most {@link #AGENT_WAIT_MILLIS}) while the agent
     * says it is still defining it: the agent does that on its start thread, so an application
     * can get here first. Polls, because the bridge's arrival is the only signal both sides
     * can see before the bridge exists.
     */
    private static Class<?> agentBridge() {
        long deadline = System.nanoTime() + AGENT_WAIT_MILLIS * 1_000_000L;
        while (true) {
            try {
                return Class.forName(AGENT_BRIDGE, false, null);
            } catch (ClassNotFoundException | LinkageError e) {
                if (!AGENT_BRIDGE_PENDING.equals(System.getProperty(AGENT_BRIDGE_STATE)) || System.nanoTime() > deadline) {
                    return null;
                }
            }
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }
    }

    private static MBeanServer platformServer() {
        try {
            return ManagementFactory.getPlatformMBeanServer();
        } catch (RuntimeException | Error e) {
            LOG.log(Level.FINE, "no platform MBean server", e);
            return null;
        }
    }

    @SuppressWarnings("unchecked")
    private static Backend lookup(MBeanServer server) {
        if (server == null) {
            return null;
        }
        try {
            ObjectName name = new ObjectName(BRIDGE_NAME);
            if (!server.isRegistered(name)) {
                return null;
            }
            Object d = server.getAttribute(name, "Dispatcher");
            if (!(d instanceof BiFunction)) {
                return null;
            }
            String description = String.valueOf(server.getAttribute(name, "Description"));
            return new BridgeBackend((BiFunction<String, Object[], Object>) d,
                    description + " (shared through " + BRIDGE_NAME + ")");
        } catch (Exception e) {
            LOG.log(Level.FINE, "cannot use " + BRIDGE_NAME, e);
            return null;
        }
    }
}
