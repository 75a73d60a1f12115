package dev.freshcreds.internal;

/** {@link Backend} over this class loader's own natives ({@link Native}). */
final class JniBackend implements Backend {
    private final String description;

    JniBackend(String description) {
        this.description = description;
    }

    @Override
    public long engineOpen(String[] props, String[] overrides) {
        return Native.engineOpen(props, overrides);
    }

    @Override
    public int engineWait(long handle, long timeoutMillis) {
        return Native.engineWait(handle, timeoutMillis);
    }

    @Override
    public boolean engineSnapshot(long handle, String[] strings, long[] numbers) {
        return Native.engineSnapshot(handle, strings, numbers);
    }

    @Override
    public void engineCredentials(long handle, long waitMillis, String[] strings, long[] numbers) {
        Native.engineCredentials(handle, waitMillis, strings, numbers);
    }

    @Override
    public boolean engineInvalidate(long handle) {
        return Native.engineInvalidate(handle);
    }

    @Override
    public void engineMeasureClock(long handle) {
        Native.engineMeasureClock(handle);
    }

    @Override
    public void engineHealth(long handle, String[] strings, long[] numbers) {
        Native.engineHealth(handle, strings, numbers);
    }

    @Override
    public void engineClose(long handle) {
        Native.engineClose(handle);
    }

    @Override
    public String[] logDrain(int max, long[] dropped) {
        return Native.logDrain(max, dropped);
    }

    @Override
    public void logLevel(int level) {
        Native.logLevel(level);
    }

    @Override
    public int engineCount() {
        return Native.engineCount();
    }

    @Override
    public void debugPanic(String message) {
        Native.debugPanic(message);
    }

    @Override
    public String describe() {
        return description;
    }
}
