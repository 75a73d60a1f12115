package dev.freshcreds.internal;

import dev.freshcreds.FreshCredentialsException;
import java.util.function.BiFunction;

/**
 * {@link Backend} over a {@link BackendDispatcher} published by another class loader (see
 * {@link Backends}): every call becomes {@code dispatcher.apply(operation, arguments)}.
 * Only the updater thread and the rare blocking path call it, never the hot path.
 */
final class BridgeBackend implements Backend {
    private final BiFunction<String, Object[], Object> dispatcher;
    private final String description;

    BridgeBackend(BiFunction<String, Object[], Object> dispatcher, String description) {
        this.dispatcher = dispatcher;
        this.description = description;
    }

    private Object call(String op, Object... args) {
        try {
            return dispatcher.apply(op, args);
        } catch (FreshCredentialsException e) {
            throw e;
        } catch (RuntimeException e) { // the other loader's FreshCredentialsException, or a bug
            throw new FreshCredentialsException(String.valueOf(e.getMessage()), e);
        }
    }

    @Override
    public long engineOpen(String[] props, String[] overrides) {
        return (Long) call("engineOpen", props, overrides);
    }

    @Override
    public int engineWait(long handle, long timeoutMillis) {
        return (Integer) call("engineWait", handle, timeoutMillis);
    }

    @Override
    public boolean engineSnapshot(long handle, String[] strings, long[] numbers) {
        return (Boolean) call("engineSnapshot", handle, strings, numbers);
    }

    @Override
    public void engineCredentials(long handle, long waitMillis, String[] strings, long[] numbers) {
        call("engineCredentials", handle, waitMillis, strings, numbers);
    }

    @Override
    public boolean engineInvalidate(long handle) {
        return (Boolean) call("engineInvalidate", handle);
    }

    @Override
    public void engineMeasureClock(long handle) {
        call("engineMeasureClock", handle);
    }

    @Override
    public void engineHealth(long handle, String[] strings, long[] numbers) {
        call("engineHealth", handle, strings, numbers);
    }

    @Override
    public void engineClose(long handle) {
        call("engineClose", handle);
    }

    @Override
    public String[] logDrain(int max, long[] dropped) {
        return (String[]) call("logDrain", max, dropped);
    }

    @Override
    public void logLevel(int level) {
        call("logLevel", level);
    }

    @Override
    public int engineCount() {
        return (Integer) call("engineCount");
    }

    @Override
    public void debugPanic(String message) {
        call("debugPanic", message);
    }

    @Override
    public String describe() {
        return description;
    }
}
