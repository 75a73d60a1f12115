package example.sqs;

/** What a failed SQS call was, judged by the error code and message the SDK reported. */
enum Outcome {
    /** {@code ExpiredToken}: the credentials were used past their expiry. */
    EXPIRED_TOKEN,
    /** A clock-skew answer: "Signature expired", "Signature not yet current", {@code RequestExpired}, {@code RequestTimeTooSkewed}. */
    SKEW,
    /** Anything else (network, throttling, access denied, ...). */
    OTHER;

    /** Classifies an AWS error code and message (either may be null). */
    static Outcome of(String code, String message) {
        String c = code == null ? "" : code;
        String m = message == null ? "" : message;
        if (c.startsWith("ExpiredToken") || m.contains("security token included in the request is expired")) {
            return EXPIRED_TOKEN;
        }
        if (c.equals("RequestExpired") || c.equals("RequestTimeTooSkewed") || m.contains("Signature expired")
                || m.contains("Signature not yet current")) {
            return SKEW;
        }
        return OTHER;
    }
}
