package dev.freshcreds.agent;

import java.lang.instrument.Instrumentation;

/**
 * The freshcreds {@code -javaagent}: fresh instance-profile credentials and NTP-corrected
 * signing time for AWS SDK for Java v1 and v2 clients, with no code change.
 *
 * <pre>
 * java -javaagent:freshcreds-agent.jar[=OPTIONS] -jar app.jar
 * </pre>
 *
 * <p>{@code premain} (and {@code agentmain}, for {@code Launcher-Agent-Class} and dynamic
 * attach) never throws and never waits for the network or the native library: it puts the
 * bridge on the bootstrap class path, registers one class-name-filtered transformer, and starts
 * the engine on a daemon thread. See {@link AgentOptions} for the options.
 *
 * <p>This class names no bridge type: the JVM verifies it before {@code premain} runs, when
 * {@code dev.freshcreds.bootstrap} is not on the bootstrap class path yet. {@link AgentMain}
 * does the rest once it is.
 */
public final class FreshcredsAgent {
    private static boolean started; // guarded by FreshcredsAgent.class

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
        try {
            BootstrapJar.install(inst);
            AgentMain.start(args, inst);
        } catch (Throwable t) {
            try {
                java.util.logging.Logger.getLogger("dev.freshcreds").log(java.util.logging.Level.WARNING,
                        "freshcreds agent: not started; the AWS SDKs keep their own credential providers: " + t, t);
            } catch (Throwable ignored) {
                // premain never throws, not even when logging fails.
            }
        }
    }
}
