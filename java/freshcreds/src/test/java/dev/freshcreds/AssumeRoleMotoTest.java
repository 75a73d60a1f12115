package dev.freshcreds;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.freshcreds.testing.Rig;
import dev.freshcreds.v2.FreshAwsCredentialsProvider;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsClient;

/**
 * {@code FreshCredentials.builder().assumeRole(...)} against moto server with authentication
 * on (STS and SQS), on top of AEMM serving instance-profile credentials that moto issued.
 */
class AssumeRoleMotoTest {
    static Rig.Aemm aemm;
    static String motoUrl;
    static String motoPort;
    static String appRole;

    @BeforeAll
    static void start() {
        Map<String, String> moto = Rig.run("moto.sh", "start");
        motoUrl = moto.get("MOTO_URL");
        motoPort = motoUrl.substring(motoUrl.lastIndexOf(':') + 1);
        appRole = Rig.run("moto.sh", "create-role", motoPort, "app-role", "all").get("ROLE_ARN");
        Map<String, String> s = Rig.run("moto.sh", "assume-role", motoPort, "3600", "java-instance");
        aemm = Rig.Aemm.start();
        aemm.rotate(s.get("AWS_ACCESS_KEY_ID"), s.get("AWS_SECRET_ACCESS_KEY"), s.get("AWS_SESSION_TOKEN"),
                s.get("AWS_CREDENTIAL_EXPIRATION"), Instant.now().toString());
    }

    @AfterAll
    static void stop() {
        if (aemm != null) {
            aemm.close();
        }
        if (motoPort != null) {
            Rig.run("moto.sh", "stop", motoPort);
        }
    }

    /** Builds with STS at moto: the endpoint is a system property read once, at build(). */
    static FreshCredentials build(FreshCredentials.Builder b) {
        System.setProperty("freshcreds.stsEndpoint", motoUrl);
        try {
            return b.build();
        } finally {
            System.clearProperty("freshcreds.stsEndpoint");
        }
    }

    @Test
    void assumesTheRoleAndItsCredentialsWorkWithMoto() {
        try (FreshCredentials fc = build(FreshCredentials.builder()
                .imdsEndpoint(aemm.url)
                .ntpServers()
                .assumeRole(appRole)
                .roleSessionName("java-app")
                .roleDuration(Duration.ofMinutes(20))
                .name("assume-role-moto"))) {
            FreshAwsCredentialsProvider v2 = FreshAwsCredentialsProvider.create(fc);
            AwsCredentials c = v2.resolveCredentials();
            assertTrue(c.accessKeyId().startsWith("ASIA"), c.accessKeyId());
            assertTrue(c instanceof AwsSessionCredentials);
            Health h = fc.health();
            assertTrue(h.source().contains("assume-role " + appRole + " (session java-app)"), h.source());
            Instant expiration = h.expiration().get();
            Duration left = Duration.between(Instant.now(), expiration);
            assertTrue(left.compareTo(Duration.ofMinutes(19)) > 0 && left.compareTo(Duration.ofMinutes(20)) <= 0,
                    left.toString());
            // moto checks the signature and the session token: the role session is real.
            try (SqsClient sqs = SqsClient.builder()
                    .region(Region.US_EAST_1)
                    .endpointOverride(URI.create(motoUrl))
                    .httpClient(UrlConnectionHttpClient.create())
                    .credentialsProvider(v2)
                    .build()) {
                String url = sqs.createQueue(r -> r.queueName("assume-role-java")).queueUrl();
                assertTrue(url.endsWith("/assume-role-java"), url);
            }
            assertFalse(fc.toString().contains(((AwsSessionCredentials) c).sessionToken()));
            assertFalse(h.toString().contains(c.secretAccessKey()));
        }
    }

    @Test
    void roleChainingBeyondOneHourIsRefusedByBuild() {
        FreshCredentialsException e = assertThrows(FreshCredentialsException.class, () -> build(FreshCredentials.builder()
                .imdsEndpoint(aemm.url)
                .ntpServers()
                .assumeRole(appRole)
                .roleDuration(Duration.ofHours(2))
                .name("role-chaining")));
        assertTrue(e.getMessage().contains("role chaining"), e.getMessage());
        assertTrue(e.getMessage().contains("FreshCredentials.builder()"), e.getMessage());
    }

    @Test
    void builderChecksArguments() {
        FreshCredentials.Builder b = FreshCredentials.builder();
        assertEquals("duration < 15m",
                assertThrows(IllegalArgumentException.class, () -> b.roleDuration(Duration.ofMinutes(5))).getMessage());
        assertEquals("duration > 12h",
                assertThrows(IllegalArgumentException.class, () -> b.roleDuration(Duration.ofHours(13))).getMessage());
        assertEquals("roleArn is empty", assertThrows(IllegalArgumentException.class, () -> b.assumeRole(" ")).getMessage());
        b.source(FreshCredentials.Source.CHAIN);
        assertThrows(IllegalStateException.class, () -> b.source(FreshCredentials.Source.IMDS));
        assertNotEquals(FreshCredentials.Source.IMDS, FreshCredentials.Source.CHAIN);
    }
}
