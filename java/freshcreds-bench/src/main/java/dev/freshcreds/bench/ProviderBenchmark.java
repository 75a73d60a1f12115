package dev.freshcreds.bench;

import com.amazonaws.auth.AWSCredentials;
import dev.freshcreds.FreshCredentials;
import dev.freshcreds.v1.FreshAWSCredentialsProvider;
import dev.freshcreds.v2.FreshAwsCredentialsProvider;
import java.net.URI;
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

/**
 * The cost of one credentials call: freshcreds' providers beside the SDKs' own
 * {@code InstanceProfileCredentialsProvider}s, all against the same loopback IMDS (AEMM, given
 * as {@code -Dbench.imds=URL}; run.sh starts it). Run at 1 and 8 threads with {@code -prof gc}
 * for B/op.
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
    public AwsCredentials freshcredsV2() {
        return freshV2.resolveCredentials();
    }

    @Benchmark
    public AWSCredentials freshcredsV1() {
        return freshV1.getCredentials();
    }

    @Benchmark
    public AwsCredentials sdkV2InstanceProfile() {
        return sdkV2.resolveCredentials();
    }

    @Benchmark
    public AWSCredentials sdkV1InstanceProfile() {
        return sdkV1.getCredentials();
    }
}
