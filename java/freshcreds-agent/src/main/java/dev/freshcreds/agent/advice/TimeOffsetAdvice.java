package dev.freshcreds.agent.advice;

import dev.freshcreds.bootstrap.FreshcredsBridge;
import net.bytebuddy.asm.Advice;

/**
 * Inlined into the time-offset getters the SDKs sign with: v1 {@code SDKGlobalTime
 * .getGlobalTimeOffset()} and {@code DefaultRequest.getTimeOffset()}, v2 {@code SdkGlobalTime
 * .getGlobalTimeOffset()} and {@code HttpClientDependencies.timeOffset()}. Once freshcreds
 * measured the clock, they return its offset (whole seconds, local minus server), so clients
 * built before the measurement sign with corrected time too.
 */
public final class TimeOffsetAdvice {
    private TimeOffsetAdvice() {}

    /** @param returned the SDK's value, replaced by freshcreds' when measured */
    @Advice.OnMethodExit(suppress = Throwable.class)
    public static void exit(@Advice.Return(readOnly = false) int returned) {
        returned = FreshcredsBridge.timeOffset(returned);
    }
}
