package dev.freshcreds;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.freshcreds.internal.NativeLoader;
import dev.freshcreds.internal.NativeLoader.LoadException;
import dev.freshcreds.internal.NativeLoader.Platform;
import dev.freshcreds.internal.NativeLoaderAccess;
import dev.freshcreds.testing.ChildJvm;
import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The loader: strict path, sha256-checked extraction, clear errors, never a crash. */
class NativeLoaderTest {
    static final Path NATIVE_DIR = Paths.get(System.getProperty("freshcreds.nativeDir"));
    static final Path BUNDLED = NATIVE_DIR.resolve("dev/freshcreds/native/linux-x86_64/libfreshcreds.so");
    static final Platform LINUX_X86_64 = new Platform("linux", "x86_64", "glibc", "test");

    @TempDir
    Path tmp;

    @Test
    void theBundledLibraryLoadsAndItsExtractedCopyIsDeleted() throws IOException {
        String description = dev.freshcreds.internal.Native.checkLoaded();
        assertTrue(description.contains("bundled at dev/freshcreds/native/linux-x86_64/"), description);
        Path workdir = Paths.get(System.getProperty("freshcreds.native.workdir"));
        try (Stream<Path> left = Files.list(workdir)) {
            assertEquals(0, left.filter(p -> p.getFileName().toString().startsWith("libfreshcreds")).count(),
                    "extracted library left behind in " + workdir);
        }
    }

    @Test
    void aCorruptSha256IsRefusedBeforeLoading() throws Exception {
        Path dir = tmp.resolve("res/dev/freshcreds/native/linux-x86_64");
        Files.createDirectories(dir);
        Files.copy(BUNDLED, dir.resolve("libfreshcreds.so"));
        Files.write(dir.resolve("native.properties"),
                ("version=0.1.0\nfile=libfreshcreds.so\nsha256=" + repeat("ab", 32) + "\n").getBytes(StandardCharsets.UTF_8));
        Path work = Files.createDirectories(tmp.resolve("work"));
        try (URLClassLoader res = new URLClassLoader(new URL[] {tmp.resolve("res").toUri().toURL()}, null)) {
            LoadException e = assertThrows(LoadException.class,
                    () -> new NativeLoader(res, LINUX_X86_64, null, work).load());
            assertTrue(e.getMessage().contains("sha256 mismatch"), e.getMessage());
            assertTrue(e.getMessage().contains("the jar is corrupt or was modified"), e.getMessage());
            assertTrue(e.getMessage().contains("os=linux, arch=x86_64, libc=glibc"), e.getMessage());
        }
        try (Stream<Path> left = Files.list(work)) {
            assertEquals(0, left.count(), "the rejected copy was not deleted");
        }
    }

    @Test
    void aMissingPlatformNamesOsArchLibcAndWhatIsShipped() throws Exception {
        Platform riscv = new Platform("linux", "riscv64", "glibc", "os.name=Linux, os.arch=riscv64");
        ClassLoader cl = getClass().getClassLoader();
        LoadException e = assertThrows(LoadException.class, () -> new NativeLoader(cl, riscv, null, tmp).load());
        String m = e.getMessage();
        assertTrue(m.contains("os=linux, arch=riscv64, libc=glibc"), m);
        assertTrue(m.contains("dev/freshcreds/native/linux-riscv64/native.properties not found"), m);
        assertTrue(m.contains("shipped: linux-x86_64"), m);
        assertTrue(m.contains("-Dfreshcreds.native.path"), m);

        Platform musl = new Platform("linux", "x86_64", "musl", "test");
        m = assertThrows(LoadException.class, () -> new NativeLoader(cl, musl, null, tmp).load()).getMessage();
        assertTrue(m.contains("linux-x86_64-musl"), m);
    }

    @Test
    void aStrictPathToABadFileFailsWithThePathAndTheCause() throws Exception {
        Path garbage = tmp.resolve("libnot-a-library.so");
        Files.write(garbage, "this is not an ELF file".getBytes(StandardCharsets.UTF_8));
        ClassLoader cl = getClass().getClassLoader();
        String m = assertThrows(LoadException.class,
                () -> new NativeLoader(cl, LINUX_X86_64, garbage.toString(), tmp).load()).getMessage();
        assertTrue(m.contains("-Dfreshcreds.native.path=" + garbage), m);
        assertTrue(m.contains("System.load failed"), m);

        String missing = tmp.resolve("nope.so").toString();
        m = assertThrows(LoadException.class, () -> new NativeLoader(cl, LINUX_X86_64, missing, tmp).load()).getMessage();
        assertTrue(m.contains("does not name a file (strict: no other location is tried)"), m);

        m = assertThrows(LoadException.class, () -> new NativeLoader(cl, LINUX_X86_64, "relative.so", tmp).load()).getMessage();
        assertTrue(m.contains("is not an absolute path"), m);
    }

    @Test
    void aNoexecMountIsRecognised() {
        String[] mountinfo = {
            "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw",
            "40 22 0:35 / /tmp rw,nosuid,nodev,noexec,relatime shared:2 - tmpfs tmpfs rw",
            "41 22 0:36 / /tmp/exec rw,relatime shared:3 - tmpfs tmpfs rw",
        };
        assertEquals("/tmp", NativeLoaderAccess.noexecMountOf("/tmp/work", Arrays.asList(mountinfo)));
        assertNull(NativeLoaderAccess.noexecMountOf("/tmp/exec/work", Arrays.asList(mountinfo)));
        assertNull(NativeLoaderAccess.noexecMountOf("/home/app", Arrays.asList(mountinfo)));
        assertNull(NativeLoaderAccess.noexecMountOf("/tmpfoo", Arrays.asList(mountinfo)));
    }

    /** Child JVM main: the shared engine with a broken -Dfreshcreds.native.path. */
    public static final class BadPathMain {
        public static void main(String[] args) {
            try {
                FreshCredentials.shared();
                System.out.println("UNEXPECTED: loaded");
                System.exit(1);
            } catch (FreshCredentialsException e) {
                System.out.println("MESSAGE " + e.getMessage());
                // The same failure again: the static initializer did not throw, the cause is kept.
                try {
                    FreshCredentials.shared();
                } catch (FreshCredentialsException again) {
                    System.out.println("AGAIN " + again.getMessage().equals(e.getMessage()));
                }
                System.exit(3);
            }
        }
    }

    @Test
    void aJvmWithABadLibraryPathGetsAnExceptionNotACrash() throws IOException {
        Path garbage = tmp.resolve("libfreshcreds-broken.so");
        Files.write(garbage, new byte[] {0x7f, 'E', 'L', 'F', 0, 0, 0});
        ChildJvm child = ChildJvm.run(BadPathMain.class, "-Dfreshcreds.native.path=" + garbage);
        assertEquals(3, child.exitCode, child.toString());
        assertTrue(child.out.contains("MESSAGE freshcreds native library not loaded on os=linux"), child.toString());
        assertTrue(child.out.contains(garbage.toString()), child.toString());
        assertTrue(child.out.contains("AGAIN true"), child.toString());
    }

    private static String repeat(String s, int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            sb.append(s);
        }
        return sb.toString();
    }
}
