package dev.freshcreds.agent;

import dev.freshcreds.internal.CredentialsSnapshot;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * What would shadow the instance profile: credentials the SDKs' default chains find before
 * they reach IMDS. Logged once, at start, as one warning. Values are never logged; access key
 * ids only abbreviated.
 */
final class Shadowing {
    private Shadowing() {}

    static void warnOnce(AgentOptions.Mode mode) {
        List<String> found = findings(System.getenv(), System.getProperties());
        if (found.isEmpty()) {
            return;
        }
        String consequence = mode == AgentOptions.Mode.FORCE
                ? "mode=force replaces the default chains, so freshcreds' instance-profile credentials are used anyway"
                : "the SDKs' default chains use these before the instance profile, so clients built with the default "
                        + "chain do not get freshcreds' credentials (remove them, or run the agent with mode=force)";
        AgentLog.warn("credentials that shadow the instance profile: " + String.join("; ", found) + ". " + consequence);
    }

    /**
     * The findings for an environment and system properties.
     *
     * @param env environment variables
     * @param props system properties
     * @return one phrase per finding
     */
    static List<String> findings(Map<String, String> env, Properties props) {
        List<String> out = new ArrayList<>();
        String envKey = nonEmpty(env.get("AWS_ACCESS_KEY_ID"));
        if (envKey != null && (nonEmpty(env.get("AWS_SECRET_ACCESS_KEY")) != null || nonEmpty(env.get("AWS_SECRET_KEY")) != null)) {
            out.add("AWS_ACCESS_KEY_ID (" + CredentialsSnapshot.abbreviate(envKey) + ") and its secret in the environment");
        } else if (envKey != null) {
            out.add("AWS_ACCESS_KEY_ID (" + CredentialsSnapshot.abbreviate(envKey) + ") in the environment");
        }
        if (nonEmpty(env.get("AWS_SESSION_TOKEN")) != null) {
            out.add("a static AWS_SESSION_TOKEN in the environment: temporary credentials nothing can refresh, "
                    + "calls fail with ExpiredToken once it expires");
        }
        String propKey = nonEmpty(props.getProperty("aws.accessKeyId"));
        if (propKey != null) {
            out.add("system property aws.accessKeyId (" + CredentialsSnapshot.abbreviate(propKey) + ")");
        }
        if (nonEmpty(props.getProperty("aws.sessionToken")) != null) {
            out.add("a static system property aws.sessionToken");
        }
        if (nonEmpty(env.get("AWS_WEB_IDENTITY_TOKEN_FILE")) != null) {
            out.add("AWS_WEB_IDENTITY_TOKEN_FILE in the environment (web identity)");
        }
        return out;
    }

    private static String nonEmpty(String s) {
        return s == null || s.trim().isEmpty() ? null : s.trim();
    }
}
