package dev.freshcreds.agent.advice;

import dev.freshcreds.bootstrap.FreshcredsBridge;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.implementation.bytecode.assign.Assigner;

/**
 * {@code mode=force}, SDK v1: inlined into {@code AWSCredentialsProviderChain.getCredentials()},
 * which {@code DefaultAWSCredentialsProviderChain} inherits; replaces the default chain only
 * (the bridge checks the instance's class), other chains run as written.
 */
public final class DefaultChainAdvice {
    private DefaultChainAdvice() {}

    /**
     * @param self the chain
     * @return freshcreds' credentials object, or null to run the chain
     */
    @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class, suppress = Throwable.class)
    public static Object enter(@Advice.This Object self) {
        return FreshcredsBridge.defaultChainCredentials(self);
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
