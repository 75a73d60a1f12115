package dev.freshcreds.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs the test rig's scripts (tests/rig) and parses their {@code KEY=value} output. */
public final class Rig {
    private Rig() {}

    /** @return the repository root */
    public static Path repo() {
        return Paths.get(System.getProperty("freshcreds.repo", "../..")).toAbsolutePath().normalize();
    }

    /** @return this JVM's pid (Java 8 API) */
    public static String pid() {
        return ManagementFactory.getRuntimeMXBean().getName().split("@")[0];
    }

    /**
     * Runs {@code tests/rig/SCRIPT ARGS} with {@code RIG_OWNER_PID} set to this JVM.
     *
     * @param script e.g. {@code aemm.sh}
     * @param args its arguments
     * @return the KEY=value lines it printed
     */
    public static Map<String, String> run(String script, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(repo().resolve("tests/rig").resolve(script).toString());
        cmd.addAll(Arrays.asList(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("RIG_OWNER_PID", pid());
        pb.environment().remove("AEMM_PORT");
        pb.environment().remove("MOTO_PORT");
        pb.redirectErrorStream(false);
        try {
            Process p = pb.start();
            p.getOutputStream().close();
            String out = read(p.getInputStream());
            String err = read(p.getErrorStream());
            if (!p.waitFor(180, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(script + " timed out");
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException(cmd + " failed (" + p.exitValue() + "): " + err + out);
            }
            Map<String, String> m = new HashMap<>();
            for (String line : out.split("\n")) {
                int eq = line.indexOf('=');
                if (eq > 0) {
                    m.put(line.substring(0, eq).trim(), line.substring(eq + 1).trim());
                }
            }
            return m;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static String read(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        for (int n; (n = in.read(buf)) > 0; ) {
            out.write(buf, 0, n);
        }
        return new String(out.toByteArray(), StandardCharsets.UTF_8);
    }

    /** A running AEMM instance. */
    public static final class Aemm implements AutoCloseable {
        /** Base URL. */
        public final String url;
        /** Its config file (for rotation). */
        public final String config;
        private final String port;

        private Aemm(Map<String, String> env) {
            this.url = env.get("AEMM_URL");
            this.config = env.get("AEMM_CONFIG");
            this.port = url.substring(url.lastIndexOf(':') + 1);
        }

        /** @return a new AEMM on a free loopback port */
        public static Aemm start() {
            return new Aemm(run("aemm.sh", "start"));
        }

        /**
         * Serves new credentials and waits until AEMM does.
         *
         * @param keyId access key id
         * @param secret secret key
         * @param token session token
         * @param expiration RFC 3339
         * @param lastUpdated RFC 3339
         */
        public void rotate(String keyId, String secret, String token, String expiration, String lastUpdated) {
            run("aemm.sh", "rotate", config, keyId, secret, token, expiration, lastUpdated);
        }

        @Override
        public void close() {
            run("aemm.sh", "stop", port);
        }
    }
}
