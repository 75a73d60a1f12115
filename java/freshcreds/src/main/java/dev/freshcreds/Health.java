package dev.freshcreds;

import dev.freshcreds.internal.HealthFigures;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * A point-in-time view of an engine: what it serves, when it refreshed and will refresh, how
 * often it failed, and the measured clock skew. Immutable. Holds no secret: the access key
 * id is abbreviated.
 */
public final class Health {
    private final HealthFigures f;

    Health(HealthFigures figures) {
        this.f = figures;
    }

    private static Optional<Instant> time(long millis) {
        return millis == HealthFigures.NONE ? Optional.empty() : Optional.of(Instant.ofEpochMilli(millis));
    }

    /** @return expiration of the credentials served, if any */
    public Optional<Instant> expiration() {
        return time(f.expirationMillis);
    }

    /** @return the access key id served, abbreviated (first and last four characters) */
    public Optional<String> accessKeyId() {
        return Optional.ofNullable(f.keyId);
    }

    /** @return when credentials were last refreshed successfully */
    public Optional<Instant> lastRefresh() {
        return time(f.lastRefreshMillis);
    }

    /** @return when the next refresh is planned */
    public Optional<Instant> nextRefresh() {
        return time(f.nextRefreshMillis);
    }

    /** @return refreshes that published new credentials */
    public long refreshCount() {
        return f.refreshCount;
    }

    /** @return failed refreshes */
    public long failureCount() {
        return f.failureCount;
    }

    /** @return the last failure's message, cleared by the next success */
    public Optional<String> lastError() {
        return Optional.ofNullable(f.lastError);
    }

    /**
     * The measured clock skew: server time minus local time (a host whose clock is slow has a
     * positive skew). The AWS SDKs' time offsets use the opposite sign.
     *
     * @return the skew, zero until measured
     */
    public Duration clockSkew() {
        return Duration.ofMillis(f.skewMillis);
    }

    /** @return where the skew figure came from: {@code none}, {@code ntp} or {@code date-header} */
    public String clockSkewSource() {
        return f.skewSource;
    }

    /** @return the IMDS protocol in use: {@code unknown}, {@code v1} or {@code v2} */
    public String imdsVersion() {
        return f.imdsVersion;
    }

    /** @return the credential source, e.g. {@code instance profile (IMDS http://169.254.169.254)} */
    public String source() {
        return f.source;
    }

    /** @return the native engine's number in this process; handles with equal settings share one */
    public long engineId() {
        return f.engineId;
    }

    /** @return engines running in this process */
    public long engineCount() {
        return f.engineCount;
    }

    /** @return calls that found no valid credentials published and waited in a native call */
    public long blockingCalls() {
        return f.blockingCalls;
    }

    /** @return which native library serves this JVM, and where it was loaded from */
    public String library() {
        return f.library;
    }

    @Override
    public String toString() {
        return "Health(source=" + f.source + ", accessKeyId=" + f.keyId + ", expiration=" + expiration().orElse(null)
                + ", lastRefresh=" + lastRefresh().orElse(null) + ", nextRefresh=" + nextRefresh().orElse(null)
                + ", refreshCount=" + f.refreshCount + ", failureCount=" + f.failureCount
                + ", lastError=" + f.lastError + ", clockSkew=" + clockSkew() + " (" + f.skewSource + ")"
                + ", imds=" + f.imdsVersion + ", engineId=" + f.engineId + ", blockingCalls=" + f.blockingCalls + ")";
    }
}
