package dev.freshcreds.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.amazonaws.AmazonServiceException;
import com.amazonaws.ClientConfiguration;
import com.amazonaws.SDKGlobalTime;
import com.amazonaws.auth.AWSStaticCredentialsProvider;
import com.amazonaws.auth.BasicSessionCredentials;
import com.amazonaws.client.builder.AwsClientBuilder.EndpointConfiguration;
import com.amazonaws.retry.PredefinedRetryPolicies;
import com.amazonaws.services.sqs.AmazonSQS;
import com.amazonaws.services.sqs.AmazonSQSClientBuilder;
import com.amazonaws.services.sqs.model.ReceiveMessageRequest;
import dev.freshcreds.testing.Rig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.SdkGlobalTime;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.SqsException;

/**
 * The rig's sigv4-gate (tests/sigv4-gate, in front of moto) answers as AWS does, judged by the AWS
 * SDKs for Java themselves: SDK v2 ({@code SqsClient}) and SDK v1 ({@code AmazonSQS}), both
 * speaking AWS JSON to SQS, parse each answer into the exception they would raise against real
 * SQS, and classify it with their own retry logic.
 *
 * <ul>
 *   <li>a token past the expiry the rig registered: {@code ExpiredToken}, 403, "The security
 *       token included in the request is expired", not a clock-skew error;
 *   <li>a request signed 10 minutes in the past (the SDK's own time offset,
 *       {@code SdkGlobalTime}/{@code SDKGlobalTime}, as it would be after a wrong measurement;
 *       the same thing a JVM clock 10 minutes slow does): with retries off, a clock-skew error
 *       ({@code AwsServiceException#isClockSkewException()}, {@code RetryUtils.isClockSkewError});
 *       with the SDK's default retries, it corrects its offset from the gate's {@code Date} and
 *       the call succeeds;
 *   <li>a wrong secret: {@code SignatureDoesNotMatch}, 403, not taken for skew by SDK v2;
 *   <li>a valid request: success (moto behind the gate checks the signature again; SDK v1's
 *       requests are re-signed for it by the gate, see tests/rig/README.md).
 * </ul>
 *
 * The rig's own scripts start moto (authentication on) and the gate on loopback; both stop
 * after the class (and with this JVM, {@code RIG_OWNER_PID}).
 */
class GateSdkErrorsTest {
    static final String EXPIRED_MESSAGE = "The security token included in the request is expired";
    static final int SLOW = 600;

    static String motoPort;
    static String gatePort;
    static String gateUrl;
    static String gateAdmin;
    static Map<String, String> valid;
    static Map<String, String> expired;

    @BeforeAll
    static void startRig() throws IOException {
        motoPort = port(Rig.run("moto.sh", "start").get("MOTO_URL"));
        Map<String, String> gate = Rig.run("gate.sh", "start", "http://127.0.0.1:" + motoPort);
        gateUrl = gate.get("GATE_URL");
        gateAdmin = gate.get("GATE_ADMIN");
        gatePort = port(gateUrl);
        // Two real moto sessions: the gate learns one with an expiry an hour ahead, the other
        // with one a minute ago (moto itself never checks expiry; the gate does).
        valid = Rig.run("moto.sh", "assume-role", motoPort, "3600", "gate-valid");
        expired = Rig.run("moto.sh", "assume-role", motoPort, "3600", "gate-expired");
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        register(valid, now.plus(1, ChronoUnit.HOURS));
        register(expired, now.minus(1, ChronoUnit.MINUTES));
    }

    @AfterAll
    static void stopRig() {
        if (gatePort != null) {
            Rig.run("gate.sh", "stop", gatePort);
        }
        if (motoPort != null) {
            Rig.run("moto.sh", "stop", motoPort);
        }
    }

    @AfterEach
    void resetOffsets() {
        SdkGlobalTime.setGlobalTimeOffset(0);
        SDKGlobalTime.setGlobalTimeOffset(0);
    }

    // ===== SDK v2 =====

    @Test
    void v2AValidRequestSucceeds() {
        try (SqsClient sqs = v2(valid, false)) {
            String url = sqs.createQueue(b -> b.queueName("gate-sdk-v2")).queueUrl();
            sqs.sendMessage(b -> b.queueUrl(url).messageBody("v2 through the gate"));
            assertTrue(sqs.receiveMessage(b -> b.queueUrl(url).maxNumberOfMessages(10).waitTimeSeconds(1)).messages()
                    .stream().anyMatch(m -> m.body().equals("v2 through the gate")));
        }
    }

    @Test
    void v2AnExpiredTokenIsExpiredTokenNotSkew() throws IOException {
        long before = gateCount("ExpiredToken");
        try (SqsClient sqs = v2(expired, true)) {
            SqsException e = assertThrows(SqsException.class, () -> sqs.listQueues());
            assertEquals("ExpiredToken", e.awsErrorDetails().errorCode());
            assertEquals(403, e.statusCode());
            assertEquals(EXPIRED_MESSAGE, e.awsErrorDetails().errorMessage());
            assertFalse(e.isClockSkewException(), "an expired token is not a clock-skew error");
        }
        // The SDK's default retry strategy does not retry it either: one attempt reached the gate.
        try (SqsClient sqs = v2(expired, false)) {
            assertThrows(SqsException.class, () -> sqs.listQueues());
        }
        assertEquals(before + 2, gateCount("ExpiredToken"));
    }

    @Test
    void v2ASkewedSignatureIsAClockSkewErrorAndTheSdkCorrectsItsOffset() throws IOException {
        SdkGlobalTime.setGlobalTimeOffset(SLOW); // read by each client as it is built
        try (SqsClient sqs = v2(valid, true)) {
            SqsException e = assertThrows(SqsException.class, () -> sqs.listQueues());
            assertEquals("SignatureDoesNotMatch", e.awsErrorDetails().errorCode());
            assertEquals(403, e.statusCode());
            assertTrue(e.awsErrorDetails().errorMessage().startsWith("Signature expired: "),
                    e.awsErrorDetails().errorMessage());
            assertTrue(asTheRetryStageSeesIt(e, SLOW).isClockSkewException(),
                    "the SDK must classify the gate's answer as clock skew: " + e.awsErrorDetails().sdkHttpResponse().headers());
        }
        // Signed 10 minutes ahead: "not yet current", also skew.
        SdkGlobalTime.setGlobalTimeOffset(-SLOW);
        try (SqsClient sqs = v2(valid, true)) {
            SqsException e = assertThrows(SqsException.class, () -> sqs.listQueues());
            assertTrue(e.awsErrorDetails().errorMessage().startsWith("Signature not yet current: "),
                    e.awsErrorDetails().errorMessage());
            assertTrue(asTheRetryStageSeesIt(e, -SLOW).isClockSkewException());
        }
        // With the SDK's default retries: one skew answer, the offset taken from the gate's Date
        // header (ClockSkewAdjuster), the retry signed with it goes through.
        SdkGlobalTime.setGlobalTimeOffset(SLOW);
        long skewBefore = gateCount("Skew");
        long forwardedBefore = gateCount("Forwarded");
        try (SqsClient sqs = v2(valid, false)) {
            assertNotNull(sqs.listQueues());
        }
        assertEquals(skewBefore + 1, gateCount("Skew"));
        assertEquals(forwardedBefore + 1, gateCount("Forwarded"));
        assertTrue(Math.abs(SdkGlobalTime.getGlobalTimeOffset()) <= 5,
                "offset after the correction: " + SdkGlobalTime.getGlobalTimeOffset());
    }

    @Test
    void v2ABadSignatureIsSignatureDoesNotMatchNotSkew() {
        try (SqsClient sqs = v2(wrongSecret(valid), true)) {
            SqsException e = assertThrows(SqsException.class, () -> sqs.listQueues());
            assertEquals("SignatureDoesNotMatch", e.awsErrorDetails().errorCode());
            assertEquals(403, e.statusCode());
            assertTrue(e.awsErrorDetails().errorMessage().startsWith("The request signature we calculated does not match"),
                    e.awsErrorDetails().errorMessage());
            assertFalse(asTheRetryStageSeesIt(e, 0).isClockSkewException(), "a bad signature with a right clock is not skew");
            assertFalse(e.isClockSkewException());
        }
    }

    // ===== SDK v1 =====

    @Test
    void v1AValidRequestSucceeds() {
        AmazonSQS sqs = v1(valid, false);
        try {
            String url = sqs.createQueue("gate-sdk-v1").getQueueUrl();
            sqs.sendMessage(url, "v1 through the gate");
            assertTrue(sqs.receiveMessage(new ReceiveMessageRequest(url).withMaxNumberOfMessages(10).withWaitTimeSeconds(1))
                    .getMessages().stream().anyMatch(m -> m.getBody().equals("v1 through the gate")));
        } finally {
            sqs.shutdown();
        }
    }

    @Test
    void v1AnExpiredTokenIsExpiredTokenNotSkew() {
        AmazonSQS sqs = v1(expired, true);
        try {
            AmazonServiceException e = assertThrows(AmazonServiceException.class, sqs::listQueues);
            assertEquals("ExpiredToken", e.getErrorCode());
            assertEquals(403, e.getStatusCode());
            assertEquals(EXPIRED_MESSAGE, e.getErrorMessage());
            assertFalse(com.amazonaws.retry.RetryUtils.isClockSkewError(e));
        } finally {
            sqs.shutdown();
        }
    }

    @Test
    void v1ASkewedSignatureIsAClockSkewErrorAndTheSdkCorrectsItsOffset() throws IOException {
        SDKGlobalTime.setGlobalTimeOffset(SLOW); // read by each client as it is built
        AmazonSQS sqs = v1(valid, true);
        try {
            AmazonServiceException e = assertThrows(AmazonServiceException.class, sqs::listQueues);
            assertEquals("SignatureDoesNotMatch", e.getErrorCode());
            assertEquals(403, e.getStatusCode());
            assertTrue(e.getErrorMessage().startsWith("Signature expired: "), e.getErrorMessage());
            assertTrue(com.amazonaws.retry.RetryUtils.isClockSkewError(e));
        } finally {
            sqs.shutdown();
        }
        // Default retries: AmazonHttpClient takes the offset from the Date header
        // (ClockSkewAdjuster), stores it (SDKGlobalTime) and the retry goes through.
        SDKGlobalTime.setGlobalTimeOffset(SLOW);
        long skewBefore = gateCount("Skew");
        sqs = v1(valid, false);
        try {
            assertNotNull(sqs.listQueues());
        } finally {
            sqs.shutdown();
        }
        assertEquals(skewBefore + 1, gateCount("Skew"));
        assertTrue(Math.abs(SDKGlobalTime.getGlobalTimeOffset()) <= 5,
                "offset after the correction: " + SDKGlobalTime.getGlobalTimeOffset());
    }

    @Test
    void v1ABadSignatureIsSignatureDoesNotMatch() {
        AmazonSQS sqs = v1(wrongSecret(valid), true);
        try {
            AmazonServiceException e = assertThrows(AmazonServiceException.class, sqs::listQueues);
            assertEquals("SignatureDoesNotMatch", e.getErrorCode());
            assertEquals(403, e.getStatusCode());
            assertTrue(e.getErrorMessage().startsWith("The request signature we calculated does not match"),
                    e.getErrorMessage());
            // SDK v1 classifies by code alone (SignatureDoesNotMatch is in its CLOCK_SKEW_ERROR_CODES),
            // so no assertion on RetryUtils here; its ClockSkewAdjuster then finds no skew in Date.
        } finally {
            sqs.shutdown();
        }
        assertTrue(Math.abs(SDKGlobalTime.getGlobalTimeOffset()) <= 5,
                "a right clock stays (nearly) unadjusted: " + SDKGlobalTime.getGlobalTimeOffset());
    }

    // ===== helpers =====

    static SqsClient v2(Map<String, String> creds, boolean noRetries) {
        return SqsClient.builder()
                .endpointOverride(URI.create(gateUrl))
                .region(Region.US_EAST_1)
                .httpClient(UrlConnectionHttpClient.create())
                .credentialsProvider(StaticCredentialsProvider.create(AwsSessionCredentials.create(
                        creds.get("AWS_ACCESS_KEY_ID"), creds.get("AWS_SECRET_ACCESS_KEY"), creds.get("AWS_SESSION_TOKEN"))))
                .overrideConfiguration(o -> {
                    if (noRetries) {
                        o.retryStrategy(AwsRetryStrategy.doNotRetry());
                    }
                })
                .build();
    }

    static AmazonSQS v1(Map<String, String> creds, boolean noRetries) {
        ClientConfiguration config = new ClientConfiguration();
        if (noRetries) {
            config.setRetryPolicy(PredefinedRetryPolicies.NO_RETRY_POLICY);
        }
        return AmazonSQSClientBuilder.standard()
                .withEndpointConfiguration(new EndpointConfiguration(gateUrl, "us-east-1"))
                .withClientConfiguration(config)
                .withCredentials(new AWSStaticCredentialsProvider(new BasicSessionCredentials(
                        creds.get("AWS_ACCESS_KEY_ID"), creds.get("AWS_SECRET_ACCESS_KEY"), creds.get("AWS_SESSION_TOKEN"))))
                .build();
    }

    /** The same key and token with another secret of the same length. */
    static Map<String, String> wrongSecret(Map<String, String> creds) {
        Map<String, String> m = new java.util.HashMap<>(creds);
        String s = creds.get("AWS_SECRET_ACCESS_KEY");
        m.put("AWS_SECRET_ACCESS_KEY", (s.charAt(0) == 'A' ? "B" : "A") + s.substring(1));
        return m;
    }

    /**
     * The exception as SDK v2's retry stage judges it. {@code AwsJsonProtocolErrorUnmarshaller} sets
     * {@code clockSkew} to the client's time offset ({@code SdkExecutionAttribute.TIME_OFFSET}) and
     * {@code RetryableStageHelper.adjustClockIfClockSkew} / the retry strategy ask that exception
     * {@code isClockSkewException()}; the copy the caller finally gets (rebuilt with
     * {@code numAttempts}) has lost {@code clockSkew}, because {@code AwsServiceException.BuilderImpl}'s
     * copy constructor does not carry it (2.54.14), so on that copy a "possible" skew code such as
     * {@code SignatureDoesNotMatch} never counts as skew. This puts the offset back, as the
     * unmarshaller had it.
     */
    static SqsException asTheRetryStageSeesIt(SqsException e, int offsetSeconds) {
        return (SqsException) e.toBuilder().clockSkew(Duration.ofSeconds(offsetSeconds)).build();
    }

    static String port(String url) {
        return url.substring(url.lastIndexOf(':') + 1);
    }

    /** Registers a key with the gate (POST /keys; the secret goes in the body, never printed). */
    static void register(Map<String, String> creds, Instant expiration) throws IOException {
        String body = "{\"AccessKeyId\":\"" + json(creds.get("AWS_ACCESS_KEY_ID"))
                + "\",\"SecretAccessKey\":\"" + json(creds.get("AWS_SECRET_ACCESS_KEY"))
                + "\",\"Token\":\"" + json(creds.get("AWS_SESSION_TOKEN"))
                + "\",\"Expiration\":\"" + expiration + "\"}";
        HttpURLConnection c = (HttpURLConnection) new URL(gateAdmin + "/keys").openConnection();
        c.setRequestMethod("POST");
        c.setDoOutput(true);
        c.setConnectTimeout(5000);
        c.setReadTimeout(10000);
        c.setRequestProperty("Content-Type", "application/json");
        try (OutputStream out = c.getOutputStream()) {
            out.write(body.getBytes(StandardCharsets.UTF_8));
        }
        assertEquals(200, c.getResponseCode() / 100 * 100, "gate registration");
        c.disconnect();
    }

    /** The gate's count of answers with that outcome (GET /stats, by_outcome). */
    static long gateCount(String outcome) throws IOException {
        HttpURLConnection c = (HttpURLConnection) new URL(gateAdmin + "/stats").openConnection();
        c.setConnectTimeout(5000);
        c.setReadTimeout(10000);
        String stats;
        try (InputStream in = c.getInputStream()) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            for (int n; (n = in.read(buf)) > 0; ) {
                out.write(buf, 0, n);
            }
            stats = new String(out.toByteArray(), StandardCharsets.UTF_8);
        }
        Matcher byOutcome = Pattern.compile("\"by_outcome\"\\s*:\\s*\\{([^}]*)\\}").matcher(stats);
        assertTrue(byOutcome.find(), stats);
        Matcher n = Pattern.compile("\"" + outcome + "\"\\s*:\\s*(\\d+)").matcher(byOutcome.group(1));
        return n.find() ? Long.parseLong(n.group(1)) : 0;
    }

    static String json(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"");
    }
}
