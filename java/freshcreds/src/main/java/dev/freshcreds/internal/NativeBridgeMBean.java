package dev.freshcreds.internal;

/**
 * The JVM-wide rendezvous through which class loaders share one native library: see
 * {@link Backends}. Not an API.
 */
public interface NativeBridgeMBean {
    /**
     * The dispatcher, a {@code java.util.function.BiFunction<String, Object[], Object>}.
     *
     * @return the dispatcher (not serializable: unreadable over remote JMX)
     */
    Object getDispatcher();

    /**
     * Which library serves the JVM.
     *
     * @return a description (version, where it was loaded from)
     */
    String getDescription();
}
