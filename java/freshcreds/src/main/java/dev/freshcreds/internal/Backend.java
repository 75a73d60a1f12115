package dev.freshcreds.internal;

/**
 * The native engine's operations, as the Java side calls them. Two implementations:
 * {@link JniBackend} calls this class loader's natives; {@link BridgeBackend} calls the
 * natives another class loader (or the agent) loaded, so that one JVM runs one library copy
 * and one engine per configuration. Arguments and results are JDK types only.
 *
 * <p>Every method may throw {@link dev.freshcreds.FreshCredentialsException}.
 */
public interface Backend {
    /**
     * Opens a handle on the engine for these settings, starting the engine if needed.
     *
     * @param props Java system properties, flattened key/value pairs
     * @param overrides explicit settings by name, flattened key/value pairs
     * @return the handle id
     */
    long engineOpen(String[] props, String[] overrides);

    /**
     * Blocks until something is pending for the handle, or the timeout passes.
     *
     * @param handle the handle
     * @param timeoutMillis the longest wait
     * @return {@link Native#SNAPSHOT} / {@link Native#LOGS} / {@link Native#SKEW} /
     *     {@link Native#CLOSED} bits, 0 on timeout
     */
    int engineWait(long handle, long timeoutMillis);

    /**
     * Copies the latest snapshot, valid or not (see jni.rs for the array layouts).
     *
     * @param handle the handle
     * @param strings 4 elements, filled
     * @param numbers 4 elements, filled
     * @return false when nothing was published yet
     */
    boolean engineSnapshot(long handle, String[] strings, long[] numbers);

    /**
     * Valid credentials, waiting (bounded) for the engine's single running fetch.
     *
     * @param handle the handle
     * @param waitMillis the longest wait
     * @param strings 4 elements, filled
     * @param numbers 4 elements, filled
     */
    void engineCredentials(long handle, long waitMillis, String[] strings, long[] numbers);

    /**
     * Asks for one shared refresh.
     *
     * @param handle the handle
     * @return whether this call started one
     */
    boolean engineInvalidate(long handle);

    /**
     * Asks for a new clock measurement.
     *
     * @param handle the handle
     */
    void engineMeasureClock(long handle);

    /**
     * Copies the health figures (see jni.rs for the array layouts).
     *
     * @param handle the handle
     * @param strings 5 elements, filled
     * @param numbers 8 elements, filled
     */
    void engineHealth(long handle, String[] strings, long[] numbers);

    /**
     * Closes the handle; idempotent.
     *
     * @param handle the handle
     */
    void engineClose(long handle);

    /**
     * Takes up to {@code max} native log records.
     *
     * @param max the most records to take
     * @param dropped 1 element: records dropped since the last call
     * @return level, target, message triples, flattened
     */
    String[] logDrain(int max, long[] dropped);

    /**
     * Sets the most detailed native level recorded (0 off … 5 trace).
     *
     * @param level the level
     */
    void logLevel(int level);

    /**
     * The number of engines running in the process.
     *
     * @return the count
     */
    int engineCount();

    /**
     * Test-only: makes the native side panic.
     *
     * @param message the panic message
     */
    void debugPanic(String message);

    /**
     * Where this backend's library came from, for logs and health.
     *
     * @return a description
     */
    String describe();
}
