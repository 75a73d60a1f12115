package dev.freshcreds.bootstrap;

/**
 * One set of valid credentials as the bridge carries them: JDK types only, so advice in any
 * class loader can use it. Immutable. {@link #toString()} shows the access key id abbreviated
 * and never the secret key or the token.
 */
public final class Creds {
    private final String accessKeyId;
    private final String secretAccessKey;
    private final String sessionToken;
    private final long seq;
    private final long localDeadlineMillis;

    /**
     * Credentials.
     *
     * @param accessKeyId the access key id
     * @param secretAccessKey the secret access key
     * @param sessionToken the session token, or null for long-term credentials
     * @param seq the engine's sequence number of this set
     * @param localDeadlineMillis when they stop being valid, on this JVM's clock (the
     *     expiration on the skew-corrected clock, moved back by the skew)
     */
    public Creds(String accessKeyId, String secretAccessKey, String sessionToken, long seq, long localDeadlineMillis) {
        if (accessKeyId == null || secretAccessKey == null) {
            throw new IllegalArgumentException("accessKeyId == null || secretAccessKey == null");
        }
        this.accessKeyId = accessKeyId;
        this.secretAccessKey = secretAccessKey;
        this.sessionToken = sessionToken;
        this.seq = seq;
        this.localDeadlineMillis = localDeadlineMillis;
    }

    /** @return the access key id */
    public String accessKeyId() {
        return accessKeyId;
    }

    /** @return the secret access key */
    public String secretAccessKey() {
        return secretAccessKey;
    }

    /** @return the session token, or null */
    public String sessionToken() {
        return sessionToken;
    }

    /** @return the engine's sequence number of this set */
    public long seq() {
        return seq;
    }

    /** @return when these credentials stop being valid, epoch milliseconds on this JVM's clock */
    public long localDeadlineMillis() {
        return localDeadlineMillis;
    }

    @Override
    public String toString() {
        String k = accessKeyId.length() <= 8 ? "****" : accessKeyId.substring(0, 4) + "…" + accessKeyId.substring(accessKeyId.length() - 4);
        return "Creds(keyId=" + k + ", seq=" + seq + ")";
    }
}
