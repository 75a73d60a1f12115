package dev.freshcreds.internal;

import dev.freshcreds.FreshCredentials;
import java.util.function.Function;

/**
 * Lets the SDK adapters reach the {@link EngineCore} behind a {@link FreshCredentials}
 * without making it part of the public API (the "shared secrets" pattern: the public class
 * installs the accessor from its static initializer). Not an API.
 */
public final class Access {
    private static volatile Function<FreshCredentials, EngineCore> accessor;

    private Access() {}

    /**
     * Installs the accessor; only {@link FreshCredentials} calls this, once.
     *
     * @param f the accessor
     */
    public static void install(Function<FreshCredentials, EngineCore> f) {
        if (accessor == null) {
            accessor = f;
        }
    }

    /**
     * The core behind {@code credentials}.
     *
     * @param credentials an engine handle
     * @return its core
     */
    public static EngineCore core(FreshCredentials credentials) {
        return accessor.apply(credentials);
    }
}
