package dev.freshcreds.testing;

import java.io.File;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a main class in a fresh JVM with this JVM's class path. */
public final class ChildJvm {
    /** Exit code. */
    public final int exitCode;
    /** Standard output. */
    public final String out;
    /** Standard error. */
    public final String err;
    /** Milliseconds from the child's last stdout line to its exit, as seen from here. */
    public final long exitAfterLastLineMillis;

    private ChildJvm(int exitCode, String out, String err, long exitAfterLastLineMillis) {
        this.exitCode = exitCode;
        this.out = out;
        this.err = err;
        this.exitAfterLastLineMillis = exitAfterLastLineMillis;
    }

    /**
     * Runs {@code main} with JVM options.
     *
     * @param main the main class
     * @param jvmOptions e.g. {@code -Dx=y}
     * @return the outcome
     */
    public static ChildJvm run(Class<?> main, String... jvmOptions) {
        return run(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java", main, jvmOptions);
    }

    /**
     * Runs {@code main} on another JDK with JVM options.
     *
     * @param javaBinary the {@code java} launcher
     * @param main the main class
     * @param jvmOptions e.g. {@code -Dx=y}
     * @return the outcome
     */
    public static ChildJvm run(String javaBinary, Class<?> main, String... jvmOptions) {
        List<String> cmd = new ArrayList<>();
        cmd.add(javaBinary);
        cmd.addAll(Arrays.asList(jvmOptions));
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(main.getName());
        try {
            Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.PIPE).start();
            p.getOutputStream().close();
            StringBuilder out = new StringBuilder();
            long[] lastLine = {System.nanoTime()};
            Thread reader = new Thread(() -> {
                try (java.io.BufferedReader r = new java.io.BufferedReader(
                        new java.io.InputStreamReader(p.getInputStream(), java.nio.charset.StandardCharsets.UTF_8))) {
                    for (String line; (line = r.readLine()) != null; ) {
                        synchronized (out) {
                            out.append(line).append('\n');
                            lastLine[0] = System.nanoTime();
                        }
                    }
                } catch (IOException ignored) {
                    // the child is gone
                }
            });
            reader.start();
            String err = Rig.read(p.getErrorStream());
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(main + " did not exit within 60 s");
            }
            long exited = System.nanoTime();
            reader.join(5000);
            synchronized (out) {
                return new ChildJvm(p.exitValue(), out.toString(), err, (exited - lastLine[0]) / 1_000_000);
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public String toString() {
        return "exit " + exitCode + "\n--- stdout\n" + out + "--- stderr\n" + err;
    }
}
