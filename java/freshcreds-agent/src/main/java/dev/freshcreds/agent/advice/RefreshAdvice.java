package dev.freshcreds.agent.advice;

import dev.freshcreds.bootstrap.FreshcredsBridge;
import net.bytebuddy.asm.Advice;

/**
 * Inlined into v1 {@code InstanceProfileCredentialsProvider.refresh()}: while freshcreds
 * serves the credentials, a refresh asked of the SDK's provider becomes one shared refresh of
 * the engine (the SDK's own refresh only drops its cache, and still runs).
 */
public final class RefreshAdvice {
    private RefreshAdvice() {}

    /** Forwards the refresh. */
    @Advice.OnMethodEnter(suppress = Throwable.class)
    public static void enter() {
        FreshcredsBridge.refresh();
    }
}
