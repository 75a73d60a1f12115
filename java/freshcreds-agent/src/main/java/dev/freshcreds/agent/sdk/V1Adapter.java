package dev.freshcreds.agent.sdk;

import com.amazonaws.auth.BasicAWSCredentials;
import com.amazonaws.auth.BasicSessionCredentials;
import dev.freshcreds.FreshCredentials;
import dev.freshcreds.agent.AgentEngine;
import dev.freshcreds.bootstrap.Creds;
import dev.freshcreds.v1.FreshCredentialsRequestHandler;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The adapters for one copy of the AWS SDK for Java 1.x. Never loaded by the agent's own
 * class loader: {@code SdkLoader} defines it beside each SDK copy, so these direct references
 * link against that copy. {@link #apply} builds its credentials objects; {@link #get} gives
 * the library's {@link FreshCredentialsRequestHandler} for its clients.
 */
public final class V1Adapter implements Function<Creds, Object>, Supplier<Object> {
    private final Object handler;

    /** Adapters; the request handler reports to the agent's engine, if it started. */
    public V1Adapter() {
        FreshCredentials fc = AgentEngine.awaitHandle();
        this.handler = fc == null ? null : new FreshCredentialsRequestHandler(fc);
    }

    @Override
    public Object apply(Creds c) {
        if (c.sessionToken() == null) {
            return new BasicAWSCredentials(c.accessKeyId(), c.secretAccessKey());
        }
        return new BasicSessionCredentials(c.accessKeyId(), c.secretAccessKey(), c.sessionToken());
    }

    @Override
    public Object get() {
        return handler;
    }
}
