package dev.freshcreds.agent.sdk;

import dev.freshcreds.FreshCredentials;
import dev.freshcreds.agent.AgentEngine;
import dev.freshcreds.bootstrap.Creds;
import dev.freshcreds.v2.FreshCredentialsInterceptor;
import java.util.function.Function;
import java.util.function.Supplier;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;

/**
 * The adapters for one copy of the AWS SDK for Java 2.x. Never loaded by the agent's own
 * class loader: {@code SdkLoader} defines it beside each SDK copy, so these direct references
 * link against that copy. {@link #apply} builds its credentials objects; {@link #get} gives
 * the library's {@link FreshCredentialsInterceptor} for its clients.
 */
public final class V2Adapter implements Function<Creds, Object>, Supplier<Object> {
    private final Object interceptor;

    /** Adapters; the interceptor reports to the agent's engine, if it started. */
    public V2Adapter() {
        FreshCredentials fc = AgentEngine.awaitHandle();
        this.interceptor = fc == null ? null : FreshCredentialsInterceptor.create(fc);
    }

    @Override
    public Object apply(Creds c) {
        if (c.sessionToken() == null) {
            return AwsBasicCredentials.create(c.accessKeyId(), c.secretAccessKey());
        }
        return AwsSessionCredentials.create(c.accessKeyId(), c.secretAccessKey(), c.sessionToken());
    }

    @Override
    public Object get() {
        return interceptor;
    }
}
