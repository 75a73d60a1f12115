package dev.freshcreds;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.freshcreds.internal.EngineCore;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The shipped library itself: glibc baseline, panic boundary. */
class NativeLibraryTest {

    @Test
    void theShippedLibraryNeedsNoGlibcNewerThan2_17() throws Exception {
        Path lib = NativeLoaderTest.BUNDLED;
        assertTrue(Files.isRegularFile(lib), lib + " missing");
        Process p = new ProcessBuilder("objdump", "-T", lib.toString()).redirectErrorStream(true).start();
        List<int[]> versions = new ArrayList<>();
        Pattern glibc = Pattern.compile("GLIBC_(\\d+)\\.(\\d+)(?:\\.(\\d+))?");
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                Matcher m = glibc.matcher(line);
                while (m.find()) {
                    versions.add(new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))});
                }
            }
        }
        assertEquals(0, p.waitFor(), "objdump -T failed");
        assertTrue(versions.size() > 10, "objdump -T listed no GLIBC_ symbols");
        int[] max = versions.stream().max((a, b) -> a[0] != b[0] ? a[0] - b[0] : a[1] - b[1]).get();
        System.out.println("highest GLIBC_ symbol version needed: " + max[0] + "." + max[1]);
        assertTrue(max[0] == 2 && max[1] <= 17, "needs GLIBC_" + max[0] + "." + max[1] + " (> 2.17)");
    }

    @Test
    void aRustPanicArrivesAsAJavaException() {
        FreshCredentialsException e = assertThrows(FreshCredentialsException.class,
                () -> EngineCore.debugPanic("boom from the test"));
        assertTrue(e.getMessage().contains("panic in the freshcreds native library"), e.getMessage());
        assertTrue(e.getMessage().contains("boom from the test"), e.getMessage());
        // The library still works afterwards.
        assertTrue(EngineCore.engineCount() >= 0);
    }

    @Test
    void aBadSettingIsAnExceptionNamingIt() {
        FreshCredentialsException e = assertThrows(FreshCredentialsException.class,
                () -> FreshCredentials.builder().imdsEndpoint("ftp://127.0.0.1:9").ntpServers().build());
        assertTrue(e.getMessage().contains("imds.endpoint"), e.getMessage());
        assertTrue(e.getMessage().contains("http or https"), e.getMessage());
    }

    @Test
    void builderSettersRejectBadValuesAndSecondCalls() {
        FreshCredentials.Builder b = FreshCredentials.builder().imdsAttempts(3);
        assertEquals("attempts was already set to 3".replace("attempts", "imdsAttempts"),
                assertThrows(IllegalStateException.class, () -> b.imdsAttempts(4)).getMessage());
        assertEquals("attempts < 1", assertThrows(IllegalArgumentException.class,
                () -> FreshCredentials.builder().imdsAttempts(0)).getMessage());
        assertEquals("timeout <= 0", assertThrows(IllegalArgumentException.class,
                () -> FreshCredentials.builder().imdsTimeout(java.time.Duration.ZERO)).getMessage());
    }
}
