package dev.freshcreds.agent.it.apps;

import java.net.URI;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.SdkGlobalTime;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.services.sqs.SqsClient;

/**
 * An unmodified AWS SDK v2 application: no freshcreds code, clients built with the default
 * credentials chain. Usage: {@code V2App SCENARIO ENDPOINT}; prints {@code key=value} lines.
 */
public final class V2App {
    private V2App() {}

    public static void main(String[] args) throws Exception {
        String scenario = args[0];
        URI endpoint = URI.create(args[1]);
        switch (scenario) {
            case "basic": {
                SqsClient sqs = client(endpoint);
                sqs.listQueues();
                AwsCredentials c = DefaultCredentialsProvider.create().resolveCredentials();
                System.out.println("chainKeyId=" + c.accessKeyId());
                System.out.println("call=ok");
                break;
            }
            case "skew":
            case "skew-attach": {
                System.out.println("localNow=" + System.currentTimeMillis());
                System.out.println("pid=" + java.lang.management.ManagementFactory.getRuntimeMXBean().getName().split("@")[0]);
                System.out.println("offsetAtA=" + SdkGlobalTime.getGlobalTimeOffset());
                SqsClient a = client(endpoint);
                System.out.println("clientA=built");
                long deadline = System.nanoTime() + 30_000_000_000L;
                while (SdkGlobalTime.getGlobalTimeOffset() == 0 && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                System.out.println("offsetAtB=" + SdkGlobalTime.getGlobalTimeOffset());
                SqsClient b = client(endpoint);
                a.listQueues(r -> r.queueNamePrefix("clientA"));
                b.listQueues(r -> r.queueNamePrefix("clientB"));
                System.out.println("call=ok");
                break;
            }
            case "expired": {
                SqsClient sqs = client(endpoint);
                try {
                    sqs.listQueues();
                    System.out.println("call=ok");
                } catch (AwsServiceException e) {
                    System.out.println("errorCode=" + e.awsErrorDetails().errorCode());
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

    private static SqsClient client(URI endpoint) {
        return SqsClient.builder().endpointOverride(endpoint).httpClient(UrlConnectionHttpClient.create()).build();
    }
}
