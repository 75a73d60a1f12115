package dev.freshcreds;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.freshcreds.internal.SdkErrors;
import org.junit.jupiter.api.Test;

class SdkErrorsTest {
    @Test
    void credentialErrorsInvalidateAndSkewErrorsMeasureTheClock() {
        assertEquals(SdkErrors.INVALIDATE, SdkErrors.classify("ExpiredToken", null));
        assertEquals(SdkErrors.INVALIDATE, SdkErrors.classify("ExpiredTokenException", "x"));
        assertEquals(SdkErrors.INVALIDATE, SdkErrors.classify("InvalidToken", null));
        assertEquals(SdkErrors.MEASURE_CLOCK, SdkErrors.classify("RequestExpired", null));
        assertEquals(SdkErrors.MEASURE_CLOCK, SdkErrors.classify("RequestTimeTooSkewed", null));
        assertEquals(SdkErrors.MEASURE_CLOCK, SdkErrors.classify("InvalidSignatureException",
                "Signature expired: 20260101T000000Z is now earlier than 20260101T000500Z"));
        assertEquals(SdkErrors.NONE, SdkErrors.classify("AccessDenied", "nope"));
        assertEquals(SdkErrors.NONE, SdkErrors.classify(null, null));
    }
}
