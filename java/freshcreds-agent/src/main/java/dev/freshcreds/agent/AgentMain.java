package dev.freshcreds.agent;

import dev.freshcreds.bootstrap.FreshcredsBridge;
import java.lang.instrument.Instrumentation;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The agent's start, once the bridge is on the bootstrap class path: installs the hooks,
 * applies the options, registers the transformer and starts the engine thread. Never waits.
 */
final class AgentMain {
    private AgentMain() {}

    static void start(String args, Instrumentation inst) {
        AgentOptions options = AgentOptions.parse(args != null && !args.trim().isEmpty()
                ? args : System.getProperty(AgentOptions.PROPERTY));
        if (!FreshcredsBridge.install(new AgentHooks())) {
            AgentLog.warn("another copy of the freshcreds agent is already attached; this one stands down");
            return;
        }
        Map<String, String> kept = options.applySystemProperties();
        List<Targets.Target> targets = Targets.of(options);
        LazyTransformer transformer = new LazyTransformer(targets);
        boolean retransform = inst.isRetransformClassesSupported();
        inst.addTransformer(transformer, retransform);
        AgentEngine.startAsync(options, () -> {
            for (Map.Entry<String, String> e : kept.entrySet()) {
                AgentLog.fine("-D" + e.getKey() + "=" + e.getValue() + " wins over the agent option");
            }
            retransformLoaded(inst, transformer, retransform);
        });
        Thread prepare = new Thread(transformer::prepare, "freshcreds-agent-prepare");
        prepare.setDaemon(true);
        prepare.start();
    }

    /** Advises SDK classes loaded before the transformer was registered (dynamic attach). */
    private static void retransformLoaded(Instrumentation inst, LazyTransformer transformer, boolean retransform) {
        List<Class<?>> loaded = new ArrayList<>();
        for (Class<?> c : inst.getAllLoadedClasses()) {
            if (transformer.isTarget(c.getName().replace('.', '/')) && inst.isModifiableClass(c)) {
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
