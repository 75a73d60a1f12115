package dev.freshcreds.agent.advice;

import dev.freshcreds.bootstrap.FreshcredsBridge;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.implementation.bytecode.assign.Assigner;

/**
 * Inlined into v1 {@code HandlerChainFactory.getGlobalHandlers()} and v2
 * {@code ClasspathInterceptorChainFactory.getGlobalInterceptors()}, which every client calls
 * while it is built: appends freshcreds' {@code RequestHandler2} / {@code ExecutionInterceptor}
 * (the library's, defined beside that SDK copy) to the new, mutable list.
 */
public final class ErrorHookAdvice {
    private ErrorHookAdvice() {}

    /**
     * @param type the advised class
     * @param returned the list the SDK built
     */
    @Advice.OnMethodExit(suppress = Throwable.class)
    public static void exit(@Advice.Origin Class<?> type,
            @Advice.Return(typing = Assigner.Typing.DYNAMIC) Object returned) {
        FreshcredsBridge.addErrorHook(type, returned);
    }
}
