package dev.freshcreds.agent.advice;

import dev.freshcreds.bootstrap.FreshcredsBridge;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.implementation.bytecode.assign.Assigner;

/**
 * Inlined into v1 {@code InstanceProfileCredentialsProvider.getCredentials()}, v2
 * {@code InstanceProfileCredentialsProvider.resolveCredentials()} and, with {@code mode=force},
 * v2 {@code DefaultCredentialsProvider.resolveCredentials()}: when freshcreds has credentials,
 * the SDK's method body is skipped and freshcreds' are returned; otherwise the SDK's own code
 * runs. Names no SDK type, so it also works for SDKs relocated under another package.
 */
public final class CredentialsAdvice {
    private CredentialsAdvice() {}

    /**
     * @param type the advised class (selects the SDK copy)
     * @return freshcreds' credentials object, or null to run the SDK's method
     */
    @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class, suppress = Throwable.class)
    public static Object enter(@Advice.Origin Class<?> type) {
        return FreshcredsBridge.credentials(type);
    }

    /**
     * @param fresh what {@link #enter} returned
     * @param returned the method's return value
     */
    @Advice.OnMethodExit(suppress = Throwable.class)
    public static void exit(@Advice.Enter Object fresh,
            @Advice.Return(readOnly = false, typing = Assigner.Typing.DYNAMIC) Object returned) {
        if (fresh != null) {
            returned = fresh;
        }
    }
}
