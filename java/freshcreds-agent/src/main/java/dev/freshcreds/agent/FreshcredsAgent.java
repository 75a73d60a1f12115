package dev.freshcreds.agent;

import dev.freshcreds.internal.Backends;
import java.lang.instrument.Instrumentation;
import java.util.Map;

/**
 * The freshcreds {@code -javaagent}: fresh instance-profile credentials and NTP-corrected
 * signing time for AWS SDK for Java v1 and v2 clients, with no code change.
 *
 * <pre>
 * java -javaagent:freshcreds-agent.jar[=OPTIONS] -jar app.jar
 * </pre>
 *
 * <p>{@code premain} (and {@code agentmain}, for {@code Launcher-Agent-Class} and dynamic
 * attach) never throws and never waits: it parses the options, registers one
 * class-name-filtered transformer and starts two daemon threads. The bridge in the bootstrap
 * loader, the engine and ByteBuddy are built on those threads (or on the thread that loads the
 * first AWS SDK class, if that comes first), so a JVM that never uses an SDK pays only for
 * {@code premain} itself. See {@link AgentOptions} for the options.
 *
 * <p>The bridge-state property's name and values are the library's {@link Backends} constants
 * (compile-time constants: referring to them loads no library class in {@code premain}).
 *
 * <p>This class and what {@code premain} runs name no bridge type: the JVM verifies them
 * before the bridge is in the bootstrap loader. {@link AgentMain} does the rest once it is.
 */
public final class FreshcredsAgent {
    private static boolean started; // guarded by FreshcredsAgent.class
    private static int bridge; // guarded by BRIDGE_LOCK: 0 not tried, 1 ready, -1 failed
    private static final Object BRIDGE_LOCK = new Object();
    /** How long premain took, for the start thread's debug log (premain itself never logs). */
    static volatile long premainMicros;

    private FreshcredsAgent() {}

    /**
     * The {@code -javaagent} entry point.
     *
     * @param args the option string, may be null
     * @param inst the instrumentation
     */
    public static void premain(String args, Instrumentation inst) {
        start(args, inst);
    }

    /**
     * The {@code Launcher-Agent-Class} and dynamic-attach entry point.
     *
     * @param args the option string, may be null
     * @param inst the instrumentation
     */
    public static void agentmain(String args, Instrumentation inst) {
        start(args, inst);
    }

    private static synchronized void start(String args, Instrumentation inst) {
        if (started) {
            return;
        }
        started = true;
        long t0 = System.nanoTime();
        try {
            AgentOptions options = AgentOptions.parse(args != null && !args.trim().isEmpty()
                    ? args : System.getProperty(AgentOptions.PROPERTY));
            // Before the application's main: the engine and the SDKs read these properties.
            Map<String, String> kept = options.applySystemProperties();
            // A copy of the library in the application that starts before the bridge is
            // defined waits for it while this says "pending" (Backends.fromAgent).
            System.setProperty(Backends.AGENT_BRIDGE_STATE, Backends.AGENT_BRIDGE_PENDING);
            LazyTransformer transformer = new LazyTransformer(options,
                    new Background(Background.BRIDGE, inst, options, kept, null, false));
            boolean retransform = inst.isRetransformClassesSupported();
            inst.addTransformer(transformer, retransform);
            daemon(new Background(Background.START, inst, options, kept, transformer, retransform), "freshcreds-agent-start");
            daemon(new Background(Background.PREPARE, inst, options, kept, transformer, retransform),
                    "freshcreds-agent-prepare");
            premainMicros = (System.nanoTime() - t0) / 1_000;
        } catch (Throwable t) {
            if (Backends.AGENT_BRIDGE_PENDING.equals(System.getProperty(Backends.AGENT_BRIDGE_STATE))) {
                System.setProperty(Backends.AGENT_BRIDGE_STATE, Backends.AGENT_BRIDGE_FAILED);
            }
            notStarted(t);
        }
    }

    /**
     * Makes sure the bridge is in the bootstrap loader and the agent's hooks are installed in
     * it; the first caller does the work, the others wait for its outcome. Never throws.
     *
     * @param inst the instrumentation
     * @return whether the agent serves (false: it failed, or another agent copy owns the bridge)
     */
    static boolean bridgeReady(Instrumentation inst) {
        synchronized (BRIDGE_LOCK) {
            if (bridge == 0) {
                bridge = -1;
                try {
                    String how = BridgeInjector.install(inst);
                    if (AgentMain.installHooks()) {
                        bridge = 1;
                        AgentLog.fine("bridge " + how + " in the bootstrap loader");
                    }
                } catch (Throwable t) {
                    notStarted(t);
                } finally {
                    System.setProperty(Backends.AGENT_BRIDGE_STATE,
                            bridge == 1 ? Backends.AGENT_BRIDGE_READY : Backends.AGENT_BRIDGE_FAILED);
                }
            }
            return bridge == 1;
        }
    }

    private static void notStarted(Throwable t) {
        try {
            java.util.logging.Logger.getLogger("dev.freshcreds").log(java.util.logging.Level.WARNING,
                    "freshcreds agent: not started; the AWS SDKs keep their own credential providers: " + t, t);
        } catch (Throwable ignored) {
            // premain never throws, not even when logging fails.
        }
    }

    private static void daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        t.start();
    }

    /**
     * The agent's background jobs: the transformer's way to the bridge ({@link #BRIDGE}), the
     * start thread ({@link #START}: bridge, engine, SDK classes loaded before the transformer)
     * and the prepare thread ({@link #PREPARE}: ByteBuddy's advice before the application's
     * first SDK class). One class, not three, and no lambdas: each class {@code premain}
     * loads costs the application's start-up.
     */
    private static final class Background implements Runnable, java.util.function.BooleanSupplier {
        static final int BRIDGE = 0;
        static final int START = 1;
        static final int PREPARE = 2;

        private final int job;
        private final Instrumentation inst;
        private final AgentOptions options;
        private final Map<String, String> kept;
        private final LazyTransformer transformer;
        private final boolean retransform;

        Background(int job, Instrumentation inst, AgentOptions options, Map<String, String> kept,
                LazyTransformer transformer, boolean retransform) {
            this.job = job;
            this.inst = inst;
            this.options = options;
            this.kept = kept;
            this.transformer = transformer;
            this.retransform = retransform;
        }

        @Override
        public boolean getAsBoolean() {
            return bridgeReady(inst);
        }

        @Override
        public void run() {
            if (!bridgeReady(inst)) {
                return;
            }
            if (job == START) {
                AgentMain.startEngine(options, kept, inst, transformer, retransform);
            } else if (job == PREPARE) {
                transformer.prepare();
            }
        }
    }
}
