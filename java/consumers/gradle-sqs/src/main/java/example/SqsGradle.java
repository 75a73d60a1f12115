package example;

import dev.freshcreds.FreshCredentials;
import dev.freshcreds.v2.FreshAwsCredentialsProvider;
import dev.freshcreds.v2.FreshCredentialsInterceptor;
import java.net.URI;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;

/** SQS through AWS SDK for Java 2.x, credentials from a freshcreds handle built explicitly. */
public final class SqsGradle {
    public static void main(String[] args) {
        FreshCredentials credentials = FreshCredentials.builder()
                .imdsEndpoint(System.getenv("IMDS_ENDPOINT"))
                .ntpServers() // no NTP in this example
                .build();
        try (SqsClient sqs = SqsClient.builder()
                .region(Region.US_EAST_1)
                .endpointOverride(URI.create(System.getenv("SQS_ENDPOINT")))
                .httpClient(UrlConnectionHttpClient.create())
                .credentialsProvider(FreshAwsCredentialsProvider.create(credentials))
                .overrideConfiguration(c -> c.addExecutionInterceptor(FreshCredentialsInterceptor.create(credentials)))
                .build()) {
            String url = sqs.createQueue(r -> r.queueName("freshcreds-gradle-consumer")).queueUrl();
            sqs.sendMessage(r -> r.queueUrl(url).messageBody("hello from the Gradle consumer"));
            for (Message m : sqs.receiveMessage(r -> r.queueUrl(url).waitTimeSeconds(2)).messages()) {
                System.out.println("RECEIVED " + m.body());
            }
            System.out.println("HEALTH " + credentials.health());
        }
    }
}
