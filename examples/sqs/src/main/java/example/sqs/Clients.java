package example.sqs;

import com.amazonaws.client.builder.AwsClientBuilder.EndpointConfiguration;
import com.amazonaws.services.sqs.AmazonSQSClientBuilder;
import dev.freshcreds.v1.FreshAWSCredentialsProvider;
import dev.freshcreds.v1.FreshCredentialsRequestHandler;
import dev.freshcreds.v2.FreshAwsCredentialsProvider;
import dev.freshcreds.v2.FreshCredentialsInterceptor;
import software.amazon.awssdk.services.sqs.SqsClient;

/**
 * Builds the SQS client of each mode. The endpoint and region come from the environment as the
 * SDKs read them: SDK v2 reads {@code AWS_ENDPOINT_URL_SQS} / {@code AWS_ENDPOINT_URL} itself
 * (so {@code SqsClient.create()} stays unmodified); SDK v1 does not, so for v1 the example
 * passes that endpoint to {@code AmazonSQSClientBuilder} when it is set (the default chain
 * still supplies the credentials).
 */
final class Clients {
    private Clients() {
    }

    static Queue open(Mode mode) {
        switch (mode) {
            case LIBRARY:
                return new V2Queue(SqsClient.builder()
                        .credentialsProvider(FreshAwsCredentialsProvider.create())
                        .overrideConfiguration(c -> c.addExecutionInterceptor(FreshCredentialsInterceptor.create()))
                        .build());
            case LIBRARY_V1:
                return new V1Queue(v1Builder()
                        .withCredentials(new FreshAWSCredentialsProvider())
                        .withRequestHandlers(new FreshCredentialsRequestHandler())
                        .build());
            case AGENT:
            case STOCK_V2:
                return new V2Queue(SqsClient.create());
            case AGENT_V1:
            case STOCK_V1:
                return new V1Queue(v1Builder().build());
            default:
                throw new IllegalArgumentException("mode " + mode);
        }
    }

    private static AmazonSQSClientBuilder v1Builder() {
        AmazonSQSClientBuilder b = AmazonSQSClientBuilder.standard();
        String endpoint = firstSet(System.getenv("AWS_ENDPOINT_URL_SQS"), System.getenv("AWS_ENDPOINT_URL"));
        if (endpoint != null) {
            String region = firstSet(System.getenv("AWS_REGION"), System.getenv("AWS_DEFAULT_REGION"));
            b.withEndpointConfiguration(new EndpointConfiguration(endpoint, region == null ? "us-east-1" : region));
        }
        return b;
    }

    private static String firstSet(String a, String b) {
        return a != null && !a.isEmpty() ? a : b != null && !b.isEmpty() ? b : null;
    }
}
