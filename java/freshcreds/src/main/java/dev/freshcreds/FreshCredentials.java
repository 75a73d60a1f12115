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
