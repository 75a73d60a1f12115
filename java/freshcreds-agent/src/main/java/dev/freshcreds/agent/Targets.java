package dev.freshcreds.agent;

import dev.freshcreds.agent.advice.CredentialsAdvice;
import dev.freshcreds.agent.advice.DefaultChainAdvice;
import dev.freshcreds.agent.advice.ErrorHookAdvice;
import dev.freshcreds.agent.advice.RefreshAdvice;
import dev.freshcreds.agent.advice.TimeOffsetAdvice;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * What the agent advises: SDK class, method (no-argument methods only) and advice, as checked
 * against the bytecode of aws-java-sdk-core 1.12.797 and software.amazon.awssdk 2.54.14.
 *
 * <table>
 *   <caption>Advised methods</caption>
 *   <tr><th>SDK</th><th>class</th><th>method</th><th>why</th></tr>
 *   <tr><td>v1</td><td>com.amazonaws.auth.InstanceProfileCredentialsProvider</td><td>getCredentials,
 *       refresh</td><td>the IMDS step of the default chain (via EC2ContainerCredentialsProviderWrapper)</td></tr>
 *   <tr><td>v2</td><td>software.amazon.awssdk.auth.credentials.InstanceProfileCredentialsProvider</td>
 *       <td>resolveCredentials</td><td>the IMDS step; the chain calls {@code resolveIdentity()}, whose
 *       default (AwsCredentialsProvider) calls {@code resolveCredentials()}</td></tr>
 *   <tr><td>v1</td><td>com.amazonaws.auth.AWSCredentialsProviderChain</td><td>getCredentials</td>
 *       <td>{@code mode=force}: the default chain inherits it</td></tr>
 *   <tr><td>v2</td><td>software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider</td>
 *       <td>resolveCredentials</td><td>{@code mode=force}</td></tr>
 *   <tr><td>v1</td><td>com.amazonaws.SDKGlobalTime</td><td>getGlobalTimeOffset</td><td>global offset:
 *       read when clients are built and by AbstractAWSSigner</td></tr>
 *   <tr><td>v1</td><td>com.amazonaws.DefaultRequest</td><td>getTimeOffset</td><td>per request: what
 *       AWS4Signer signs with</td></tr>
 *   <tr><td>v2</td><td>software.amazon.awssdk.core.SdkGlobalTime</td><td>getGlobalTimeOffset</td>
 *       <td>global offset: read when clients are built</td></tr>
 *   <tr><td>v2</td><td>software.amazon.awssdk.core.internal.http.HttpClientDependencies</td>
 *       <td>timeOffset</td><td>per client: SigningStage's signing clock</td></tr>
 *   <tr><td>v1</td><td>com.amazonaws.handlers.HandlerChainFactory</td><td>getGlobalHandlers</td>
 *       <td>every generated client adds these: the library's RequestHandler2</td></tr>
 *   <tr><td>v2</td><td>software.amazon.awssdk.core.interceptor.ClasspathInterceptorChainFactory</td>
 *       <td>getGlobalInterceptors</td><td>SdkDefaultClientBuilder adds these to every client: the
 *       library's ExecutionInterceptor</td></tr>
 * </table>
 *
 * (The SDKs' own discovery files, {@code com/amazonaws/global/handlers/request.handler2s} and
 * {@code software/amazon/awssdk/global/handlers/execution.interceptors}, are read through the
 * SDK's loader and name a class it must load itself: an SDK in a child loader would find the
 * agent jar's file but fail to link the class, and fail the client. Hence advice.)
 */
final class Targets {
    /** One advised method. */
    static final class Target {
        final String className;
        final String method;
        final Class<?> advice;

        Target(String className, String method, Class<?> advice) {
            this.className = className;
            this.method = method;
            this.advice = advice;
        }
    }

    private Targets() {}

    /** One row: class (without prefix), method, advice; the advice is named, not loaded. */
    private static List<String[]> rows(AgentOptions options) {
        List<String[]> r = new ArrayList<>();
        r.add(new String[] {"com.amazonaws.auth.InstanceProfileCredentialsProvider", "getCredentials", "credentials"});
        r.add(new String[] {"com.amazonaws.auth.InstanceProfileCredentialsProvider", "refresh", "refresh"});
        r.add(new String[] {"software.amazon.awssdk.auth.credentials.InstanceProfileCredentialsProvider",
            "resolveCredentials", "credentials"});
        if (options.mode() == AgentOptions.Mode.FORCE) {
            r.add(new String[] {"com.amazonaws.auth.AWSCredentialsProviderChain", "getCredentials", "defaultChain"});
            r.add(new String[] {"software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider",
                "resolveCredentials", "credentials"});
        }
        r.add(new String[] {"com.amazonaws.SDKGlobalTime", "getGlobalTimeOffset", "timeOffset"});
        r.add(new String[] {"com.amazonaws.DefaultRequest", "getTimeOffset", "timeOffset"});
        r.add(new String[] {"software.amazon.awssdk.core.SdkGlobalTime", "getGlobalTimeOffset", "timeOffset"});
        r.add(new String[] {"software.amazon.awssdk.core.internal.http.HttpClientDependencies", "timeOffset", "timeOffset"});
        r.add(new String[] {"com.amazonaws.handlers.HandlerChainFactory", "getGlobalHandlers", "errorHook"});
        r.add(new String[] {"software.amazon.awssdk.core.interceptor.ClasspathInterceptorChainFactory",
            "getGlobalInterceptors", "errorHook"});
        return r;
    }

    /**
     * The advised methods for these options, each SDK under every prefix. Loads the advice
     * classes: called when ByteBuddy is built, not in {@code premain}.
     */
    static List<Target> of(AgentOptions options) {
        List<Target> out = new ArrayList<>();
        for (String p : options.sdkPrefixes()) {
            for (String[] row : rows(options)) {
                out.add(new Target(p + row[0], row[1], advice(row[2])));
            }
        }
        return Collections.unmodifiableList(out);
    }

    private static Class<?> advice(String key) {
        switch (key) {
            case "credentials":
                return CredentialsAdvice.class;
            case "refresh":
                return RefreshAdvice.class;
            case "defaultChain":
                return DefaultChainAdvice.class;
            case "timeOffset":
                return TimeOffsetAdvice.class;
            case "errorHook":
                return ErrorHookAdvice.class;
            default:
                throw new IllegalArgumentException(key);
        }
    }

    /**
     * Internal names ({@code a/b/C}) of the advised classes: the transformer's cheap filter,
     * computed in {@code premain} without loading any advice class.
     */
    static Set<String> internalNames(AgentOptions options) {
        Set<String> s = new HashSet<>();
        for (String p : options.sdkPrefixes()) {
            for (String[] row : rows(options)) {
                s.add((p + row[0]).replace('.', '/'));
            }
        }
        return Collections.unmodifiableSet(s);
    }
}
