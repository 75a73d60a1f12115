package dev.freshcreds.internal;

/**
 * What an AWS error means for freshcreds, shared by the v1 request handler and the v2
 * interceptor.
 */
public final class SdkErrors {
    /** Nothing to do. */
    public static final int NONE = 0;
    /** The credentials are expired or invalid: one shared refresh. */
    public static final int INVALIDATE = 1;
    /** The request was signed with a skewed clock: a new clock measurement. */
    public static final int MEASURE_CLOCK = 2;

    private SdkErrors() {}

    /**
     * Classifies an AWS error.
     *
     * @param errorCode the AWS error code, may be null
     * @param message the error message, may be null
     * @return {@link #NONE}, {@link #INVALIDATE} or {@link #MEASURE_CLOCK}
     */
    public static int classify(String errorCode, String message) {
        if (errorCode != null) {
            switch (errorCode) {
                case "ExpiredToken":
                case "ExpiredTokenException":
                case "InvalidToken":
                    return INVALIDATE;
                case "RequestExpired":
                case "RequestTimeTooSkewed":
                case "RequestInTheFuture":
                    return MEASURE_CLOCK;
                default:
                    break;
            }
        }
        if (message != null && message.contains("Signature expired")) {
            return MEASURE_CLOCK;
        }
        return NONE;
    }

    /**
     * Acts on a classification.
     *
     * @param core the engine
     * @param errorCode the AWS error code, may be null
     * @param message the error message, may be null
     */
    public static void act(EngineCore core, String errorCode, String message) {
        switch (classify(errorCode, message)) {
            case INVALIDATE:
                core.invalidate();
                break;
            case MEASURE_CLOCK:
                core.requestClockMeasurement();
                break;
            default:
                break;
        }
    }
}
