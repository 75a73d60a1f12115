package example.sqs;

import java.util.List;

/** One SQS queue, through one SDK client. */
interface Queue extends AutoCloseable {
    /** Resolves (or creates) the queue; returns its URL. */
    String open(String nameOrUrl) throws QueueFailure;

    /** Sends one message. */
    void send(String body) throws QueueFailure;

    /** Receives up to 10 messages, deletes them, returns their bodies. */
    List<String> receive(int waitSeconds) throws QueueFailure;

    @Override
    void close();
}
