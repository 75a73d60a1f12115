package dev.freshcreds.bench;

import com.amazonaws.auth.AWSCredentials;
import dev.freshcreds.FreshCredentials;
import dev.freshcreds.v1.FreshAWSCredentialsProvider;
import dev.freshcreds.v2.FreshAwsCredentialsProvider;
import java.net.URI;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.InstanceProfileCredentialsProvider;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;
import software.amazon.awssdk.identity.spi.ResolveIdentityRequest;

/**
 * The cost of one credentials call: freshcreds' providers beside the SDKs' own
 * {@code InstanceProfileCredentialsProvider}s, all against the same loopback IMDS (AEMM, given
 * as {@code -Dbench.imds=URL}; run.sh starts it). Run at 1, 8 and 64 threads with
 * {@code -prof gc} for B/op.
 *
 * <p>Each method is named {@code <subject><Api>}: what a v2 client calls is
 * {@code resolveIdentity(ResolveIdentityRequest)} (the SDK's provider inherits the interface's
 * default, which wraps {@code resolveCredentials()} in a new completed future);
 * {@code resolveCredentials()} is the older v2 entry point, {@code getCredentials()} the v1 one.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class ProviderBenchmark {
    private FreshCredentials fresh;
    private FreshAwsCredentialsProvider freshV2;
    private FreshAWSCredentialsProvider freshV1;
    private InstanceProfileCredentialsProvider sdkV2;
    private com.amazonaws.auth.InstanceProfileCredentialsProvider sdkV1;
    private final ResolveIdentityRequest request = ResolveIdentityRequest.builder().build();

    @Setup
    public void setUp() {
        String imds = System.getProperty("bench.imds");
        if (imds == null) {
            throw new IllegalStateException("-Dbench.imds=URL is required (run.sh sets it)");
        }
        fresh = FreshCredentials.builder().imdsEndpoint(imds).ntpServers().build();
        freshV2 = FreshAwsCredentialsProvider.create(fresh);
        freshV1 = new FreshAWSCredentialsProvider(fresh);
        sdkV2 = InstanceProfileCredentialsProvider.builder().endpoint(imds).build();
        // SDK v1 reads its IMDS endpoint from this system property only.
        System.setProperty("com.amazonaws.sdk.ec2MetadataServiceEndpointOverride", imds);
        sdkV1 = new com.amazonaws.auth.InstanceProfileCredentialsProvider(false);
        // Every provider has credentials before measuring.
        freshV2.resolveCredentials();
        freshV1.getCredentials();
        sdkV2.resolveCredentials();
        sdkV1.getCredentials();
        URI.create(imds); // validated
    }

    @TearDown
    public void tearDown() {
        sdkV2.close();
        fresh.close();
    }

    @Benchmark
    public AwsCredentials freshcredsResolveCredentials() {
        return freshV2.resolveCredentials();
    }

    @Benchmark
    public CompletableFuture<? extends AwsCredentialsIdentity> freshcredsResolveIdentity() {
        return freshV2.resolveIdentity(request);
    }

    @Benchmark
    public AWSCredentials freshcredsGetCredentials() {
        return freshV1.getCredentials();
    }

    @Benchmark
    public AwsCredentials sdkV2ResolveCredentials() {
        return sdkV2.resolveCredentials();
    }

    @Benchmark
    public CompletableFuture<? extends AwsCredentialsIdentity> sdkV2ResolveIdentity() {
        return sdkV2.resolveIdentity(request);
    }

    @Benchmark
    public AWSCredentials sdkV1GetCredentials() {
        return sdkV1.getCredentials();
    }
}
