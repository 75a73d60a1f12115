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
 * later loader that finds it uses a {@link BridgeBackend} over it and loads nothing. The
 * agent registers the same bridge before any application class runs, so it owns the engine.
 */
public final class Backends {
    /** The bridge's object name. */
    public static final String BRIDGE_NAME = "dev.freshcreds:type=NativeBridge";

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
