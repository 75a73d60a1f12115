package dev.freshcreds.agent.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The requests AEMM received, read from its own log ({@code aemm.log} next to its config):
 * AEMM logs every request it serves, with its method, path and headers, User-Agent included.
 */
final class AemmLog {
    /** One request as AEMM logged it. */
    static final class Entry {
        final String method;
        final String path;
        final String userAgent;

        Entry(String method, String path, String userAgent) {
            this.method = method;
            this.path = path;
            this.userAgent = userAgent;
        }

        boolean isCredentialsPath() {
            return path.startsWith("/latest/meta-data/iam/security-credentials");
        }

        boolean fromSdk() {
            return userAgent.contains("aws-sdk-java");
        }

        boolean fromFreshcreds() {
            return userAgent.startsWith("freshcreds/");
        }

        @Override
        public String toString() {
            return method + " " + path + " UA=" + userAgent;
        }
    }

    private static final Pattern REQUEST = Pattern.compile("Received request: &\\{(\\S+) (\\S+) HTTP/");
    private static final Pattern USER_AGENT = Pattern.compile("User-Agent:\\[([^\\]]*)\\]");

    private AemmLog() {}

    static List<Entry> read(String aemmConfig) {
        Path log = Paths.get(aemmConfig).resolveSibling("aemm.log");
        List<Entry> out = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
                Matcher m = REQUEST.matcher(line);
                if (m.find()) {
                    Matcher ua = USER_AGENT.matcher(line);
                    out.add(new Entry(m.group(1), m.group(2), ua.find() ? ua.group(1) : "(none)"));
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return out;
    }
}
