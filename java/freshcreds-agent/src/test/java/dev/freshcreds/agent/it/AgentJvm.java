package dev.freshcreds.agent.it;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A separate JVM started with {@code -javaagent:freshcreds-agent.jar} (the shaded jar the build
 * just made), a clean AWS environment (no AWS_* variables, a fresh HOME, no config files) and
 * {@code AWS_REGION=us-east-1}. Nothing in it may reach a link-local address: tests pass the
 * IMDS endpoint and {@code ntp} explicitly.
 */
final class AgentJvm {
    private final String main;
    private final List<String> jvm = new ArrayList<>();
    private final List<String> args = new ArrayList<>();
    private final Map<String, String> env = new LinkedHashMap<>();
    private String classpath;
    private String agentArgs = "";
    private Path executableJar;
    private boolean agent = true;

    private AgentJvm(String main) {
        this.main = main;
        this.classpath = Classpaths.app();
        for (Map.Entry<String, String> e : System.getenv().entrySet()) {
            String k = e.getKey();
            if (!k.startsWith("AWS_") && !k.startsWith("FRESHCREDS_") && !k.equals("JAVA_TOOL_OPTIONS")
                    && !k.equals("_JAVA_OPTIONS") && !k.equals("JDK_JAVA_OPTIONS") && !k.equals("LD_PRELOAD")) {
                env.put(k, e.getValue());
            }
        }
        Path home = Classpaths.work().resolve("home");
        env.put("HOME", home.toString());
        env.put("AWS_REGION", "us-east-1");
        env.put("AWS_CONFIG_FILE", home.resolve("aws-config").toString());
        env.put("AWS_SHARED_CREDENTIALS_FILE", home.resolve("aws-credentials").toString());
        jvm.add("-Dfreshcreds.native.workdir=" + Classpaths.work().resolve("native"));
    }

    static AgentJvm of(Class<?> main) {
        return new AgentJvm(main.getName());
    }

    static AgentJvm of(String main) {
        return new AgentJvm(main);
    }

    AgentJvm agentArgs(String a) {
        agentArgs = a;
        return this;
    }

    /** Runs {@code java -jar JAR} (its manifest names the main class and the class path). */
    AgentJvm executableJar(Path jar) {
        executableJar = jar;
        return this;
    }

    AgentJvm noAgent() {
        agent = false;
        return this;
    }

    AgentJvm classpath(String cp) {
        classpath = cp;
        return this;
    }

    AgentJvm env(String k, String v) {
        env.put(k, v);
        return this;
    }

    AgentJvm jvm(String... options) {
        jvm.addAll(Arrays.asList(options));
        return this;
    }

    /** Both SDKs' own IMDS clients point at {@code url} (so a fall-through would show in its log). */
    AgentJvm sdkImds(String url) {
        return jvm("-Daws.ec2MetadataServiceEndpoint=" + url, "-Dcom.amazonaws.sdk.ec2MetadataServiceEndpointOverride=" + url);
    }

    /**
     * Runs the JVM with libfaketime, its wall clock moved by {@code offset} (e.g. {@code -10m}).
     *
     * <p>With {@code FAKETIME_DONT_FAKE_MONOTONIC=1} every monotonic clock read of the JVM takes
     * libfaketime's slow path: an SDK application then runs about 13 times slower here (26 s
     * instead of 2 s). A constant offset leaves every monotonic interval unchanged, so the
     * monotonic clock is shifted too, unless the machine has been up for less than the offset
     * (the shifted clock would go negative).
     */
    AgentJvm faketime(String offset) {
        env.put("LD_PRELOAD", Classpaths.faketimeLib());
        env.put("FAKETIME", offset);
        if (uptimeSeconds() < 1_800) {
            env.put("FAKETIME_DONT_FAKE_MONOTONIC", "1");
        }
        return this;
    }

    private static double uptimeSeconds() {
        try {
            return Double.parseDouble(new String(Files.readAllBytes(Paths.get("/proc/uptime")), StandardCharsets.UTF_8).split(" ")[0]);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    AgentJvm args(String... a) {
        args.addAll(Arrays.asList(a));
        return this;
    }

    Result run() {
        return start().finish();
    }

    /** Starts the JVM; {@link Running#finish()} waits for it. */
    Running start() {
        List<String> cmd = new ArrayList<>();
        cmd.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
        if (agent) {
            cmd.add("-javaagent:" + Classpaths.agentJar() + (agentArgs.isEmpty() ? "" : "=" + agentArgs));
        }
        cmd.addAll(jvm);
        if (executableJar != null) {
            cmd.add("-jar");
            cmd.add(executableJar.toString());
        } else {
            cmd.add("-cp");
            cmd.add(classpath);
            cmd.add(main);
        }
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().clear();
        pb.environment().putAll(env);
        try {
            Path home = Classpaths.work().resolve("home");
            Files.createDirectories(home);
            for (String f : new String[] {"aws-config", "aws-credentials"}) {
                if (!Files.exists(home.resolve(f))) {
                    Files.createFile(home.resolve(f)); // empty: no profile
                }
            }
            Files.createDirectories(Classpaths.work().resolve("native"));
            return new Running(cmd, pb.start());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A started child JVM. */
    static final class Running {
        private final List<String> cmd;
        private final Process p;
        private final StreamReader out;
        private final StreamReader err;
        private final long t0 = System.nanoTime();

        Running(List<String> cmd, Process p) throws IOException {
            this.cmd = cmd;
            this.p = p;
            p.getOutputStream().close();
            this.out = new StreamReader(p.getInputStream());
            this.err = new StreamReader(p.getErrorStream());
        }

        /** Waits until stdout has a {@code key=value} line; returns the value. */
        String await(String key, long timeoutMillis) {
            long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
            while (System.nanoTime() < deadline) {
                for (String line : out.text().split("\n")) {
                    if (line.startsWith(key + "=")) {
                        return line.substring(key.length() + 1).trim();
                    }
                }
                if (!p.isAlive()) {
                    break;
                }
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            throw new AssertionError("no " + key + "= line within " + timeoutMillis + " ms\n--- stdout\n" + out.text()
                    + "--- stderr\n" + err.text());
        }

        Result finish() {
            try {
                if (!p.waitFor(120, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new AssertionError(String.join(" ", cmd) + " did not exit within 120 s; stderr:\n" + err.text());
                }
                out.join();
                err.join();
                return new Result(cmd, p.exitValue(), out.text(), err.text(), (System.nanoTime() - t0) / 1_000_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }

    /** What a child JVM did. */
    static final class Result {
        final List<String> command;
        final int exitCode;
        final String out;
        final String err;
        final long millis;

        Result(List<String> command, int exitCode, String out, String err, long millis) {
            this.command = command;
            this.exitCode = exitCode;
            this.out = out;
            this.err = err;
            this.millis = millis;
        }

        /** The value of the last {@code key=value} line printed on stdout, or null. */
        String value(String key) {
            String v = null;
            for (String line : out.split("\n")) {
                if (line.startsWith(key + "=")) {
                    v = line.substring(key.length() + 1).trim();
                }
            }
            return v;
        }

        /** How often {@code regex} occurs in stderr. */
        int countErr(String regex) {
            Matcher m = Pattern.compile(regex).matcher(err);
            int n = 0;
            while (m.find()) {
                n++;
            }
            return n;
        }

        Result assertOk() {
            if (exitCode != 0) {
                throw new AssertionError("exit " + exitCode + "\n" + this);
            }
            return this;
        }

        @Override
        public String toString() {
            return String.join(" ", command) + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    private static final class StreamReader extends Thread {
        private final InputStream in;
        private final ByteArrayOutputStream buf = new ByteArrayOutputStream();

        StreamReader(InputStream in) {
            this.in = in;
            setDaemon(true);
            start();
        }

        @Override
        public void run() {
            byte[] b = new byte[8192];
            try {
                for (int n; (n = in.read(b)) > 0; ) {
                    synchronized (buf) {
                        buf.write(b, 0, n);
                    }
                }
            } catch (IOException ignored) {
                // the child is gone
            }
        }

        String text() {
            synchronized (buf) {
                return new String(buf.toByteArray(), StandardCharsets.UTF_8);
            }
        }
    }

    /** Paths the ITs use. */
    static final class Classpaths {
        private Classpaths() {}

        static Path repo() {
            return Paths.get(System.getProperty("freshcreds.repo", "../..")).toAbsolutePath().normalize();
        }

        static Path work() {
            return Paths.get(System.getProperty("freshcreds.testWork", "target/it-work")).toAbsolutePath();
        }

        static String agentJar() {
            String jar = System.getProperty("freshcreds.agentJar");
            if (jar == null || !new File(jar).isFile()) {
                throw new IllegalStateException("the agent jar is not built: " + jar);
            }
            return jar;
        }

        /** The fixture application with both SDKs relocated under org.acme.shaded. (java/fixtures). */
        static String shadedSdkAppJar() {
            String jar = System.getProperty("freshcreds.shadedSdkAppJar");
            if (jar == null || !new File(jar).isFile()) {
                throw new IllegalStateException("the fixture " + jar + " is not built: mvn -f java/pom.xml install builds "
                        + "java/fixtures/shaded-sdk-app before the agent");
            }
            return jar;
        }

        static String libraryJar() {
            return System.getProperty("freshcreds.libraryJar");
        }

        /** The test class path as Maven gave it. */
        static List<String> testClasspath() {
            String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
            return Arrays.asList(cp.split(File.pathSeparator));
        }

        /** This module's compiled tests (the apps). */
        static String testClasses() {
            for (String e : testClasspath()) {
                if (e.replace('\\', '/').endsWith("freshcreds-agent/target/test-classes")) {
                    return e;
                }
            }
            throw new IllegalStateException("no test-classes in " + testClasspath());
        }

        /** The AWS SDKs and their dependencies: the test class path without freshcreds and ByteBuddy. */
        static List<String> sdk() {
            List<String> out = new ArrayList<>();
            for (String e : testClasspath()) {
                String u = e.replace('\\', '/');
                if (u.contains("/freshcreds") && (u.endsWith("/target/classes") || u.endsWith("/target/test-classes")
                        || u.contains("/dev/freshcreds/") || u.matches(".*freshcreds-[^/]*\\.jar"))) {
                    continue;
                }
                if (u.contains("byte-buddy") || u.contains("junit") || u.contains("opentest4j") || u.contains("apiguardian")) {
                    continue;
                }
                out.add(e);
            }
            return out;
        }

        /** An unmodified application: its classes and the SDKs on the system class path. */
        static String app() {
            List<String> cp = new ArrayList<>();
            cp.add(testClasses());
            cp.addAll(sdk());
            return String.join(File.pathSeparator, cp);
        }

        static String faketimeLib() {
            try {
                Process p = new ProcessBuilder(repo().resolve("tests/rig/faketime-lib.sh").toString()).start();
                p.getOutputStream().close();
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                byte[] b = new byte[4096];
                InputStream in = p.getInputStream();
                for (int n; (n = in.read(b)) > 0; ) {
                    out.write(b, 0, n);
                }
                if (p.waitFor() != 0) {
                    throw new IllegalStateException("tests/rig/faketime-lib.sh failed");
                }
                return new String(out.toByteArray(), StandardCharsets.UTF_8).trim();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }
}
