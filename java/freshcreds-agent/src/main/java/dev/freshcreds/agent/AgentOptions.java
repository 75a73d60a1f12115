package dev.freshcreds.agent;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The agent's options, from {@code -javaagent:freshcreds-agent.jar=OPTIONS} (or, for
 * {@code Launcher-Agent-Class} and dynamic attach without arguments, the system property
 * {@value #PROPERTY}). {@code OPTIONS} is {@code key=value} pairs separated by commas; list
 * options take one value per occurrence ({@code ntp=a,ntp=b}).
 *
 * <ul>
 *   <li>{@code mode=default|force}: {@code default} advises only the instance-profile step
 *       of the SDKs' default chains (env, system properties, web identity and profiles still
 *       win, as in the SDK); {@code force} replaces the whole default chain.</li>
 *   <li>{@code log=off|error|warn|info|debug|trace}: level of logger {@code dev.freshcreds}
 *       ({@code java.util.logging}); by default the logging configuration decides.</li>
 *   <li>{@code endpoint=URL}: the IMDS endpoint ({@code freshcreds.imdsEndpoint}).</li>
 *   <li>{@code refreshAhead=auto|DURATION}: e.g. {@code 15m} ({@code freshcreds.refreshAhead}).</li>
 *   <li>{@code ntp=off|HOST[:PORT]}, repeatable ({@code freshcreds.ntpServers}).</li>
 *   <li>{@code sdkPrefix=PACKAGE.}, repeatable: an SDK relocated under this package prefix
 *       (e.g. {@code org.acme.shaded.} for {@code org.acme.shaded.com.amazonaws...}).</li>
 *   <li>{@code wait=DURATION}: how long an SDK call may wait for freshcreds' first credentials
 *       before the SDK's own provider runs (default {@code 5s}; {@code 0} never waits).</li>
 *   <li>{@code roleArn=ARN}: assume this role on top of the source ({@code freshcreds.roleArn});
 *       {@code roleSessionName=NAME}, {@code roleDuration=DURATION} (e.g. {@code 1h}; at most
 *       1 h on instance-profile credentials), {@code externalId=ID} go with it
 *       ({@code freshcreds.roleSessionName}, {@code freshcreds.roleDuration},
 *       {@code freshcreds.externalId}).</li>
 *   <li>{@code source=imds|chain}: the instance profile, or the SDKs' default chain
 *       ({@code freshcreds.source}).</li>
 * </ul>
 *
 * Engine settings become the matching {@code freshcreds.*} system properties unless the
 * command line already set them, so a copy of the library in the application resolves the
 * same configuration and shares the agent's engine. Parsing never throws: a bad option is
 * reported in {@link #problems()} and its default used. Immutable.
 */
public final class AgentOptions {
    /** The system property read when the agent gets no argument string. */
    public static final String PROPERTY = "freshcreds.agent.options";

    /** What the agent replaces. */
    public enum Mode {
        /** Only the instance-profile step of the default chains. */
        DEFAULT,
        /** The whole default chain. */
        FORCE
    }


    private final Mode mode;
    private final String log;
    private final Map<String, String> engineProperties;
    private final List<String> sdkPrefixes;
    private final long waitMillis;
    private final List<String> problems;

    private AgentOptions(Mode mode, String log, Map<String, String> engineProperties, List<String> sdkPrefixes,
            long waitMillis, List<String> problems) {
        this.mode = mode;
        this.log = log;
        this.engineProperties = Collections.unmodifiableMap(engineProperties);
        this.sdkPrefixes = Collections.unmodifiableList(sdkPrefixes);
        this.waitMillis = waitMillis;
        this.problems = Collections.unmodifiableList(problems);
    }

    /**
     * Parses an option string.
     *
     * @param args the string, may be null or empty
     * @return the options; never null
     */
    public static AgentOptions parse(String args) {
        Mode mode = Mode.DEFAULT;
        String log = null;
        Map<String, String> props = new LinkedHashMap<>();
        List<String> ntp = new ArrayList<>();
        List<String> prefixes = new ArrayList<>();
        prefixes.add("");
        long wait = 5_000;
        List<String> problems = new ArrayList<>();
        for (String raw : (args == null ? "" : args).split(",")) {
            String item = raw.trim();
            if (item.isEmpty()) {
                continue;
            }
            int eq = item.indexOf('=');
            String key = eq < 0 ? item : item.substring(0, eq).trim();
            String value = eq < 0 ? "" : item.substring(eq + 1).trim();
            switch (key) {
                case "mode":
                    if (value.equalsIgnoreCase("force")) {
                        mode = Mode.FORCE;
                    } else if (value.equalsIgnoreCase("default")) {
                        mode = Mode.DEFAULT;
                    } else {
                        problems.add("mode=" + value + ": expected default or force; using default");
                    }
                    break;
                case "log":
                    String l = value.toLowerCase(Locale.ROOT);
                    if (AgentLog.isLevel(l)) {
                        log = l;
                    } else {
                        problems.add("log=" + value + ": expected off, error, warn, info, debug or trace");
                    }
                    break;
                case "endpoint":
                    if (value.startsWith("http://") || value.startsWith("https://")) {
                        props.put("freshcreds.imdsEndpoint", value);
                    } else {
                        problems.add("endpoint=" + value + ": expected an http:// or https:// URL");
                    }
                    break;
                case "refreshAhead":
                    if (value.isEmpty()) {
                        problems.add("refreshAhead is empty: expected auto or a duration such as 15m");
                    } else {
                        props.put("freshcreds.refreshAhead", value);
                    }
                    break;
                case "ntp":
                    if (value.isEmpty()) {
                        problems.add("ntp is empty: expected off or HOST[:PORT]");
                    } else {
                        ntp.add(value);
                    }
                    break;
                case "sdkPrefix":
                    if (value.isEmpty() || !value.matches("[A-Za-z_$][\\w$]*(\\.[A-Za-z_$][\\w$]*)*\\.?")) {
                        problems.add("sdkPrefix=" + value + ": expected a package prefix such as org.acme.shaded.");
                    } else {
                        String p = value.endsWith(".") ? value : value + ".";
                        if (!prefixes.contains(p)) {
                            prefixes.add(p);
                        }
                    }
                    break;
                case "wait":
                    long w = parseMillis(value);
                    if (w < 0) {
                        problems.add("wait=" + value + ": expected a duration such as 5s, 500ms or 0");
                    } else {
                        wait = w;
                    }
                    break;
                case "roleArn":
                    if (value.startsWith("arn:")) {
                        props.put("freshcreds.roleArn", value);
                    } else {
                        problems.add("roleArn=" + value + ": expected an IAM role ARN such as arn:aws:iam::123456789012:role/app");
                    }
                    break;
                case "roleSessionName":
                case "roleDuration":
                case "externalId":
                    // Checked by the engine, which names the bad value and this property.
                    if (value.isEmpty()) {
                        problems.add(key + " is empty");
                    } else {
                        props.put("freshcreds." + key, value);
                    }
                    break;
                case "source":
                    String src = value.toLowerCase(Locale.ROOT);
                    if (src.equals("imds") || src.equals("chain")) {
                        props.put("freshcreds.source", src);
                    } else {
                        problems.add("source=" + value + ": expected imds or chain; using imds");
                    }
                    break;
                default:
                    problems.add("unknown option " + key + " (known: mode, log, endpoint, refreshAhead, ntp, sdkPrefix, wait,"
                            + " roleArn, roleSessionName, roleDuration, externalId, source)");
                    break;
            }
        }
        if (!ntp.isEmpty()) {
            props.put("freshcreds.ntpServers", ntp.contains("off") ? "off" : String.join(",", ntp));
        }
        if (log != null) {
            props.put("freshcreds.log", AgentLog.engineFilter(log));
        }
        return new AgentOptions(mode, log, props, prefixes, wait, problems);
    }

    /** Milliseconds in {@code 500ms}, {@code 5s}, {@code 2m} or {@code 5} (seconds); -1 if malformed. */
    static long parseMillis(String s) {
        // Compiled here, not in a static field: premain parses options on the application's
        // start-up path, and this option is rare.
        Matcher m = Pattern.compile("(\\d+)(ms|s|m)?").matcher(s.trim());
        if (!m.matches() || m.group(1).length() > 9) {
            return -1;
        }
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2);
        if ("ms".equals(unit)) {
            return n;
        }
        return "m".equals(unit) ? n * 60_000 : n * 1_000;
    }

    /**
     * Sets each engine setting as its {@code freshcreds.*} system property unless already set.
     *
     * @return the properties the command line had set already (they win), by name
     */
    Map<String, String> applySystemProperties() {
        Map<String, String> kept = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : engineProperties.entrySet()) {
            String existing = System.getProperty(e.getKey());
            if (existing == null) {
                System.setProperty(e.getKey(), e.getValue());
            } else if (!existing.equals(e.getValue())) {
                kept.put(e.getKey(), existing);
            }
        }
        return kept;
    }

    /** @return the mode */
    public Mode mode() {
        return mode;
    }

    /** @return the log level option, or null when not given */
    public String log() {
        return log;
    }

    /** @return engine settings as {@code freshcreds.*} system properties */
    public Map<String, String> engineProperties() {
        return engineProperties;
    }

    /** @return SDK package prefixes, the empty one (the SDKs as published) first */
    public List<String> sdkPrefixes() {
        return sdkPrefixes;
    }

    /** @return how long an SDK call may wait for the first credentials */
    public long waitMillis() {
        return waitMillis;
    }

    /** @return what was wrong with the option string, one line each */
    public List<String> problems() {
        return problems;
    }

    @Override
    public String toString() {
        return "mode=" + mode.name().toLowerCase(Locale.ROOT) + (log == null ? "" : ", log=" + log)
                + ", wait=" + waitMillis + "ms" + ", settings=" + engineProperties
                + (sdkPrefixes.size() > 1 ? ", sdkPrefixes=" + sdkPrefixes.subList(1, sdkPrefixes.size()) : "");
    }
}
