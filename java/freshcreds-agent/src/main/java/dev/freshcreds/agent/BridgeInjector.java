package dev.freshcreds.agent;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.instrument.Instrumentation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.jar.JarFile;

/**
 * Puts the bridge ({@code dev.freshcreds.bootstrap}) on the bootstrap class path: the nested
 * jar is copied to a unique owner-only temporary file (in {@code freshcreds.native.workdir},
 * else {@code java.io.tmpdir}), appended with
 * {@link Instrumentation#appendToBootstrapClassLoaderSearch}, and deleted (the JVM keeps its
 * open handle).
 */
final class BootstrapJar {
    static final String BRIDGE = "dev.freshcreds.bootstrap.FreshcredsBridge";
    private static final String RESOURCE = "freshcreds-bootstrap.jar";

    private BootstrapJar() {}

    /** @return whether the bridge is on the bootstrap class path */
    static boolean present() {
        try {
            Class.forName(BRIDGE, false, null);
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /**
     * Installs the bridge unless it is there already.
     *
     * @param inst the instrumentation
     * @throws IOException when the nested jar is missing or cannot be written
     */
    static void install(Instrumentation inst) throws IOException {
        if (present()) {
            return;
        }
        String dir = System.getProperty("freshcreds.native.workdir");
        if (dir == null || dir.trim().isEmpty()) {
            dir = System.getProperty("java.io.tmpdir", "/tmp");
        }
        Path tmp;
        Path workdir = Paths.get(dir);
        try {
            tmp = Files.createTempFile(workdir, "freshcreds-bootstrap-", ".jar",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException e) {
            tmp = Files.createTempFile(workdir, "freshcreds-bootstrap-", ".jar");
        }
        try {
            try (InputStream in = BootstrapJar.class.getResourceAsStream(RESOURCE);
                 OutputStream out = Files.newOutputStream(tmp)) {
                if (in == null) {
                    throw new IOException(RESOURCE + " is missing from the agent jar");
                }
                byte[] buf = new byte[8192];
                for (int n; (n = in.read(buf)) > 0; ) {
                    out.write(buf, 0, n);
                }
            }
            try (JarFile jar = new JarFile(tmp.toFile())) {
                inst.appendToBootstrapClassLoaderSearch(jar);
            }
            try {
                Class.forName(BRIDGE, true, null);
            } catch (ClassNotFoundException e) {
                throw new IOException("the bridge is not visible after appending " + tmp + " to the bootstrap class path", e);
            }
        } finally {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException e) {
                tmp.toFile().deleteOnExit();
            }
        }
    }
}
