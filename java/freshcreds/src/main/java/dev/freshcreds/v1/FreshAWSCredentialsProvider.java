package dev.freshcreds.v1;

import com.amazonaws.auth.AWSCredentials;
import com.amazonaws.auth.AWSCredentialsProvider;
import com.amazonaws.auth.BasicAWSCredentials;
import com.amazonaws.auth.BasicSessionCredentials;
import dev.freshcreds.FreshCredentials;
import dev.freshcreds.FreshCredentialsException;
import dev.freshcreds.internal.Access;
import dev.freshcreds.internal.CredentialsSnapshot;
import dev.freshcreds.internal.EngineCore;

/**
 * An AWS SDK for Java 1.x credentials provider backed by freshcreds.
 *
 * <pre>{@code
 * AmazonSQS sqs = AmazonSQSClientBuilder.standard()
 *     .withCredentials(new FreshAWSCredentialsProvider())
 *     .build();
 * }</pre>
 *
 * <p>{@link #getCredentials()} reads a prebuilt {@link BasicSessionCredentials} through one
 * volatile read: no lock, no allocation, no native call. Only when no valid credentials are
 * published does a caller wait, bounded, for the engine's single running fetch.
 * {@link #refresh()} asks for one shared refresh. See {@link FreshCredentials} for the
 * refresh semantics. Thread-safe and immutable; {@link #toString()} shows no secret.
 */
public final class FreshAWSCredentialsProvider implements AWSCredentialsProvider {
    private final FreshCredentials credentials;
    private final EngineCore core;

    /**
     * A provider on {@link FreshCredentials#shared()}.
     *
     * @throws FreshCredentialsException when the native library cannot be loaded
     */
    public FreshAWSCredentialsProvider() {
        this(FreshCredentials.shared());
    }

    /**
     * A provider on the given engine handle.
     *
     * @param credentials the engine handle
     */
    public FreshAWSCredentialsProvider(FreshCredentials credentials) {
        if (credentials == null) {
            throw new IllegalArgumentException("credentials == null");
        }
        this.credentials = credentials;
        this.core = Access.core(credentials);
        core.enableV1(FreshAWSCredentialsProvider::toSdk);
    }

    private static Object toSdk(CredentialsSnapshot s) {
        if (s.sessionToken() == null) {
            return new BasicAWSCredentials(s.accessKeyId(), s.secretAccessKey());
        }
        return new BasicSessionCredentials(s.accessKeyId(), s.secretAccessKey(), s.sessionToken());
    }

    /**
     * The current credentials.
     *
     * @return prebuilt session credentials
     * @throws FreshCredentialsException when no valid credentials could be had in time
     */
    @Override
    public AWSCredentials getCredentials() {
        Object c = core.published().v1;
        return (AWSCredentials) (c != null ? c : core.blocking().v1);
    }

    /** Asks the engine for one shared refresh; never blocks. */
    @Override
    public void refresh() {
        core.invalidate();
    }

    @Override
    public String toString() {
        return "FreshAWSCredentialsProvider(" + credentials + ")";
    }
}
