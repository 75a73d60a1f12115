package dev.freshcreds.agent.it.apps;

import com.amazonaws.AmazonServiceException;
import com.amazonaws.SDKGlobalTime;
import com.amazonaws.auth.AWSCredentials;
import com.amazonaws.auth.DefaultAWSCredentialsProviderChain;
import com.amazonaws.client.builder.AwsClientBuilder.EndpointConfiguration;
import com.amazonaws.services.sqs.AmazonSQS;
import com.amazonaws.services.sqs.AmazonSQSClientBuilder;
import com.amazonaws.services.sqs.model.ListQueuesRequest;

/**
 * An unmodified AWS SDK v1 application: no freshcreds code, clients built with the default
 * credentials chain. Usage: {@code V1App SCENARIO ENDPOINT}; prints {@code key=value} lines.
 */
public final class V1App {
    private V1App() {}

    public static void main(String[] args) throws Exception {
        String scenario = args[0];
        String endpoint = args[1];
        switch (scenario) {
            case "basic": {
                AmazonSQS sqs = client(endpoint);
                sqs.listQueues();
                AWSCredentials c = DefaultAWSCredentialsProviderChain.getInstance().getCredentials();
                System.out.println("chainKeyId=" + c.getAWSAccessKeyId());
                System.out.println("call=ok");
                break;
            }
            case "skew":
            case "skew-attach": {
                System.out.println("localNow=" + System.currentTimeMillis());
                System.out.println("pid=" + java.lang.management.ManagementFactory.getRuntimeMXBean().getName().split("@")[0]);
                System.out.println("offsetAtA=" + SDKGlobalTime.getGlobalTimeOffset());
                AmazonSQS a = client(endpoint);
                System.out.println("clientA=built");
                long deadline = System.nanoTime() + 30_000_000_000L;
                while (SDKGlobalTime.getGlobalTimeOffset() == 0 && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                System.out.println("offsetAtB=" + SDKGlobalTime.getGlobalTimeOffset());
                AmazonSQS b = client(endpoint);
                a.listQueues(new ListQueuesRequest("clientA"));
                b.listQueues(new ListQueuesRequest("clientB"));
                System.out.println("call=ok");
                break;
            }
            case "expired": {
                AmazonSQS sqs = client(endpoint);
                try {
                    sqs.listQueues();
                    System.out.println("call=ok");
                } catch (AmazonServiceException e) {
                    System.out.println("errorCode=" + e.getErrorCode());
                }
                Thread.sleep(Long.parseLong(args[2]));
                sqs.listQueues();
                System.out.println("call=ok");
                break;
            }
            default:
                throw new IllegalArgumentException(scenario);
        }
    }

    private static AmazonSQS client(String endpoint) {
        return AmazonSQSClientBuilder.standard()
                .withEndpointConfiguration(new EndpointConfiguration(endpoint, "us-east-1"))
                .build();
    }
}
