package dev.freshcreds;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.amazonaws.auth.AWSCredentials;
import com.amazonaws.auth.AWSSessionCredentials;
import com.amazonaws.client.builder.AwsClientBuilder;
import com.amazonaws.services.sqs.AmazonSQS;
import com.amazonaws.services.sqs.AmazonSQSClientBuilder;
import com.sun.net.httpserver.HttpServer;
import dev.freshcreds.internal.Access;
import dev.freshcreds.internal.EngineCore;
import dev.freshcreds.testing.ChildJvm;
import dev.freshcreds.testing.Rig;
import dev.freshcreds.v1.FreshAWSCredentialsProvider;
import dev.freshcreds.v1.FreshCredentialsRequestHandler;
import dev.freshcreds.v2.FreshAwsCredentialsProvider;
import dev.freshcreds.v2.FreshCredentialsInterceptor;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.net.URI;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.SqsException;

/** The engine and both providers against AEMM (IMDSv2 required) on loopback. */
class EngineAemmTest {
    static Rig.Aemm aemm;
    static int counter;

    @BeforeAll
    static void startAemm() {
        aemm = Rig.Aemm.start();
    }

    @AfterAll
    static void stopAemm() {
        if (aemm != null) {
            aemm.close();
        }
    }

    /** A handle on AEMM with its own settings (a distinct engine per test). */
    static FreshCredentials engine(String label) {
        return FreshCredentials.builder()
                .imdsEndpoint(aemm.url)
                .ntpServers()
                .imdsAttempts(2 + (++counter % 18)) // distinct settings: a fresh engine
                .name(label)
                .build();
    }

    static String rfc3339(Instant t) {
        return t.truncatedTo(ChronoUnit.SECONDS).toString();
    }

    /** Random fake credentials served by AEMM: {keyId, secret, token}. */
    static String[] rotate(Duration lifetimeLeft, Duration age) {
        String n = Long.toString(System.nanoTime(), 36).toUpperCase();
        String key = ("ASIAFRESH" + n + "XXXXXXXXXXXX").substring(0, 20);
        String secret = "SecretForTest/" + n + "+abcdefghijklmnopqrstuvwxyz";
        String token = "TokenForTest" + n + "IQoJb3JpZ2luX2VjEXAMPLE";
        Instant now = Instant.now();
        aemm.rotate(key, secret, token, rfc3339(now.plus(lifetimeLeft)), rfc3339(now.minus(age)));
        return new String[] {key, secret, token};
    }

    static void await(String what, java.util.function.BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!done.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting for " + what);
            Thread.sleep(20);
        }
    }

    @Test
    void bothProvidersPickUpARotationWithoutAnyCallerBlocking() throws Exception {
        // Short-lived first set: the engine keeps asking AEMM (same-expiry backoff) until it rotates.
        String[] first = rotate(Duration.ofSeconds(45), Duration.ofSeconds(45));
        try (FreshCredentials fc = engine("rotation")) {
            FreshAwsCredentialsProvider v2 = FreshAwsCredentialsProvider.create(fc);
            FreshAWSCredentialsProvider v1 = new FreshAWSCredentialsProvider(fc);
            AwsSessionCredentials c2 = (AwsSessionCredentials) v2.resolveCredentials(); // may wait once
            assertEquals(first[0], c2.accessKeyId());
            assertEquals(first[1], c2.secretAccessKey());
            assertEquals(first[2], c2.sessionToken());
            AWSSessionCredentials c1 = (AWSSessionCredentials) v1.getCredentials();
            assertEquals(first[0], c1.getAWSAccessKeyId());
            assertEquals(first[2], c1.getSessionToken());
            AwsCredentialsIdentity id = v2.resolveIdentity().join();
            assertEquals(first[0], id.accessKeyId());
            long blockedBefore = fc.health().blockingCalls();

            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong slowest = new AtomicLong();
            Set<String> seen = ConcurrentHashMap.newKeySet();
            List<Thread> callers = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                boolean useV1 = i % 2 == 0;
                Thread t = new Thread(() -> {
                    while (!stop.get()) {
                        long t0 = System.nanoTime();
                        String key = useV1 ? v1.getCredentials().getAWSAccessKeyId() : v2.resolveCredentials().accessKeyId();
                        long took = System.nanoTime() - t0;
                        slowest.accumulateAndGet(took, Math::max);
                        seen.add((useV1 ? "v1:" : "v2:") + key);
                    }
                });
                t.start();
                callers.add(t);
            }
            Thread.sleep(500);
            String[] second = rotate(Duration.ofHours(1), Duration.ZERO);
            await("both providers serving the rotated key",
                    () -> seen.contains("v1:" + second[0]) && seen.contains("v2:" + second[0]));
            stop.set(true);
            for (Thread t : callers) {
                t.join();
            }
            assertEquals(blockedBefore, fc.health().blockingCalls(), "a caller waited in a native call");
            assertTrue(slowest.get() < Duration.ofMillis(500).toNanos(), "slowest call " + slowest.get() / 1000 + " µs");
            Health h = fc.health();
            assertTrue(h.refreshCount() >= 2, h.toString());
            assertEquals("v2", h.imdsVersion(), h.toString());
            assertTrue(h.expiration().isPresent(), h.toString());
        }
    }

    @Test
    void handlesWithEqualSettingsShareOneEngineAlsoAcrossClassLoaders() throws Exception {
        FreshCredentials a = FreshCredentials.builder().imdsEndpoint(aemm.url).ntpServers().imdsAttempts(20).build();
        FreshCredentials b = FreshCredentials.builder().imdsEndpoint(aemm.url).ntpServers().imdsAttempts(20).build();
        FreshCredentials other = FreshCredentials.builder().imdsEndpoint(aemm.url).ntpServers().imdsAttempts(19).build();
        try {
            assertEquals(a.health().engineId(), b.health().engineId());
            assertNotEquals(a.health().engineId(), other.health().engineId());

            URL classes = FreshCredentials.class.getProtectionDomain().getCodeSource().getLocation();
            try (URLClassLoader isolated = new URLClassLoader(new URL[] {classes}, null)) {
                Class<?> fc = isolated.loadClass(FreshCredentials.class.getName());
                assertNotEquals(FreshCredentials.class, fc);
                Object builder = fc.getMethod("builder").invoke(null);
                builder.getClass().getMethod("imdsEndpoint", String.class).invoke(builder, aemm.url);
                builder.getClass().getMethod("ntpServers", String[].class).invoke(builder, (Object) new String[0]);
                builder.getClass().getMethod("imdsAttempts", int.class).invoke(builder, 20);
                Object handle = builder.getClass().getMethod("build").invoke(builder);
                Object health = fc.getMethod("health").invoke(handle);
                long id = (Long) health.getClass().getMethod("engineId").invoke(health);
                String library = (String) health.getClass().getMethod("library").invoke(health);
                assertEquals(a.health().engineId(), id, "the other class loader got its own engine");
                assertTrue(library.contains("shared through dev.freshcreds:type=NativeBridge"), library);
                fc.getMethod("close").invoke(handle);
            }
        } finally {
            a.close();
            b.close();
            other.close();
        }
    }

    @Test
    void theMBeanShowsTheHealthFiguresAndNoSecret() throws Exception {
        String[] served = rotate(Duration.ofHours(1), Duration.ZERO);
        try (FreshCredentials fc = engine("jmx-test")) {
            FreshAwsCredentialsProvider.create(fc).resolveCredentials();
            javax.management.MBeanServer server = java.lang.management.ManagementFactory.getPlatformMBeanServer();
            javax.management.ObjectName name = new javax.management.ObjectName("dev.freshcreds:type=Credentials,name=\"jmx-test\"");
            assertTrue(server.isRegistered(name));
            assertTrue((Long) server.getAttribute(name, "RefreshCount") >= 1);
            long left = (Long) server.getAttribute(name, "SecondsToExpiry");
            assertTrue(left > 3000 && left <= 3600, "SecondsToExpiry " + left);
            assertEquals("v2", server.getAttribute(name, "ImdsVersion"));
            assertEquals(served[0].substring(0, 4) + "…" + served[0].substring(16), server.getAttribute(name, "AccessKeyId"));
            for (javax.management.MBeanAttributeInfo a : server.getMBeanInfo(name).getAttributes()) {
                String v = String.valueOf(server.getAttribute(name, a.getName()));
                assertFalse(v.contains(served[1]) || v.contains(served[2]) || v.contains(served[0]), a.getName() + "=" + v);
            }
            fc.close();
            assertFalse(server.isRegistered(name), "close() leaves the MBean registered");
        }
    }

    @Test
    void closeWakesTheUpdaterAndLaterCallsFail() throws Exception {
        FreshCredentials fc = engine("close");
        EngineCore core = Access.core(fc);
        FreshAwsCredentialsProvider v2 = FreshAwsCredentialsProvider.create(fc);
        v2.resolveCredentials();
        assertTrue(core.updaterAlive());
        long t0 = System.nanoTime();
        fc.close();
        core.joinUpdater(2000);
        assertFalse(core.updaterAlive(), "updater still running 2 s after close()");
        assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(1).toNanos(), "close() took too long to wake the updater");
        FreshCredentialsException e = assertThrows(FreshCredentialsException.class, v2::resolveCredentials);
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        fc.close(); // idempotent
    }

    /** Child JVM main: build a provider, get credentials, return from main. */
    public static final class ExitMain {
        public static void main(String[] args) {
            AwsCredentials c = FreshAwsCredentialsProvider.create().resolveCredentials();
            System.out.println("KEY " + c.accessKeyId());
            System.out.println("RETURNING");
        }
    }

    @Test
    void aJvmWhoseMainReturnsExitsWithin2Seconds() {
        ChildJvm child = ChildJvm.run(ExitMain.class, "-Dfreshcreds.imdsEndpoint=" + aemm.url,
                "-Dfreshcreds.ntpServers=off", "-Dfreshcreds.native.workdir=" + System.getProperty("freshcreds.native.workdir"));
        assertEquals(0, child.exitCode, child.toString());
        assertTrue(child.out.contains("RETURNING"), child.toString());
        assertTrue(child.exitAfterLastLineMillis < 2000, "exited " + child.exitAfterLastLineMillis + " ms after main returned");
    }

    @Test
    void everyJdkOnThisMachineLoadsTheLibraryAndGetsCredentials() throws Exception {
        java.util.Set<Path> jdks = new java.util.TreeSet<>();
        try (java.util.stream.Stream<Path> dirs = java.nio.file.Files.list(java.nio.file.Paths.get("/usr/lib/jvm"))) {
            dirs.map(d -> d.resolve("bin/java")).filter(java.nio.file.Files::isExecutable).forEach(j -> {
                try {
                    jdks.add(j.toRealPath());
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
        }
        assertFalse(jdks.isEmpty(), "no JDK under /usr/lib/jvm");
        for (Path java : jdks) {
            ChildJvm child = ChildJvm.run(java.toString(), ExitMain.class, "-Dfreshcreds.imdsEndpoint=" + aemm.url,
                    "-Dfreshcreds.ntpServers=off", "-Dfreshcreds.native.workdir=" + System.getProperty("freshcreds.native.workdir"));
            assertEquals(0, child.exitCode, java + ": " + child);
            assertTrue(child.out.contains("KEY ASIA"), java + ": " + child);
            System.out.println(java + ": ok" + (child.err.isEmpty() ? "" : "; stderr: " + child.err.trim()));
        }
    }

    @Test
    void noSecretInToStringOrInAnyLogRecordAtTheFinestLevel() throws Exception {
        Logger logger = Logger.getLogger("dev.freshcreds");
        Level before = logger.getLevel();
        List<LogRecord> records = new ArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord r) {
                synchronized (records) {
                    records.add(r);
                }
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        capture.setLevel(Level.ALL);
        logger.setLevel(Level.ALL);
        logger.addHandler(capture);
        String[] secrets = rotate(Duration.ofHours(1), Duration.ZERO);
        List<String> shown = new ArrayList<>();
        String[] next;
        try (FreshCredentials fc = engine("secrets")) {
            FreshAwsCredentialsProvider v2 = FreshAwsCredentialsProvider.create(fc);
            FreshAWSCredentialsProvider v1 = new FreshAWSCredentialsProvider(fc);
            AwsCredentials c2 = v2.resolveCredentials();
            AWSCredentials c1 = v1.getCredentials();
            Thread.sleep(2100); // past the invalidate cooldown
            next = rotate(Duration.ofHours(1), Duration.ZERO);
            String nextKey = next[0];
            assertTrue(fc.invalidate());
            await("the invalidated refresh", () -> v2.resolveCredentials().accessKeyId().equals(nextKey));
            Thread.sleep(300); // let the updater hand over the last native records
            shown.add(fc.toString());
            shown.add(v1.toString());
            shown.add(v2.toString());
            shown.add(fc.health().toString());
            shown.add(c2.toString());
            shown.add(String.valueOf(c1));
            shown.add(Access.core(fc).published().toString());
            shown.add(FreshCredentialsInterceptor.create(fc).toString());
            shown.add(new FreshCredentialsRequestHandler(fc).toString());
            for (String s : shown) {
                for (String secret : new String[] {secrets[1], secrets[2], next[1], next[2]}) {
                    assertFalse(s.contains(secret), "secret in toString: " + s);
                }
            }
        } finally {
            logger.removeHandler(capture);
            logger.setLevel(before);
        }
        boolean nativeRecord = false;
        synchronized (records) {
            assertFalse(records.isEmpty(), "no log records captured");
            for (LogRecord r : records) {
                String text = r.getMessage() + " " + java.util.Arrays.toString(r.getParameters()) + " " + r.getThrown()
                        + " " + r.getSourceClassName();
                for (String secret : new String[] {secrets[1], secrets[2], next[1], next[2]}) {
                    assertFalse(text.contains(secret), "secret in a log record: " + text);
                }
                nativeRecord |= r.getSourceClassName() != null && r.getSourceClassName().startsWith("freshcreds::");
            }
        }
        assertTrue(nativeRecord, "no native record reached java.util.logging: " + records.size() + " records");
    }

    @Test
    void anExpiredTokenAnswerSeenByEitherSdkTriggersARefresh() throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            byte[] body = ("{\"__type\":\"com.amazonaws.sqs#ExpiredToken\","
                    + "\"message\":\"The security token included in the request is expired\"}").getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/x-amz-json-1.0");
            exchange.getResponseHeaders().add("x-amzn-query-error", "ExpiredToken;Sender");
            exchange.sendResponseHeaders(400, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        String endpoint = "http://127.0.0.1:" + server.getAddress().getPort();
        rotate(Duration.ofHours(1), Duration.ZERO);
        try (FreshCredentials fc = engine("expired-token")) {
            FreshAwsCredentialsProvider v2 = FreshAwsCredentialsProvider.create(fc);
            FreshAWSCredentialsProvider v1 = new FreshAWSCredentialsProvider(fc);
            v2.resolveCredentials();
            try (SqsClient sqs = SqsClient.builder()
                    .region(Region.US_EAST_1)
                    .endpointOverride(URI.create(endpoint))
                    .httpClient(UrlConnectionHttpClient.create())
                    .credentialsProvider(v2)
                    .overrideConfiguration(c -> c.addExecutionInterceptor(FreshCredentialsInterceptor.create(fc)))
                    .build()) {
                Thread.sleep(2100); // past the invalidate cooldown of the first fetch
                String[] next = rotate(Duration.ofHours(1), Duration.ZERO);
                SqsException e = assertThrows(SqsException.class, () -> sqs.listQueues());
                assertEquals("ExpiredToken", e.awsErrorDetails().errorCode(), e.toString());
                await("v2: refresh after ExpiredToken", () -> v2.resolveCredentials().accessKeyId().equals(next[0]));
            }
            AmazonSQS sqs1 = AmazonSQSClientBuilder.standard()
                    .withEndpointConfiguration(new AwsClientBuilder.EndpointConfiguration(endpoint, "us-east-1"))
                    .withCredentials(v1)
                    .withRequestHandlers(new FreshCredentialsRequestHandler(fc))
                    .build();
            try {
                Thread.sleep(2100);
                String[] next = rotate(Duration.ofHours(1), Duration.ZERO);
                com.amazonaws.AmazonServiceException e = assertThrows(com.amazonaws.AmazonServiceException.class, sqs1::listQueues);
                assertEquals("ExpiredToken", e.getErrorCode(), e.toString());
                await("v1: refresh after ExpiredToken", () -> v1.getCredentials().getAWSAccessKeyId().equals(next[0]));
            } finally {
                sqs1.shutdown();
            }
        } finally {
            server.stop(0);
        }
    }
}
