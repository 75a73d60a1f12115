package dev.freshcreds.v2;

import dev.freshcreds.FreshCredentials;
import dev.freshcreds.FreshCredentialsException;
import dev.freshcreds.internal.Access;
import dev.freshcreds.internal.CredentialsSnapshot;
import dev.freshcreds.internal.EngineCore;
import dev.freshcreds.internal.Published;
import java.util.concurrent.CompletableFuture;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;
import software.amazon.awssdk.identity.spi.ResolveIdentityRequest;

/**
 * An AWS SDK for Java 2.x credentials provider backed by freshcreds.
 *
 * <pre>{@code
 * SqsClient sqs = SqsClient.builder()
 *     .credentialsProvider(FreshAwsCredentialsProvider.create())
 *     .build();
 * }</pre>
 *
 * <p>{@link #resolveCredentials()} and {@link #resolveIdentity(ResolveIdentityRequest)} read
 * a prebuilt {@link AwsSessionCredentials} (and a prebuilt completed future of it) through
 * one volatile read: no lock, no allocation, no native call. Only when no valid credentials
 * are published (at start, or after IMDS failed for their whole remaining lifetime) does a
 * caller wait, bounded, for the engine's single running fetch. See {@link FreshCredentials}
 * for the refresh semantics. Thread-safe and immutable; {@link #toString()} shows no secret.
 */
public final class FreshAwsCredentialsProvider implements AwsCredentialsProvider {
    private final FreshCredentials credentials;
    private final EngineCore core;

    private FreshAwsCredentialsProvider(FreshCredentials credentials) {
        this.credentials = credentials;
        this.core = Access.core(credentials);
        core.enableV2(FreshAwsCredentialsProvider::toSdk);
    }

    /**
     * A provider on {@link FreshCredentials#shared()}.
     *
     * @return the provider
     * @throws FreshCredentialsException when the native library cannot be loaded
     */
    public static FreshAwsCredentialsProvider create() {
        return new FreshAwsCredentialsProvider(FreshCredentials.shared());
    }

    /**
     * A provider on the given engine handle.
     *
     * @param credentials the engine handle
     * @return the provider
     */
    public static FreshAwsCredentialsProvider create(FreshCredentials credentials) {
        if (credentials == null) {
            throw new IllegalArgumentException("credentials == null");
        }
        return new FreshAwsCredentialsProvider(credentials);
    }

    private static Object toSdk(CredentialsSnapshot s) {
        if (s.sessionToken() == null) {
            return software.amazon.awssdk.auth.credentials.AwsBasicCredentials.create(s.accessKeyId(), s.secretAccessKey());
        }
        return AwsSessionCredentials.create(s.accessKeyId(), s.secretAccessKey(), s.sessionToken());
    }

    /**
     * The current credentials.
     *
     * @return prebuilt session credentials
     * @throws FreshCredentialsException when no valid credentials could be had in time
     */
    @Override
    public AwsCredentials resolveCredentials() {
        Object c = core.published().v2;
        return (AwsCredentials) (c != null ? c : core.blocking().v2);
    }

    /**
     * The current credentials as the v2 identity API asks for them: a prebuilt, already
     * completed future (the default implementation would allocate one per call).
     *
     * @param request ignored
     * @return a completed future; completed exceptionally when no valid credentials could be
     *     had in time
     */
    @Override
    @SuppressWarnings("unchecked")
    public CompletableFuture<AwsCredentialsIdentity> resolveIdentity(ResolveIdentityRequest request) {
        Published p = core.published();
        CompletableFuture<?> f = p.v2Future;
        if (f == null) {
            try {
                f = core.blocking().v2Future;
            } catch (RuntimeException e) {
                CompletableFuture<AwsCredentialsIdentity> failed = new CompletableFuture<>();
                failed.completeExceptionally(e);
                return failed;
            }
        }
        return (CompletableFuture<AwsCredentialsIdentity>) f;
    }

    /**
     * Same as {@link #resolveIdentity(ResolveIdentityRequest)}.
     *
     * @return a completed future
     */
    @Override
    public CompletableFuture<AwsCredentialsIdentity> resolveIdentity() {
        return resolveIdentity((ResolveIdentityRequest) null);
    }

    @Override
    public String toString() {
        return "FreshAwsCredentialsProvider(" + credentials + ")";
    }
}
