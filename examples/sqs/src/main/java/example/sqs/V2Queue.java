package example.sqs;

import java.util.ArrayList;
import java.util.List;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.DeleteMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.ReceiveMessageResponse;

/** A queue through AWS SDK for Java 2.x. */
final class V2Queue implements Queue {
    private final SqsClient sqs;
    private String url;

    V2Queue(SqsClient sqs) {
        this.sqs = sqs;
    }

    @Override
    public String open(String nameOrUrl) throws QueueFailure {
        try {
            url = nameOrUrl.contains("://") ? nameOrUrl : sqs.createQueue(b -> b.queueName(nameOrUrl)).queueUrl();
            return url;
        } catch (SdkException e) {
            throw failure(e);
        } catch (RuntimeException e) {
            throw other(e);
        }
    }

    @Override
    public void send(String body) throws QueueFailure {
        try {
            sqs.sendMessage(b -> b.queueUrl(url).messageBody(body));
        } catch (SdkException e) {
            throw failure(e);
        } catch (RuntimeException e) {
            throw other(e);
        }
    }

    @Override
    public List<String> receive(int waitSeconds) throws QueueFailure {
        try {
            ReceiveMessageResponse r = sqs.receiveMessage(b -> b.queueUrl(url).maxNumberOfMessages(10)
                    .waitTimeSeconds(waitSeconds));
            List<String> bodies = new ArrayList<>();
            List<DeleteMessageBatchRequestEntry> entries = new ArrayList<>();
            for (Message m : r.messages()) {
                bodies.add(m.body());
                entries.add(DeleteMessageBatchRequestEntry.builder().id(Integer.toString(entries.size()))
                        .receiptHandle(m.receiptHandle()).build());
            }
            if (!entries.isEmpty()) {
                sqs.deleteMessageBatch(b -> b.queueUrl(url).entries(entries));
            }
            return bodies;
        } catch (SdkException e) {
            throw failure(e);
        } catch (RuntimeException e) {
            throw other(e);
        }
    }

    @Override
    public void close() {
        sqs.close();
    }

    private static QueueFailure failure(SdkException e) {
        String code = e instanceof AwsServiceException && ((AwsServiceException) e).awsErrorDetails() != null
                ? ((AwsServiceException) e).awsErrorDetails().errorCode() : null;
        String message = e instanceof AwsServiceException && ((AwsServiceException) e).awsErrorDetails() != null
                ? ((AwsServiceException) e).awsErrorDetails().errorMessage() : e.getMessage();
        return new QueueFailure(Outcome.of(code, message), (code == null ? e.getClass().getSimpleName() : code)
                + ": " + message, e);
    }

    /** A failure outside the SDK's own exceptions, e.g. from a credentials provider. */
    private static QueueFailure other(RuntimeException e) {
        return new QueueFailure(Outcome.of(null, e.getMessage()), e.getClass().getSimpleName() + ": " + e.getMessage(), e);
    }
}
