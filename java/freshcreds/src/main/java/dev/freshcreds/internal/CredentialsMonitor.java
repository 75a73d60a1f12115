package dev.freshcreds.internal;

import java.time.Instant;

/** The {@link CredentialsMXBean} of one {@link EngineCore}. */
final class CredentialsMonitor implements CredentialsMXBean {
    private final EngineCore core;

    CredentialsMonitor(EngineCore core) {
        this.core = core;
    }

    private static String time(long millis) {
        return millis == HealthFigures.NONE ? "" : Instant.ofEpochMilli(millis).toString();
    }

    private static String text(String s) {
        return s == null ? "" : s;
    }

    @Override
    public String getExpiration() {
        return time(core.healthFigures().expirationMillis);
    }

    @Override
    public long getSecondsToExpiry() {
        HealthFigures h = core.healthFigures();
        if (h.expirationMillis == HealthFigures.NONE) {
            return -1;
        }
        return Math.max(0, (h.expirationMillis - (System.currentTimeMillis() + h.skewMillis)) / 1000);
    }

    @Override
    public String getLastRefresh() {
        return time(core.healthFigures().lastRefreshMillis);
    }

    @Override
    public String getNextRefresh() {
        return time(core.healthFigures().nextRefreshMillis);
    }

    @Override
    public long getRefreshCount() {
        return core.healthFigures().refreshCount;
    }

    @Override
    public long getFailureCount() {
        return core.healthFigures().failureCount;
    }

    @Override
    public String getLastError() {
        return text(core.healthFigures().lastError);
    }

    @Override
    public long getClockSkewMillis() {
        return core.healthFigures().skewMillis;
    }

    @Override
    public String getClockSkewSource() {
        return text(core.healthFigures().skewSource);
    }

    @Override
    public String getImdsVersion() {
        return text(core.healthFigures().imdsVersion);
    }

    @Override
    public String getSource() {
        return text(core.healthFigures().source);
    }

    @Override
    public String getAccessKeyId() {
        return text(core.healthFigures().keyId);
    }

    @Override
    public long getBlockingCalls() {
        return core.healthFigures().blockingCalls;
    }
}
