package dev.freshcreds.bootstrap;

/**
 * What the agent does for the bridge; implemented in the agent's own class loader, where the
 * engine and JNI live. Implementations never throw.
 */
public interface Hooks {
    /**
     * The adapters for the SDK copy that {@code advised} belongs to (its class loader and
     * package prefix), built once per copy.
     *
     * @param advised an advised SDK class
     * @return the adapters; {@link Sdk#NONE} when that SDK copy cannot be served
     */
    Sdk sdkFor(Class<?> advised);

    /**
     * The slow path, when no valid credentials are published: waits, bounded, for the engine's
     * running fetch; returns null at once when the engine is unavailable or recently failed.
     *
     * @return valid credentials, or null to let the SDK's own provider run
     */
    Creds awaitCredentials();

    /** An SDK provider's {@code refresh()} was called: one shared refresh. Never blocks. */
    void invalidate();
}
