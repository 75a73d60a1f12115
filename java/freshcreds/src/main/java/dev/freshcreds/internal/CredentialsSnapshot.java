package dev.freshcreds.internal;

/**
 * One published credential set as the Java side holds it. Immutable. {@link #toString()}
 * shows the access key id abbreviated and never the secret key or the token.
 */
public final class CredentialsSnapshot {
    private final String accessKeyId;
    private final String secretAccessKey;
    private final String sessionToken;
    private final String accountId;
    private final long seq;
    private final long expirationMillis;
    private final long skewMillis;

    private CredentialsSnapshot(String accessKeyId, String secretAccessKey, String sessionToken,
            String accountId, long seq, long expirationMillis, long skewMillis) {
        this.accessKeyId = accessKeyId;
        this.secretAccessKey = secretAccessKey;
        this.sessionToken = sessionToken;
        this.accountId = accountId;
        this.seq = seq;
        this.expirationMillis = expirationMillis;
        this.skewMillis = skewMillis;
    }

    /** Builds a snapshot from the arrays a snapshot native call filled (layout: jni.rs). */
    static CredentialsSnapshot of(String[] s, long[] n) {
        if (s[0] == null || s[1] == null) {
            throw new IllegalStateException("native snapshot without an access key id or secret");
        }
        return new CredentialsSnapshot(s[0], s[1], s[2], s[3], n[0], n[1], n[2]);
    }

    /** @return the access key id */
    public String accessKeyId() {
        return accessKeyId;
    }

    /** @return the secret access key */
    public String secretAccessKey() {
        return secretAccessKey;
    }

    /** @return the session token, or null for long-term credentials */
    public String sessionToken() {
        return sessionToken;
    }

    /** @return the AWS account id, or null when the source did not report it */
    public String accountId() {
        return accountId;
    }

    /** @return the sequence number: one more per new credential set */
    public long seq() {
        return seq;
    }

    /** @return when the credentials expire, epoch milliseconds (server time) */
    public long expirationMillis() {
        return expirationMillis;
    }

    /** @return the clock skew when read, server minus local, milliseconds */
    public long skewMillis() {
        return skewMillis;
    }

    /**
     * The local-clock instant at which these credentials expire on the corrected clock:
     * corrected now = local now + skew, so expiry is reached when local now reaches
     * {@code expiration − skew}.
     *
     * @return epoch milliseconds on the local clock
     */
    public long localDeadlineMillis() {
        return expirationMillis - skewMillis;
    }

    /**
     * The access key id shortened for logs: its first and last four characters.
     *
     * @param keyId an access key id
     * @return the abbreviation
     */
    public static String abbreviate(String keyId) {
        if (keyId == null) {
            return "none";
        }
        if (keyId.length() <= 8) {
            return new String(new char[keyId.length()]).replace('\0', '*');
        }
        return keyId.substring(0, 4) + "…" + keyId.substring(keyId.length() - 4);
    }

    @Override
    public String toString() {
        return "CredentialsSnapshot(keyId=" + abbreviate(accessKeyId) + ", seq=" + seq
                + ", expiration=" + java.time.Instant.ofEpochMilli(expirationMillis) + ", skewMillis=" + skewMillis + ")";
    }
}
