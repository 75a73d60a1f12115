package dev.freshcreds.bench;

import dev.freshcreds.FreshCredentials;
import dev.freshcreds.v2.FreshAwsCredentialsProvider;
import java.io.IOException;
import java.time.Duration;
import java.util.function.Supplier;
import software.amazon.awssdk.auth.credentials.InstanceProfileCredentialsProvider;

/** A provider under test ({@link TimingBench}): one call is what an SDK client asks for each request. */
interface Subject extends AutoCloseable {
    Object call();

    @Override
    void close();

    /**
     * @param subject freshcreds, sdk-v2 or sdk-v1
     * @param imds the IMDS endpoint (the fault proxy)
     * @param refreshAhead freshcreds' refresh-ahead window, or null for its default
     * @return the provider, built
     */
    static Subject open(String subject, String imds, Duration refreshAhead) {
        switch (subject) {
            case "freshcreds": {
                FreshCredentials.Builder b = FreshCredentials.builder().imdsEndpoint(imds).ntpServers();
                if (refreshAhead != null) {
                    b.refreshAhead(refreshAhead);
                }
                FreshCredentials fc = b.build();
                FreshAwsCredentialsProvider p = FreshAwsCredentialsProvider.create(fc);
                return wrap(p::resolveCredentials, fc::close);
            }
            case "sdk-v2": {
                InstanceProfileCredentialsProvider p = InstanceProfileCredentialsProvider.builder().endpoint(imds).build();
                return wrap(p::resolveCredentials, p::close);
            }
            default: {
                // SDK v1 reads its IMDS endpoint from this system property only.
                System.setProperty("com.amazonaws.sdk.ec2MetadataServiceEndpointOverride", imds);
                com.amazonaws.auth.InstanceProfileCredentialsProvider p =
                        new com.amazonaws.auth.InstanceProfileCredentialsProvider(false);
                return wrap(p::getCredentials, () -> closeQuietly(p));
            }
        }
    }

    /** @return a subject calling {@code call} and closing with {@code close} */
    static Subject wrap(Supplier<Object> call, Runnable close) {
        return new Subject() {
            @Override
            public Object call() {
                return call.get();
            }

            @Override
            public void close() {
                close.run();
            }
        };
    }

    /** Closes an SDK v1 provider, whose {@code close()} declares an exception it never throws here. */
    static void closeQuietly(com.amazonaws.auth.InstanceProfileCredentialsProvider p) {
        try {
            p.close();
        } catch (IOException e) {
            // nothing to clean up then
        }
    }
}
