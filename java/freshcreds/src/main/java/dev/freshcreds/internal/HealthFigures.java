package dev.freshcreds.internal;

/**
 * The engine's health as read from the native side (layout: jni.rs), plus Java-side counts.
 * Immutable; holds no secret.
 */
public final class HealthFigures {
    /** "none" in the native time fields. */
    public static final long NONE = Long.MIN_VALUE;

    /** Abbreviated access key id, or null. */
    public final String keyId;
    /** The last refresh error, or null. */
    public final String lastError;
    /** {@code none}, {@code ntp} or {@code date-header}. */
    public final String skewSource;
    /** {@code unknown}, {@code v1} or {@code v2}. */
    public final String imdsVersion;
    /** The credential source. */
    public final String source;
    /** Expiration, epoch ms, or {@link #NONE}. */
    public final long expirationMillis;
    /** Last successful refresh, epoch ms, or {@link #NONE}. */
    public final long lastRefreshMillis;
    /** Next planned refresh, epoch ms, or {@link #NONE}. */
    public final long nextRefreshMillis;
    /** Refreshes that published new credentials. */
    public final long refreshCount;
    /** Failed refreshes. */
    public final long failureCount;
    /** Clock skew, server − local, ms. */
    public final long skewMillis;
    /** The native engine's id. */
    public final long engineId;
    /** Engines running in the process. */
    public final long engineCount;
    /** Caller threads that had to wait in a native call (no valid credentials published). */
    public final long blockingCalls;
    /** Where the native library came from. */
    public final String library;

    HealthFigures(String[] s, long[] n, long blockingCalls, String library) {
        this.keyId = s[0];
        this.lastError = s[1];
        this.skewSource = s[2];
        this.imdsVersion = s[3];
        this.source = s[4];
        this.expirationMillis = n[0];
        this.lastRefreshMillis = n[1];
        this.nextRefreshMillis = n[2];
        this.refreshCount = n[3];
        this.failureCount = n[4];
        this.skewMillis = n[5];
        this.engineId = n[6];
        this.engineCount = n[7];
        this.blockingCalls = blockingCalls;
        this.library = library;
    }
}
