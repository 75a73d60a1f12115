package dev.freshcreds;

import dev.freshcreds.internal.Access;
import dev.freshcreds.internal.EngineCore;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A handle on the freshcreds engine: instance-profile credentials fetched from IMDS, kept
 * fresh in the background, handed to the AWS SDK through
 * {@code dev.freshcreds.v1.FreshAWSCredentialsProvider} or
 * {@code dev.freshcreds.v2.FreshAwsCredentialsProvider}.
 *
 * <h2>Refresh semantics</h2>
 * <ul>
 *   <li><b>When</b>: credentials are refreshed a lead time before their {@code Expiration}
 *       that scales with their lifetime ({@code min(clamp(lifetime/4, 5 min, 60 min),
 *       lifetime/2)} plus jitter, or {@link Builder#refreshAhead(Duration)}), judged on the
 *       clock corrected by NTP, never past expiry.</li>
 *   <li><b>Meanwhile</b>: callers get the current credentials at once and never wait: a
 *       provider call is a volatile read of a prebuilt SDK object.</li>
 *   <li><b>On failure</b>: the last good credentials keep being served; the error is logged
 *       (logger {@code dev.freshcreds}), counted and visible in {@link #health()}. A caller
 *       waits (at most {@link Builder#blockingTimeout(Duration)}) only when there are no valid
 *       credentials at all, and gets a {@link FreshCredentialsException} if none arrive.</li>
 *   <li>One refresh runs at a time, however many callers and handles.</li>
 * </ul>
 *
 * <h2>Sharing</h2>
 * Handles whose settings resolve to the same effective configuration share one native engine
 * in the JVM, also across class loaders. Use {@link #shared()} unless you need other
 * settings.
 *
 * <p>Instances are thread-safe. Settings not given to the builder come, as in the AWS SDKs,
 * from {@code freshcreds.*} and AWS system properties, environment variables
 * ({@code AWS_EC2_METADATA_SERVICE_ENDPOINT}, {@code AWS_METADATA_SERVICE_TIMEOUT}, ...) and
 * {@code ~/.aws/config}.
 */
public final class FreshCredentials implements AutoCloseable {
    static {
        Access.install(fc -> fc.core);
    }

    private static FreshCredentials shared; // guarded by FreshCredentials.class

    private final EngineCore core;

    private FreshCredentials(EngineCore core) {
        this.core = core;
    }

    /**
     * The JVM's shared handle, with every setting from system properties, environment
     * variables and the AWS config file. Created on first use; the same object afterwards
     * (a new one if it was closed). Starting it does no network I/O.
     *
     * @return the shared handle
     * @throws FreshCredentialsException when the native library cannot be loaded or a setting
     *     is invalid (the message says which and why)
     */
    public static synchronized FreshCredentials shared() {
        if (shared == null || shared.core.isClosed()) {
            shared = new Builder().name("shared").build();
        }
        return shared;
    }

    /**
     * A builder for a handle with explicit settings.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Tells the engine that an SDK call failed with {@code ExpiredToken},
     * {@code ExpiredTokenException} or {@code InvalidToken}: triggers exactly one shared
     * refresh (calls during or just after a refresh are absorbed by it). Never blocks.
     *
     * @return whether this call started a refresh
     */
    public boolean invalidate() {
        return core.invalidate();
    }

    /**
     * Asks for a new clock measurement (an SDK saw {@code RequestTimeTooSkewed},
     * {@code RequestExpired} or "Signature expired"). Never blocks.
     */
    public void requestClockMeasurement() {
        core.requestClockMeasurement();
    }

    /**
     * A point-in-time view of the engine.
     *
     * @return the health figures
     */
    public Health health() {
        return new Health(core.healthFigures());
    }

    /**
     * Closes this handle: its updater thread ends and providers built on it fail from now
     * on. The native engine stops when no handle uses it any more. Idempotent. Closing is
     * optional: nothing here keeps the JVM from exiting.
     */
    @Override
    public void close() {
        core.close();
    }

    @Override
    public String toString() {
        return "FreshCredentials(name=" + core.name() + ", " + core.published() + (core.isClosed() ? ", closed" : "") + ")";
    }

    /** Where base credentials come from ({@link Builder#source(Source)}). */
    public enum Source {
        /** The instance profile, read from IMDS (the default). */
        IMDS("imds"),
        /**
         * The AWS SDKs' default chain: environment variables, the profile (static keys, a role
         * with {@code source_profile} or {@code credential_source}, SSO,
         * {@code credential_process}), web identity, container credentials, and IMDS last.
         * Each refreshable answer is refreshed ahead like the instance profile's; a static
         * session token cannot be refreshed: it is logged as such, with its expiry when
         * {@code AWS_CREDENTIAL_EXPIRATION} tells it, and never served past that expiry.
         */
        CHAIN("chain");

        final String setting;

        Source(String setting) {
            this.setting = setting;
        }
    }

    /**
     * Builds a {@link FreshCredentials}. Each setting can be set once; by default every
     * setting comes from system properties, environment variables and the AWS config file,
     * as documented on each setter. Not thread-safe; {@link #build()} leaves the builder
     * unchanged.
     */
    public static final class Builder {
        private static final AtomicLong NEXT = new AtomicLong();

        private final Map<String, String> settings = new LinkedHashMap<>();
        private String name;
        private Duration blockingTimeout;

        private Builder() {
            // By default: every engine setting from the environment (nothing in `settings`),
            // a JMX name derived from the engine, callers wait up to 5 s when nothing is valid.
        }

        private Builder set(String key, String value, String what) {
            if (settings.containsKey(key)) {
                throw new IllegalStateException(what + " was already set to " + settings.get(key));
            }
            settings.put(key, value);
            return this;
        }

        private static void require(boolean ok, String brokenCondition) {
            if (!ok) {
                throw new IllegalArgumentException(brokenCondition);
            }
        }

        /**
         * The IMDS base URL, {@code http} or {@code https}. By default, {@code
         * AWS_EC2_METADATA_SERVICE_ENDPOINT} or its system properties, else
         * {@code http://169.254.169.254}.
         *
         * @param url e.g. {@code http://169.254.169.254}
         * @return this builder (for chaining)
         */
        public Builder imdsEndpoint(String url) {
            require(url != null, "url == null");
            return set("imds.endpoint", url, "imdsEndpoint");
        }

        /**
         * The timeout of one IMDS request attempt. By default,
         * {@code AWS_METADATA_SERVICE_TIMEOUT}, else 1 second.
         *
         * @param timeout greater than zero, at most one hour
         * @return this builder (for chaining)
         */
        public Builder imdsTimeout(Duration timeout) {
            require(timeout != null, "timeout == null");
            require(!timeout.isNegative() && !timeout.isZero(), "timeout <= 0");
            require(timeout.compareTo(Duration.ofHours(1)) <= 0, "timeout > 1h");
            return set("imds.timeout", Double.toString(timeout.toMillis() / 1000.0), "imdsTimeout");
        }

        /**
         * Attempts per IMDS request, the first included. By default,
         * {@code AWS_METADATA_SERVICE_NUM_ATTEMPTS}, else 3.
         *
         * @param attempts 1 to 20
         * @return this builder (for chaining)
         */
        public Builder imdsAttempts(int attempts) {
            require(attempts >= 1, "attempts < 1");
            require(attempts <= 20, "attempts > 20");
            return set("imds.attempts", Integer.toString(attempts), "imdsAttempts");
        }

        /**
         * A fixed refresh-ahead window: credentials are refreshed this long before they
         * expire. By default, {@code freshcreds.refreshAhead}, else scaled with the
         * credentials' lifetime (15 minutes for 1-hour credentials).
         *
         * @param window greater than zero
         * @return this builder (for chaining)
         */
        public Builder refreshAhead(Duration window) {
            require(window != null, "window == null");
            require(!window.isNegative() && !window.isZero(), "window <= 0");
            return set("refresh.ahead", window.toMillis() + "ms", "refreshAhead");
        }

        /**
         * SNTP servers ({@code host} or {@code host:port}) to measure clock skew against; none
         * turns NTP off. By default, {@code freshcreds.ntpServers}, else Amazon Time Sync
         * ({@code 169.254.169.123}).
         *
         * @param servers the servers, possibly none
         * @return this builder (for chaining)
         */
        public Builder ntpServers(String... servers) {
            require(servers != null, "servers == null");
            return set("ntp.servers", servers.length == 0 ? "off" : String.join(",", servers), "ntpServers");
        }

        /**
         * Whether IMDSv1 may be used when IMDSv2 is unavailable. By default,
         * {@code AWS_EC2_METADATA_V1_DISABLED}, else allowed.
         *
         * @param allowed false to require IMDSv2
         * @return this builder (for chaining)
         */
        public Builder imdsV1Fallback(boolean allowed) {
            return set("imds.v1_disabled", Boolean.toString(!allowed), "imdsV1Fallback");
        }

        /**
         * Assumes this IAM role on top of the source (see {@link #source(Source)}) through
         * STS {@code AssumeRole}, and keeps the role session fresh the same way: refreshed a
         * lead time before it expires (5 minutes for a 15-minute session, 15 for an hour),
         * each time with fresh source credentials, so a rotation of the instance profile
         * underneath never breaks it. STS is reached in {@code AWS_REGION} (else the
         * instance's region) at its regional endpoint, or at {@code AWS_ENDPOINT_URL_STS}.
         * By default, {@code freshcreds.roleArn} or {@code FRESHCREDS_ROLE_ARN}, else no
         * role.
         *
         * @param roleArn e.g. {@code arn:aws:iam::123456789012:role/app}
         * @return this builder (for chaining)
         */
        public Builder assumeRole(String roleArn) {
            require(roleArn != null && !roleArn.trim().isEmpty(), "roleArn is empty");
            return set("role.arn", roleArn, "assumeRole");
        }

        /**
         * The role session name. By default, {@code freshcreds.roleSessionName} or
         * {@code FRESHCREDS_ROLE_SESSION_NAME}, else {@code freshcreds-<unix seconds>}.
         *
         * @param name 2 to 64 characters of letters, digits and {@code _+=,.@-}
         * @return this builder (for chaining)
         */
        public Builder roleSessionName(String name) {
            require(name != null && !name.trim().isEmpty(), "name is empty");
            return set("role.session_name", name, "roleSessionName");
        }

        /**
         * The role session's duration. Assuming a role with the instance profile's
         * credentials is role chaining, which AWS caps at one hour: a longer duration is
         * refused by {@link #build()}. By default, {@code freshcreds.roleDuration} or
         * {@code FRESHCREDS_ROLE_DURATION}, else one hour.
         *
         * @param duration 15 minutes to 12 hours
         * @return this builder (for chaining)
         */
        public Builder roleDuration(Duration duration) {
            require(duration != null, "duration == null");
            require(duration.compareTo(Duration.ofMinutes(15)) >= 0, "duration < 15m");
            require(duration.compareTo(Duration.ofHours(12)) <= 0, "duration > 12h");
            return set("role.duration", duration.getSeconds() + "s", "roleDuration");
        }

        /**
         * The external id the role's trust policy asks for. By default,
         * {@code freshcreds.externalId} or {@code FRESHCREDS_EXTERNAL_ID}, else none.
         *
         * @param externalId 2 to 1224 characters of letters, digits and {@code _+=,.@:/-}
         * @return this builder (for chaining)
         */
        public Builder externalId(String externalId) {
            require(externalId != null && !externalId.trim().isEmpty(), "externalId is empty");
            return set("role.external_id", externalId, "externalId");
        }

        /**
         * An inline session policy (IAM policy JSON) that narrows the role's permissions.
         * By default, {@code freshcreds.roleSessionPolicy} or
         * {@code FRESHCREDS_ROLE_SESSION_POLICY}, else none.
         *
         * @param policyJson a JSON object of at most 2048 characters
         * @return this builder (for chaining)
         */
        public Builder sessionPolicy(String policyJson) {
            require(policyJson != null && !policyJson.trim().isEmpty(), "policyJson is empty");
            return set("role.session_policy", policyJson, "sessionPolicy");
        }

        /**
         * Where base credentials come from: the instance profile or the AWS SDKs' default
         * chain. By default, {@code freshcreds.source} or {@code FRESHCREDS_SOURCE}, else
         * {@link Source#IMDS}.
         *
         * @param source the source
         * @return this builder (for chaining)
         */
        public Builder source(Source source) {
            require(source != null, "source == null");
            return set("source", source.setting, "source");
        }

        /**
         * How long a caller waits when no valid credentials are published (only at start, or
         * after IMDS failed for the credentials' whole remaining lifetime). By default,
         * 5 seconds.
         *
         * @param timeout greater than zero, at most one minute
         * @return this builder (for chaining)
         */
        public Builder blockingTimeout(Duration timeout) {
            require(timeout != null, "timeout == null");
            require(!timeout.isNegative() && !timeout.isZero(), "timeout <= 0");
            require(timeout.compareTo(Duration.ofMinutes(1)) <= 0, "timeout > 1m");
            if (blockingTimeout != null) {
                throw new IllegalStateException("blockingTimeout was already set to " + blockingTimeout);
            }
            blockingTimeout = timeout;
            return this;
        }

        /**
         * The JMX name: the MBean is {@code dev.freshcreds:type=Credentials,name="NAME"}. By
         * default, {@code engine-N} with a process-unique N.
         *
         * @param name a short label
         * @return this builder (for chaining)
         */
        public Builder name(String name) {
            require(name != null && !name.trim().isEmpty(), "name is empty");
            if (this.name != null) {
                throw new IllegalStateException("name was already set to " + this.name);
            }
            this.name = name;
            return this;
        }

        /**
         * Opens a handle with these settings. Starts the native engine if no handle with the
         * same effective settings runs; no network I/O happens here.
         *
         * @return the handle
         * @throws FreshCredentialsException when the native library cannot be loaded or a
         *     setting is invalid
         */
        public FreshCredentials build() {
            long wait = (blockingTimeout == null ? Duration.ofSeconds(5) : blockingTimeout).toMillis();
            String label = name == null ? "engine-" + NEXT.incrementAndGet() : name;
            return new FreshCredentials(EngineCore.open(label,
                    Collections.unmodifiableMap(new LinkedHashMap<>(settings)), wait, () -> { }));
        }
    }
}
