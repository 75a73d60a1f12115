package dev.freshcreds.v1;

import com.amazonaws.AmazonServiceException;
import com.amazonaws.Request;
import com.amazonaws.Response;
import com.amazonaws.handlers.RequestHandler2;
import dev.freshcreds.FreshCredentials;
import dev.freshcreds.internal.Access;
import dev.freshcreds.internal.EngineCore;
import dev.freshcreds.internal.SdkErrors;

/**
 * An AWS SDK for Java 1.x request handler that reports credential and clock errors to
 * freshcreds: {@code ExpiredToken}, {@code ExpiredTokenException} and {@code InvalidToken}
 * trigger one shared refresh; {@code RequestExpired}, {@code RequestTimeTooSkewed} and
 * "Signature expired" trigger a new clock measurement.
 *
 * <pre>{@code
 * AmazonSQS sqs = AmazonSQSClientBuilder.standard()
 *     .withCredentials(new FreshAWSCredentialsProvider())
 *     .withRequestHandlers(new FreshCredentialsRequestHandler())
 *     .build();
 * }</pre>
 *
 * Never blocks and never throws. Thread-safe and immutable.
 */
public final class FreshCredentialsRequestHandler extends RequestHandler2 {
    private final FreshCredentials credentials;
    private final EngineCore core;

    /** A handler reporting to {@link FreshCredentials#shared()}. */
    public FreshCredentialsRequestHandler() {
        this(FreshCredentials.shared());
    }

    /**
     * A handler reporting to the given engine handle.
     *
     * @param credentials the engine handle
     */
    public FreshCredentialsRequestHandler(FreshCredentials credentials) {
        if (credentials == null) {
            throw new IllegalArgumentException("credentials == null");
        }
        this.credentials = credentials;
        this.core = Access.core(credentials);
    }

    @Override
    public void afterError(Request<?> request, Response<?> response, Exception e) {
        try {
            String code = e instanceof AmazonServiceException ? ((AmazonServiceException) e).getErrorCode() : null;
            SdkErrors.act(core, code, e == null ? null : e.getMessage());
        } catch (RuntimeException ignored) {
            // A handler must never turn a failed call into a different failure.
        }
    }

    @Override
    public String toString() {
        return "FreshCredentialsRequestHandler(" + credentials + ")";
    }
}
