package dev.freshcreds.internal;

/**
 * JMX view of one engine, registered as {@code dev.freshcreds:type=Credentials,name=NAME}.
 * Every getter reads one fresh health snapshot; nothing here is a secret.
 */
public interface CredentialsMXBean {
    /** @return expiration of the current credentials, ISO-8601, or empty */
    String getExpiration();

    /** @return seconds until the current credentials expire on the corrected clock, or -1 */
    long getSecondsToExpiry();

    /** @return last successful refresh, ISO-8601, or empty */
    String getLastRefresh();

    /** @return next planned refresh, ISO-8601, or empty */
    String getNextRefresh();

    /** @return refreshes that published new credentials */
    long getRefreshCount();

    /** @return failed refreshes */
    long getFailureCount();

    /** @return the last refresh error, or empty */
    String getLastError();

    /** @return clock skew, server minus local, milliseconds */
    long getClockSkewMillis();

    /** @return where the skew figure came from */
    String getClockSkewSource();

    /** @return the IMDS protocol in use */
    String getImdsVersion();

    /** @return the credential source */
    String getSource();

    /** @return the access key id, abbreviated, or empty */
    String getAccessKeyId();

    /** @return caller threads that waited in a native call */
    long getBlockingCalls();
}
