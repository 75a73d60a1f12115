package dev.freshcreds.bench;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The benchmark's IMDS: AEMM (its credentials rotated with tests/rig/aemm.sh) behind the IMDS
 * fault proxy (faults and request counts through its admin API). Credentials are random and
 * never printed.
 */
final class ImdsRig {
    private static final SecureRandom RANDOM = new SecureRandom();

    private final String admin;
    private final String aemmConfig;
    private final String rig;

    /**
     * @param admin the fault proxy's admin URL
     * @param aemmConfig AEMM's config file
     * @param rig the tests/rig directory
     */
    ImdsRig(String admin, String aemmConfig, String rig) {
        this.admin = admin;
        this.aemmConfig = aemmConfig;
        this.rig = rig;
    }

    /**
     * A rotation while the subject is running: AEMM reloads its config without a lock, and a
     * request served during the reload can crash it ("concurrent map read and map write"), so
     * the proxy holds IMDS requests for 1 s (they are forwarded after) while AEMM reloads.
     */
    void quietRotate(Duration lifetime) throws IOException, InterruptedException {
        admin("POST", "/__fault", "{\"mode\":\"stall\",\"for_ms\":1000}");
        Thread.sleep(50); // requests already forwarded are answered
        Instant now = Instant.now();
        rotate(now.plus(lifetime), now);
    }

    /** New random credentials in AEMM (tests/rig/aemm.sh rotate), waiting until it serves them. */
    void rotate(Instant expiration, Instant lastUpdated) throws IOException, InterruptedException {
        String b32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        String b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        ProcessBuilder pb = new ProcessBuilder(rig + "/aemm.sh", "rotate", aemmConfig,
                "ASIA" + random(b32, 16), random(b64, 40), "IQoJb3JpZ2luX2Vj" + random(b64, 300),
                expiration.truncatedTo(ChronoUnit.SECONDS).toString(),
                lastUpdated.truncatedTo(ChronoUnit.SECONDS).toString());
        pb.redirectOutput(ProcessBuilder.Redirect.to(new File("/dev/null")));
        pb.redirectError(ProcessBuilder.Redirect.INHERIT);
        Process p = pb.start();
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroy();
            throw new IllegalStateException("aemm.sh rotate failed");
        }
    }

    private static String random(String alphabet, int n) {
        StringBuilder sb = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            sb.append(alphabet.charAt(RANDOM.nextInt(alphabet.length())));
        }
        return sb.toString();
    }

    long requests() throws IOException {
        return total(admin("GET", "/__stats", null));
    }

    /** The proxy's request count in a {@code /__stats} answer. */
    static long total(String stats) {
        Matcher m = Pattern.compile("\"total\"\\s*:\\s*(\\d+)").matcher(stats);
        if (!m.find()) {
            throw new IllegalStateException("no total in the proxy's stats");
        }
        return Long.parseLong(m.group(1));
    }

    String admin(String method, String path, String body) throws IOException {
        HttpURLConnection c = (HttpURLConnection) new URL(admin + path).openConnection(java.net.Proxy.NO_PROXY);
        c.setRequestMethod(method);
        c.setConnectTimeout(5000);
        c.setReadTimeout(10000);
        if (body != null) {
            c.setDoOutput(true);
            c.setRequestProperty("content-type", "application/json");
            try (OutputStream os = c.getOutputStream()) {
                os.write(body.getBytes(StandardCharsets.UTF_8));
            }
        }
        int status = c.getResponseCode();
        InputStream in = status < 400 ? c.getInputStream() : c.getErrorStream();
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        if (in != null) {
            try (InputStream is = in) {
                byte[] b = new byte[8192];
                for (int n; (n = is.read(b)) > 0; ) {
                    buf.write(b, 0, n);
                }
            }
        }
        String text = new String(buf.toByteArray(), StandardCharsets.UTF_8);
        if (status != 200) {
            throw new IOException(method + " " + path + ": HTTP " + status + " " + text);
        }
        return text;
    }
}
