package dev.freshcreds.internal;

import dev.freshcreds.FreshCredentialsException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Finds, verifies and loads the JNI library.
 *
 * <p>Order, as DESIGN.md says:
 * <ol>
 *   <li>{@code -Dfreshcreds.native.path=/abs/libfreshcreds.so}: that file and nothing else
 *       (strict, no fallback);</li>
 *   <li>otherwise the library bundled at {@code dev/freshcreds/native/<os>-<arch>/} is copied
 *       to a unique, owner-only temporary file in {@code -Dfreshcreds.native.workdir} (default
 *       {@code java.io.tmpdir}) while its SHA-256 is computed; it is loaded only if the digest
 *       matches {@code native.properties}, and the file is deleted right after loading.</li>
 * </ol>
 * Then the version handshake: the library's wire version must equal
 * {@link Native#ABI_VERSION}.
 *
 * <p>Every failure becomes one message naming the OS, architecture, libc, the paths tried and
 * the causes (a {@code noexec} temporary directory included). {@link #loadQuietly()} never
 * throws, so the static initializer of {@link Native} cannot fail.
 */
public final class NativeLoader {
    /** System property: load exactly this library file. */
    public static final String PATH_PROPERTY = "freshcreds.native.path";
    /** System property: the directory the bundled library is extracted to. */
    public static final String WORKDIR_PROPERTY = "freshcreds.native.workdir";
    /** System property read by {@code JNI_OnLoad}: the binding and exception class names. */
    public static final String BIND_PROPERTY = "freshcreds.native.bind";
    /** Where the bundled libraries live in the jar. */
    public static final String RESOURCE_ROOT = "dev/freshcreds/native/";

    private static final Logger LOG = Logger.getLogger("dev.freshcreds");
    private static final Object LOAD_LOCK = new Object();

    private final ClassLoader resources;
    private final Platform platform;
    private final String explicitPath;
    private final Path workdir;

    /**
     * A loader with explicit inputs (tests use this).
     *
     * @param resources where to look for the bundled library
     * @param platform the platform to load for
     * @param explicitPath the {@code freshcreds.native.path} value, or null
     * @param workdir where to extract the bundled library
     */
    public NativeLoader(ClassLoader resources, Platform platform, String explicitPath, Path workdir) {
        this.resources = resources;
        this.platform = platform;
        this.explicitPath = explicitPath;
        this.workdir = workdir;
    }

    /**
     * The loader for this JVM: its system properties and this jar's resources.
     *
     * @return the loader
     */
    public static NativeLoader fromSystem() {
        String dir = System.getProperty(WORKDIR_PROPERTY);
        if (dir == null || dir.trim().isEmpty()) {
            dir = System.getProperty("java.io.tmpdir", "/tmp");
        }
        String explicit = System.getProperty(PATH_PROPERTY);
        ClassLoader cl = NativeLoader.class.getClassLoader();
        return new NativeLoader(
                cl != null ? cl : ClassLoader.getSystemClassLoader(),
                Platform.current(),
                explicit == null || explicit.trim().isEmpty() ? null : explicit.trim(),
                Paths.get(dir));
    }

    /**
     * Loads the library, catching everything.
     *
     * @return the outcome; never null
     */
    public Result loadQuietly() {
        try {
            Result r = new Result(load(), null);
            LOG.fine(() -> "native library loaded: " + r.description);
            return r;
        } catch (Throwable t) { // a static initializer must never throw
            LOG.log(Level.FINE, "native library not loaded", t);
            return new Result(null, t);
        }
    }

    /**
     * Loads the library.
     *
     * @return a description of what was loaded
     * @throws LoadException naming the platform, the paths tried and the cause
     */
    public String load() throws LoadException {
        if (explicitPath != null) {
            Path p = Paths.get(explicitPath);
            if (!p.isAbsolute()) {
                throw failure("-D" + PATH_PROPERTY + "=" + explicitPath + " is not an absolute path", null);
            }
            if (!Files.isRegularFile(p)) {
                throw failure("-D" + PATH_PROPERTY + "=" + explicitPath
                        + " does not name a file (strict: no other location is tried)", null);
            }
            systemLoad(p, "-D" + PATH_PROPERTY);
            return handshake(null) + " from " + p + " (-D" + PATH_PROPERTY + ")";
        }
        String dir = RESOURCE_ROOT + platform.resourceDir() + "/";
        Properties props = readProperties(dir + "native.properties");
        String file = props.getProperty("file", "libfreshcreds.so");
        String expectedSha = props.getProperty("sha256", "").trim().toLowerCase(Locale.ROOT);
        if (expectedSha.isEmpty()) {
            throw failure(dir + "native.properties has no sha256", null);
        }
        Path extracted = extract(dir + file, expectedSha);
        try {
            systemLoad(extracted, "the library bundled at " + dir + file + ", extracted to " + extracted);
        } finally {
            try {
                Files.deleteIfExists(extracted);
            } catch (IOException e) {
                LOG.log(Level.FINE, "could not delete " + extracted, e);
            }
        }
        return handshake(props.getProperty("version")) + " bundled at " + dir + file;
    }

    private Properties readProperties(String resource) throws LoadException {
        try (InputStream in = resources.getResourceAsStream(resource)) {
            if (in == null) {
                throw failure("no native library for this platform in the class path: "
                        + resource + " not found; shipped: " + shipped()
                        + ". Build one (scripts/build-jni.sh) and load it with -D" + PATH_PROPERTY, null);
            }
            Properties p = new Properties();
            p.load(new InputStreamReader(in, StandardCharsets.UTF_8));
            return p;
        } catch (IOException e) {
            throw failure("cannot read " + resource, e);
        }
    }

    private String shipped() {
        List<String> found = new ArrayList<>();
        for (String candidate : new String[] {"linux-x86_64", "linux-aarch64", "linux-x86_64-musl", "linux-aarch64-musl"}) {
            if (resources.getResource(RESOURCE_ROOT + candidate + "/native.properties") != null) {
                found.add(candidate);
            }
        }
        return found.isEmpty() ? "none" : String.join(", ", found);
    }

    private Path extract(String resource, String expectedSha) throws LoadException {
        Path tmp;
        try {
            Files.createDirectories(workdir);
            try {
                tmp = Files.createTempFile(workdir, "libfreshcreds-", ".so",
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            } catch (UnsupportedOperationException e) { // not a POSIX file system
                tmp = Files.createTempFile(workdir, "libfreshcreds-", ".so");
            }
        } catch (IOException e) {
            throw failure("cannot create a temporary file in " + workdir
                    + "; set -D" + WORKDIR_PROPERTY + " to a writable directory", e);
        }
        String actual;
        try (InputStream raw = resources.getResourceAsStream(resource)) {
            if (raw == null) {
                throw failure(resource + " is listed in native.properties but missing from the jar", null);
            }
            DigestInputStream in = new DigestInputStream(raw, sha256());
            try (OutputStream out = Files.newOutputStream(tmp)) {
                byte[] buf = new byte[64 * 1024];
                for (int n; (n = in.read(buf)) > 0; ) {
                    out.write(buf, 0, n);
                }
            }
            actual = hex(in.getMessageDigest().digest());
        } catch (IOException | LoadException e) {
            deleteQuietly(tmp);
            if (e instanceof LoadException) {
                throw (LoadException) e;
            }
            throw failure("cannot extract " + resource + " to " + tmp, e);
        }
        if (!actual.equals(expectedSha)) {
            deleteQuietly(tmp);
            throw failure("sha256 mismatch for " + resource + ": native.properties says " + expectedSha
                    + " but the bytes hash to " + actual + "; the jar is corrupt or was modified", null);
        }
        return tmp;
    }

    private void systemLoad(Path file, String what) throws LoadException {
        String bind = Native.class.getName() + "," + FreshCredentialsException.class.getName();
        synchronized (LOAD_LOCK) {
            String previous = System.getProperty(BIND_PROPERTY);
            System.setProperty(BIND_PROPERTY, bind);
            try {
                System.load(file.toAbsolutePath().toString());
            } catch (UnsatisfiedLinkError e) {
                throw failure("System.load failed for " + what + ": " + e.getMessage() + noexecHint(file, e), e);
            } finally {
                if (previous == null) {
                    System.clearProperty(BIND_PROPERTY);
                } else {
                    System.setProperty(BIND_PROPERTY, previous);
                }
            }
        }
    }

    private String noexecHint(Path file, UnsatisfiedLinkError e) {
        String mount = Mounts.noexecMountOf(file.toAbsolutePath().getParent());
        if (mount != null) {
            return "; cause: " + file.getParent() + " is on a file system mounted noexec (" + mount
                    + "), so the library cannot be mapped executable: set -D" + WORKDIR_PROPERTY
                    + " to a directory on a file system mounted with exec";
        }
        String m = String.valueOf(e.getMessage());
        if (m.contains("failed to map segment") || m.contains("Operation not permitted")) {
            return "; this usually means the directory is mounted noexec: set -D" + WORKDIR_PROPERTY
                    + " to a directory on a file system mounted with exec";
        }
        return "";
    }

    private String handshake(String expectedVersion) throws LoadException {
        int abi;
        String version;
        try {
            abi = Native.abiVersion();
            version = Native.libraryVersion();
        } catch (LinkageError e) {
            throw failure("the library loaded but its natives are not bound (JNI_OnLoad failed?)", e);
        }
        if (abi != Native.ABI_VERSION) {
            throw failure("the library speaks wire version " + abi + " (freshcreds " + version
                    + ") but this jar needs " + Native.ABI_VERSION + ": use the library built with this jar", null);
        }
        if (expectedVersion != null && !expectedVersion.equals(version)) {
            throw failure("the library reports version " + version + " but native.properties says "
                    + expectedVersion, null);
        }
        return "libfreshcreds " + version;
    }

    private LoadException failure(String cause, Throwable t) {
        String tried = explicitPath != null
                ? "-D" + PATH_PROPERTY + "=" + explicitPath
                : "class path resource " + RESOURCE_ROOT + platform.resourceDir() + "/ (extracting to " + workdir + ")";
        return new LoadException("freshcreds native library not loaded on " + platform
                + "; tried " + tried + "; cause: " + cause, t);
    }

    private static MessageDigest sha256() throws LoadException {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new LoadException("this JVM has no SHA-256", e);
        }
    }

    private static String hex(byte[] bytes) {
        StringBuilder sb = new StringBuilder(bytes.length * 2);
        for (byte b : bytes) {
            sb.append(Character.forDigit((b >> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
        }
        return sb.toString();
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            LOG.log(Level.FINE, "could not delete " + p, e);
        }
    }

    /** The outcome of a load: a description, or the failure. Immutable. */
    public static final class Result {
        private final String description;
        private final Throwable failure;

        Result(String description, Throwable failure) {
            this.description = description;
            this.failure = failure;
        }

        /**
         * Throws the load failure, if any.
         *
         * @return the description of the loaded library
         * @throws FreshCredentialsException with the failure as cause
         */
        public String check() {
            if (failure != null) {
                throw new FreshCredentialsException(String.valueOf(failure.getMessage()), failure);
            }
            return description;
        }
    }

    /** A load failure, with the whole story in its message. */
    public static final class LoadException extends Exception {
        private static final long serialVersionUID = 1L;

        LoadException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** The platform a library is needed for: OS, CPU architecture and C library. Immutable. */
    public static final class Platform {
        private final String os;
        private final String arch;
        private final String libc;
        private final String raw;

        /**
         * A platform.
         *
         * @param os normalized OS name, e.g. {@code linux}
         * @param arch normalized architecture, e.g. {@code x86_64}
         * @param libc {@code glibc}, {@code musl} or {@code n/a}
         * @param raw the JVM's own {@code os.name}/{@code os.arch}, for messages
         */
        public Platform(String os, String arch, String libc, String raw) {
            this.os = os;
            this.arch = arch;
            this.libc = libc;
            this.raw = raw;
        }

        /**
         * This JVM's platform.
         *
         * @return the platform
         */
        public static Platform current() {
            String osName = System.getProperty("os.name", "unknown");
            String osArch = System.getProperty("os.arch", "unknown");
            String os = osName.toLowerCase(Locale.ROOT).startsWith("linux") ? "linux"
                    : osName.toLowerCase(Locale.ROOT).startsWith("mac") ? "macos"
                    : osName.toLowerCase(Locale.ROOT).startsWith("windows") ? "windows"
                    : osName.toLowerCase(Locale.ROOT).replace(' ', '_');
            String a = osArch.toLowerCase(Locale.ROOT);
            String arch = a.equals("amd64") || a.equals("x86_64") || a.equals("x86-64") ? "x86_64"
                    : a.equals("aarch64") || a.equals("arm64") ? "aarch64" : a;
            String libc = os.equals("linux") ? (isMusl() ? "musl" : "glibc") : "n/a";
            return new Platform(os, arch, libc, "os.name=" + osName + ", os.arch=" + osArch);
        }

        private static boolean isMusl() {
            for (String dir : new String[] {"/lib", "/usr/lib"}) {
                String[] names = new java.io.File(dir).list();
                if (names != null) {
                    for (String n : names) {
                        if (n.startsWith("ld-musl-")) {
                            return true;
                        }
                    }
                }
            }
            return false;
        }

        /**
         * The resource directory for this platform, e.g. {@code linux-x86_64}.
         *
         * @return the directory name
         */
        public String resourceDir() {
            return os + "-" + arch + (libc.equals("musl") ? "-musl" : "");
        }

        @Override
        public String toString() {
            return "os=" + os + ", arch=" + arch + ", libc=" + libc + " (" + raw + ")";
        }
    }

    /** Reads {@code /proc/self/mountinfo} to tell whether a directory is mounted noexec. */
    static final class Mounts {
        private Mounts() {}

        /**
         * The mount point of {@code dir} if that mount is noexec.
         *
         * @param dir a directory
         * @return the mount point, or null when exec is allowed or unknown
         */
        static String noexecMountOf(Path dir) {
            try {
                Path real = dir.toRealPath();
                List<String> lines;
                try (BufferedReader r = Files.newBufferedReader(Paths.get("/proc/self/mountinfo"), StandardCharsets.UTF_8)) {
                    lines = new ArrayList<>();
                    for (String line; (line = r.readLine()) != null; ) {
                        lines.add(line);
                    }
                }
                return noexecMountOf(real.toString(), lines);
            } catch (IOException | RuntimeException e) {
                return null;
            }
        }

        /**
         * The mount point covering {@code path} in {@code mountinfo} lines, if it is noexec.
         *
         * @param path an absolute, real path
         * @param mountinfo lines of {@code /proc/self/mountinfo}
         * @return the mount point, or null when exec is allowed or no mount matches
         */
        static String noexecMountOf(String path, List<String> mountinfo) {
            String best = null;
            boolean bestNoexec = false;
            for (String line : mountinfo) {
                String[] f = line.split(" ");
                if (f.length < 6) {
                    continue;
                }
                String mountPoint = unescape(f[4]);
                boolean covers = path.equals(mountPoint) || mountPoint.equals("/")
                        || path.startsWith(mountPoint.endsWith("/") ? mountPoint : mountPoint + "/");
                // Later lines win on ties: a mount stacked over an earlier one hides it.
                if (covers && (best == null || mountPoint.length() >= best.length())) {
                    best = mountPoint;
                    bestNoexec = Collections.frequency(java.util.Arrays.asList(f[5].split(",")), "noexec") > 0;
                }
            }
            return bestNoexec ? best : null;
        }

        private static String unescape(String s) {
            return s.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\");
        }
    }
}
