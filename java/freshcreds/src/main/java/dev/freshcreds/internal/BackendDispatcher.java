package dev.freshcreds.internal;

import java.util.function.BiFunction;

/**
 * A {@link Backend} as a {@code BiFunction<String, Object[], Object>}: the shape another class
 * loader can call, since it names JDK types only. Deliberately not {@code Serializable}: read
 * through remote JMX it fails, so only code inside this JVM gets it.
 */
final class BackendDispatcher implements BiFunction<String, Object[], Object> {
    private final Backend backend;

    BackendDispatcher(Backend backend) {
        this.backend = backend;
    }

    @Override
    public Object apply(String op, Object[] a) {
        switch (op) {
            case "engineOpen":
                return backend.engineOpen((String[]) a[0], (String[]) a[1]);
            case "engineWait":
                return backend.engineWait((Long) a[0], (Long) a[1]);
            case "engineSnapshot":
                return backend.engineSnapshot((Long) a[0], (String[]) a[1], (long[]) a[2]);
            case "engineCredentials":
                backend.engineCredentials((Long) a[0], (Long) a[1], (String[]) a[2], (long[]) a[3]);
                return null;
            case "engineInvalidate":
                return backend.engineInvalidate((Long) a[0]);
            case "engineMeasureClock":
                backend.engineMeasureClock((Long) a[0]);
                return null;
            case "engineHealth":
                backend.engineHealth((Long) a[0], (String[]) a[1], (long[]) a[2]);
                return null;
            case "engineClose":
                backend.engineClose((Long) a[0]);
                return null;
            case "logDrain":
                return backend.logDrain((Integer) a[0], (long[]) a[1]);
            case "logLevel":
                backend.logLevel((Integer) a[0]);
                return null;
            case "engineCount":
                return backend.engineCount();
            case "debugPanic":
                backend.debugPanic((String) a[0]);
                return null;
            default:
                throw new IllegalArgumentException("unknown freshcreds bridge operation " + op);
        }
    }

    @Override
    public String toString() {
        return "BackendDispatcher(" + backend.describe() + ")";
    }
}
