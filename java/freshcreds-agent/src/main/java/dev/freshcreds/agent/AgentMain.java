package dev.freshcreds.agent;

import dev.freshcreds.bootstrap.FreshcredsBridge;
import java.lang.instrument.Instrumentation;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The agent's start once the bridge is in the bootstrap loader: installs the hooks, starts the
 * engine, and advises SDK classes loaded before the transformer. Runs on the agent's threads.
 */
final class AgentMain {
    private AgentMain() {}

    /** @return whether this agent's hooks are the bridge's (false: another copy got there first) */
    static boolean installHooks() {
        if (FreshcredsBridge.install(new AgentHooks())) {
            return true;
        }
        AgentLog.warn("another copy of the freshcreds agent is already attached; this one stands down");
        return false;
    }

    static void startEngine(AgentOptions options, Map<String, String> kept, Instrumentation inst,
            LazyTransformer transformer, boolean retransform) {
        AgentEngine.start(options, () -> {
            AgentLog.fine("premain took " + FreshcredsAgent.premainMicros + " µs");
            for (Map.Entry<String, String> e : kept.entrySet()) {
                AgentLog.fine("-D" + e.getKey() + "=" + e.getValue() + " wins over the agent option");
            }
            retransformLoaded(inst, transformer, retransform);
        });
    }

    /** Advises SDK classes loaded before the transformer was registered (dynamic attach). */
    private static void retransformLoaded(Instrumentation inst, LazyTransformer transformer, boolean retransform) {
        List<Class<?>> loaded = new ArrayList<>();
        for (Class<?> c : inst.getAllLoadedClasses()) {
            if (transformer.isTarget(c.getName().replace('.', '/')) && !transformer.wasAdvised(c) && inst.isModifiableClass(c)) {
                loaded.add(c);
            }
        }
        if (loaded.isEmpty()) {
            return;
        }
        if (!retransform) {
            AgentLog.warn(loaded.size() + " AWS SDK classes were loaded before the agent and this JVM cannot "
                    + "retransform them (Can-Retransform-Classes); they keep the SDK's own behaviour");
            return;
        }
        try {
            inst.retransformClasses(loaded.toArray(new Class<?>[0]));
        } catch (Throwable t) {
            AgentLog.warn("retransforming " + loaded.size() + " AWS SDK classes failed", t);
        }
    }
}
