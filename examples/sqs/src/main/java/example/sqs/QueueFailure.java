package example.sqs;

/** A failed SQS call, classified; the message is the SDK's error message (never a secret). */
final class QueueFailure extends Exception {
    private static final long serialVersionUID = 1L;
    private final Outcome outcome;

    QueueFailure(Outcome outcome, String message, Throwable cause) {
        super(message, cause);
        this.outcome = outcome;
    }

    Outcome outcome() {
        return outcome;
    }
}
