package example.sqs;

import com.amazonaws.AmazonClientException;
import com.amazonaws.AmazonServiceException;
import com.amazonaws.services.sqs.AmazonSQS;
import com.amazonaws.services.sqs.model.DeleteMessageBatchRequestEntry;
import com.amazonaws.services.sqs.model.Message;
import com.amazonaws.services.sqs.model.ReceiveMessageRequest;
import java.util.ArrayList;
import java.util.List;

/** A queue through AWS SDK for Java 1.x. */
final class V1Queue implements Queue {
    private final AmazonSQS sqs;
    private String url;

    V1Queue(AmazonSQS sqs) {
        this.sqs = sqs;
    }

    @Override
    public String open(String nameOrUrl) throws QueueFailure {
        try {
            url = nameOrUrl.contains("://") ? nameOrUrl : sqs.createQueue(nameOrUrl).getQueueUrl();
            return url;
        } catch (AmazonClientException e) {
            throw failure(e);
        } catch (RuntimeException e) {
            throw other(e);
        }
    }

    @Override
    public void send(String body) throws QueueFailure {
        try {
            sqs.sendMessage(url, body);
        } catch (AmazonClientException e) {
            throw failure(e);
        } catch (RuntimeException e) {
            throw other(e);
        }
    }

    @Override
    public List<String> receive(int waitSeconds) throws QueueFailure {
        try {
            List<Message> messages = sqs.receiveMessage(new ReceiveMessageRequest(url).withMaxNumberOfMessages(10)
                    .withWaitTimeSeconds(waitSeconds)).getMessages();
            List<String> bodies = new ArrayList<>();
            List<DeleteMessageBatchRequestEntry> entries = new ArrayList<>();
            for (Message m : messages) {
                bodies.add(m.getBody());
                entries.add(new DeleteMessageBatchRequestEntry(Integer.toString(entries.size()), m.getReceiptHandle()));
            }
            if (!entries.isEmpty()) {
                sqs.deleteMessageBatch(url, entries);
            }
            return bodies;
        } catch (AmazonClientException e) {
            throw failure(e);
        } catch (RuntimeException e) {
            throw other(e);
        }
    }

    @Override
    public void close() {
        sqs.shutdown();
    }

    private static QueueFailure failure(AmazonClientException e) {
        if (e instanceof AmazonServiceException) {
            AmazonServiceException s = (AmazonServiceException) e;
            return new QueueFailure(Outcome.of(s.getErrorCode(), s.getErrorMessage()),
                    s.getErrorCode() + ": " + s.getErrorMessage(), e);
        }
        String message = e.getMessage() != null ? e.getMessage() : String.valueOf(e.getCause());
        return new QueueFailure(Outcome.of(null, message), e.getClass().getSimpleName() + ": " + message, e);
    }

    /** A failure outside the SDK's own exceptions, e.g. from a credentials provider. */
    private static QueueFailure other(RuntimeException e) {
        return new QueueFailure(Outcome.of(null, e.getMessage()), e.getClass().getSimpleName() + ": " + e.getMessage(), e);
    }
}
