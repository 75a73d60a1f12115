package example.sqs;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.Proxy;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads the IMDS request count from the rig's fault proxy ({@code GET <admin>/__stats}). */
final class ImdsStats {
    private static final Pattern TOTAL = Pattern.compile("\"total\"\\s*:\\s*(\\d+)");

    private ImdsStats() {
    }

    /** The total, or -1 when there is no proxy (real IMDS) or it cannot be read. */
    static long total(String admin) {
        if (admin == null || admin.isEmpty()) {
            return -1;
        }
        try {
            HttpURLConnection c = (HttpURLConnection) new URL(admin + "/__stats").openConnection(Proxy.NO_PROXY);
            c.setConnectTimeout(2000);
            c.setReadTimeout(2000);
            try (InputStream in = c.getInputStream()) {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                byte[] buf = new byte[4096];
                for (int n; (n = in.read(buf)) > 0;) {
                    out.write(buf, 0, n);
                }
                Matcher m = TOTAL.matcher(new String(out.toByteArray(), StandardCharsets.UTF_8));
                return m.find() ? Long.parseLong(m.group(1)) : -1;
            }
        } catch (Exception e) {
            return -1;
        }
    }
}
