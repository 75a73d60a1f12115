package example;

import dev.freshcreds.v2.FreshAwsCredentialsProvider;
import dev.freshcreds.v2.FreshCredentialsInterceptor;
import java.net.URI;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;

/** SQS through AWS SDK for Java 2.x with credentials from freshcreds. */
public final class SqsV2 {
    public static void main(String[] args) {
        try (SqsClient sqs = SqsClient.builder()
                .region(Region.US_EAST_1)
                .endpointOverride(URI.create(System.getenv("SQS_ENDPOINT")))
                .httpClient(UrlConnectionHttpClient.create())
                .credentialsProvider(FreshAwsCredentialsProvider.create())
                .overrideConfiguration(c -> c.addExecutionInterceptor(FreshCredentialsInterceptor.create()))
                .build()) {
            String url = sqs.createQueue(r -> r.queueName("freshcreds-maven-consumer")).queueUrl();
            sqs.sendMessage(r -> r.queueUrl(url).messageBody("hello from the Maven consumer"));
            for (Message m : sqs.receiveMessage(r -> r.queueUrl(url).waitTimeSeconds(2)).messages()) {
                System.out.println("RECEIVED " + m.body());
            }
        }
    }
}
