package dev.freshcreds.agent;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.none;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import java.lang.instrument.ClassFileTransformer;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import net.bytebuddy.ByteBuddy;
import net.bytebuddy.agent.builder.AgentBuilder;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.asm.AsmVisitorWrapper;
import net.bytebuddy.dynamic.scaffold.TypeValidation;
import net.bytebuddy.utility.JavaModule;

/**
 * Builds the ByteBuddy transformer for {@link Targets}. Advice is inlined without changing
 * the class format (no new fields or methods), so already loaded classes can be retransformed.
 * Built on first need, by {@link LazyTransformer}: a JVM that never loads an AWS SDK class
 * never loads ByteBuddy.
 */
final class Instrumenter {
    private Instrumenter() {}

    static ClassFileTransformer build(List<Targets.Target> targets) {
        Map<String, Map<Class<?>, String[]>> byClass = new LinkedHashMap<>();
        for (Targets.Target t : targets) {
            Map<Class<?>, String[]> m = byClass.computeIfAbsent(t.className, k -> new IdentityHashMap<>());
            String[] old = m.get(t.advice);
            String[] methods = old == null ? new String[] {t.method} : append(old, t.method);
            m.put(t.advice, methods);
        }
        Map<Class<?>, Advice> advice = new IdentityHashMap<>();
        AgentBuilder builder = new AgentBuilder.Default(new ByteBuddy().with(TypeValidation.DISABLED))
                .disableClassFormatChanges()
                .ignore(none())
                .with(new ErrorListener());
        for (Map.Entry<String, Map<Class<?>, String[]>> e : byClass.entrySet()) {
            AsmVisitorWrapper.Compound wrappers = null;
            for (Map.Entry<Class<?>, String[]> a : e.getValue().entrySet()) {
                Advice adv = advice.computeIfAbsent(a.getKey(), Advice::to);
                for (String method : a.getValue()) {
                    AsmVisitorWrapper w = adv.on(named(method).and(takesArguments(0)));
                    wrappers = wrappers == null ? new AsmVisitorWrapper.Compound(w) : new AsmVisitorWrapper.Compound(wrappers, w);
                }
            }
            AsmVisitorWrapper visit = wrappers;
            builder = builder.type(named(e.getKey())).transform((b, type, loader, module, domain) -> b.visit(visit));
        }
        return builder.makeRaw();
    }

    private static String[] append(String[] a, String s) {
        String[] out = java.util.Arrays.copyOf(a, a.length + 1);
        out[a.length] = s;
        return out;
    }

    /** Logs each failed transformation once per class name; the class then loads unchanged. */
    private static final class ErrorListener extends AgentBuilder.Listener.Adapter {
        private final Set<String> seen = ConcurrentHashMap.newKeySet();

        @Override
        public void onError(String typeName, ClassLoader classLoader, JavaModule module, boolean loaded, Throwable throwable) {
            if (seen.add(typeName)) {
                AgentLog.warn("could not advise " + typeName + " (it keeps the SDK's own behaviour)", throwable);
            }
        }

        @Override
        public void onTransformation(net.bytebuddy.description.type.TypeDescription typeDescription, ClassLoader classLoader,
                JavaModule module, boolean loaded, net.bytebuddy.dynamic.DynamicType dynamicType) {
            AgentLog.fine("advised " + typeDescription.getName() + " in " + classLoader + (loaded ? " (retransformed)" : ""));
        }
    }
}
