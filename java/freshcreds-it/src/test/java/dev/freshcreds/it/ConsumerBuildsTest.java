package dev.freshcreds.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.freshcreds.testing.Rig;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The consumer projects in java/consumers, built by real Maven and Debian's Gradle 4.4.1
 * against the freshcreds artifact installed in the local Maven repository, then run: SQS on
 * moto (authentication on), credentials from AEMM serving temporary credentials moto issued.
 */
class ConsumerBuildsTest {
    static final Path CONSUMERS = Paths.get(System.getProperty("freshcreds.consumers")).toAbsolutePath().normalize();
    static final String VERSION = System.getProperty("freshcreds.version");
    static final String LOCAL_REPO = System.getProperty("maven.repo.local");
    static String motoUrl;
    static String motoPort;
    static Rig.Aemm aemm;

    @TempDir
    Path tmp;

    @BeforeAll
    static void startPeers() {
        Map<String, String> moto = Rig.run("moto.sh", "start");
        motoUrl = moto.get("MOTO_URL");
        motoPort = motoUrl.substring(motoUrl.lastIndexOf(':') + 1);
        Map<String, String> session = Rig.run("moto.sh", "assume-role", motoPort, "3600", "consumer-test");
        aemm = Rig.Aemm.start();
        aemm.rotate(session.get("AWS_ACCESS_KEY_ID"), session.get("AWS_SECRET_ACCESS_KEY"), session.get("AWS_SESSION_TOKEN"),
                session.get("AWS_CREDENTIAL_EXPIRATION"), Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
    }

    @AfterAll
    static void stopPeers() {
        if (aemm != null) {
            aemm.close();
        }
        if (motoPort != null) {
            Rig.run("moto.sh", "stop", motoPort);
        }
    }

    @Test
    void aMavenConsumerBuildsAndCallsSqsWithTheV2Provider() throws Exception {
        Path project = copy("maven-sqs");
        List<String> mvn = new ArrayList<>(Arrays.asList("mvn", "-B", "-q", "-Dfreshcreds.version=" + VERSION, "package"));
        if (LOCAL_REPO != null) {
            mvn.add("-Dmaven.repo.local=" + LOCAL_REPO);
        }
        run(project, mvn, null);
        String cp = "target/classes" + File.pathSeparator
                + new String(Files.readAllBytes(project.resolve("target/classpath.txt")), StandardCharsets.UTF_8).trim();
        String out = run(project, Arrays.asList(java(), "-Dfreshcreds.imdsEndpoint=" + aemm.url, "-Dfreshcreds.ntpServers=off",
                "-cp", cp, "example.SqsV2"), null);
        assertTrue(out.contains("RECEIVED hello from the Maven consumer"), out);
    }

    @Test
    void aGradleConsumerBuildsAndCallsSqsWithAnExplicitHandle() throws Exception {
        Path project = copy("gradle-sqs");
        List<String> gradle = new ArrayList<>(Arrays.asList("gradle", "--no-daemon", "-q", "-PfreshcredsVersion=" + VERSION, "installDist"));
        if (LOCAL_REPO != null) {
            gradle.add("-Dmaven.repo.local=" + LOCAL_REPO);
        }
        run(project, gradle, null);
        String out = run(project, Arrays.asList(project.resolve("build/install/gradle-sqs/bin/gradle-sqs").toString()), "");
        assertTrue(out.contains("RECEIVED hello from the Gradle consumer"), out);
    }

    private Path copy(String name) throws IOException {
        Path from = CONSUMERS.resolve(name);
        Path to = tmp.resolve(name);
        try (Stream<Path> files = Files.walk(from)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                String rel = from.relativize(p).toString();
                String top = rel.isEmpty() ? "" : from.relativize(p).getName(0).toString();
                if (top.equals("target") || top.equals("build") || top.equals(".gradle")) {
                    continue; // outputs of a build run by hand
                }
                Path dest = to.resolve(rel);
                if (Files.isDirectory(p)) {
                    Files.createDirectories(dest);
                } else {
                    Files.copy(p, dest, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        return to;
    }

    private static String java() {
        return System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
    }

    private static String run(Path dir, List<String> cmd, String javaOpts) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().put("SQS_ENDPOINT", motoUrl);
        pb.environment().put("IMDS_ENDPOINT", aemm.url);
        pb.environment().put("AWS_REGION", "us-east-1");
        // Nothing may reach a link-local address: no AWS credentials or IMDS from the environment.
        pb.environment().remove("AWS_ACCESS_KEY_ID");
        pb.environment().remove("AWS_SECRET_ACCESS_KEY");
        pb.environment().remove("AWS_SESSION_TOKEN");
        if (javaOpts != null) {
            pb.environment().put("JAVA_OPTS", javaOpts);
        }
        Path log = Files.createTempFile(dir, "run-", ".log");
        pb.redirectOutput(log.toFile());
        Process p = pb.start();
        p.getOutputStream().close();
        boolean done = p.waitFor(300, TimeUnit.SECONDS);
        if (!done) {
            p.destroyForcibly();
        }
        String out = new String(Files.readAllBytes(log), StandardCharsets.UTF_8);
        assertTrue(done, cmd + " timed out:\n" + out);
        assertEquals(0, p.exitValue(), cmd + " failed:\n" + out);
        return out;
    }
}
