package example.sqs;

/** How the example gets its credentials. */
enum Mode {
    /** SDK v2, {@code FreshAwsCredentialsProvider} passed to {@code SqsClient.builder()}. */
    LIBRARY("library", true, false),
    /** SDK v1, {@code FreshAWSCredentialsProvider} passed to {@code AmazonSQSClientBuilder}. */
    LIBRARY_V1("library-v1", true, false),
    /** SDK v2, unmodified {@code SqsClient.create()}; run under {@code -javaagent:freshcreds-agent.jar}. */
    AGENT("agent", false, true),
    /** SDK v1, the default chain of {@code AmazonSQSClientBuilder}; under the agent. */
    AGENT_V1("agent-v1", false, true),
    /** SDK v2's own default chain, no freshcreds. */
    STOCK_V2("stock-v2", false, false),
    /** SDK v1's own default chain ({@code AmazonSQSClientBuilder}), no freshcreds. */
    STOCK_V1("stock-v1", false, false);

    final String label;
    final boolean library;
    final boolean agent;

    Mode(String label, boolean library, boolean agent) {
        this.label = label;
        this.library = library;
        this.agent = agent;
    }

    static Mode of(String label) {
        for (Mode m : values()) {
            if (m.label.equals(label)) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown mode '" + label
                + "' (library, library-v1, agent, agent-v1, stock-v2, stock-v1)");
    }
}
