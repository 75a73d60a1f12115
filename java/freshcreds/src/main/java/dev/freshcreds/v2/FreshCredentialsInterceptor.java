package dev.freshcreds.v2;

import dev.freshcreds.FreshCredentials;
import dev.freshcreds.internal.Access;
import dev.freshcreds.internal.EngineCore;
import dev.freshcreds.internal.SdkErrors;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;

/**
 * An AWS SDK for Java 2.x interceptor that reports credential and clock errors to freshcreds:
 * {@code ExpiredToken}, {@code ExpiredTokenException} and {@code InvalidToken} trigger one
 * shared refresh ({@link FreshCredentials#invalidate()}); {@code RequestExpired},
 * {@code RequestTimeTooSkewed} and "Signature expired" trigger a new clock measurement.
 *
 * <pre>{@code
 * SqsClient sqs = SqsClient.builder()
 *     .credentialsProvider(FreshAwsCredentialsProvider.create())
 *     .overrideConfiguration(c -> c.addExecutionInterceptor(FreshCredentialsInterceptor.create()))
 *     .build();
 * }</pre>
 *
 * Never blocks and never throws. Thread-safe and immutable.
 */
public final class FreshCredentialsInterceptor implements ExecutionInterceptor {
    private final FreshCredentials credentials;
    private final EngineCore core;

    private FreshCredentialsInterceptor(FreshCredentials credentials) {
        this.credentials = credentials;
        this.core = Access.core(credentials);
    }

    /**
     * An interceptor reporting to {@link FreshCredentials#shared()}.
     *
     * @return the interceptor
     */
    public static FreshCredentialsInterceptor create() {
        return new FreshCredentialsInterceptor(FreshCredentials.shared());
    }

    /**
     * An interceptor reporting to the given engine handle.
     *
     * @param credentials the engine handle
     * @return the interceptor
     */
    public static FreshCredentialsInterceptor create(FreshCredentials credentials) {
        if (credentials == null) {
            throw new IllegalArgumentException("credentials == null");
        }
        return new FreshCredentialsInterceptor(credentials);
    }

    @Override
    public void onExecutionFailure(Context.FailedExecution context, ExecutionAttributes executionAttributes) {
        try {
            Throwable e = context.exception();
            String code = null;
            if (e instanceof AwsServiceException) {
                AwsErrorDetails details = ((AwsServiceException) e).awsErrorDetails();
                code = details == null ? null : details.errorCode();
            }
            SdkErrors.act(core, code, e == null ? null : e.getMessage());
        } catch (RuntimeException ignored) {
            // An interceptor must never turn a failed call into a different failure.
        }
    }

    @Override
    public String toString() {
        return "FreshCredentialsInterceptor(" + credentials + ")";
    }
}
