package dev.freshcreds.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.freshcreds.testing.Rig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/** An AEMM per test and a capture server standing in for SQS, plus the checks the ITs share. */
abstract class ItSupport {
    Rig.Aemm aemm;
    CaptureServer sqs;

    @BeforeEach
    void startPeers() {
        aemm = Rig.Aemm.start();
        sqs = CaptureServer.start();
    }

    @AfterEach
    void stopPeers() {
        if (sqs != null) {
            sqs.close();
        }
        if (aemm != null) {
            aemm.close();
        }
    }

    /** A value from AEMM's config (the credentials it serves). */
    String aemmValue(String field) {
        try {
            String json = new String(Files.readAllBytes(Paths.get(aemm.config)), StandardCharsets.UTF_8);
            Matcher m = Pattern.compile("\"" + field + "\"\\s*:\\s*\"([^\"]*)\"").matcher(json);
            if (!m.find()) {
                throw new IllegalStateException(field + " not in " + aemm.config);
            }
            return m.group(1);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Agent options for AEMM, with NTP off (nothing may reach a link-local address). */
    String agentArgs(String... more) {
        StringBuilder sb = new StringBuilder("endpoint=" + aemm.url);
        boolean ntp = false;
        for (String m : more) {
            sb.append(',').append(m);
            ntp |= m.startsWith("ntp=");
        }
        if (!ntp) {
            sb.append(",ntp=off");
        }
        return sb.toString();
    }

    /**
     * Every SQS request carried AEMM's credentials, and AEMM's own log shows freshcreds fetched
     * them while no request from the SDKs' user agents reached the credentials paths.
     */
    void assertServedByFreshcreds(AgentJvm.Result r) {
        List<CaptureServer.Request> calls = sqs.requests();
        assertFalse(calls.isEmpty(), "no SQS request\n" + r);
        for (CaptureServer.Request c : calls) {
            assertEquals(aemmValue("AccessKeyId"), c.keyId(), c + "\n" + r);
            assertEquals(aemmValue("Token"), c.header("x-amz-security-token"), "session token of " + c);
        }
        List<AemmLog.Entry> log = AemmLog.read(aemm.config);
        // The rig's own readiness probe (curl) is the only other client allowed.
        List<AemmLog.Entry> others = log.stream()
                .filter(e -> e.isCredentialsPath() && !e.fromFreshcreds() && !e.userAgent.startsWith("curl/"))
                .collect(Collectors.toList());
        assertTrue(others.isEmpty(), "requests to the credentials paths not from freshcreds: " + others + "\n" + r);
        assertTrue(log.stream().noneMatch(AemmLog.Entry::fromSdk), "requests from the SDKs' user agents: " + log);
        assertTrue(log.stream().anyMatch(e -> e.isCredentialsPath() && e.fromFreshcreds()),
                "AEMM saw no freshcreds credentials request: " + log + "\n" + r);
    }

    /** AEMM's log shows the SDK's own provider fetched the credentials (the fall-through). */
    void assertServedBySdk(AgentJvm.Result r) {
        List<CaptureServer.Request> calls = sqs.requests();
        assertFalse(calls.isEmpty(), "no SQS request\n" + r);
        for (CaptureServer.Request c : calls) {
            assertEquals(aemmValue("AccessKeyId"), c.keyId(), c + "\n" + r);
        }
        List<AemmLog.Entry> log = AemmLog.read(aemm.config);
        assertTrue(log.stream().anyMatch(e -> e.isCredentialsPath() && e.fromSdk()),
                "the SDK's own provider made no credentials request: " + log + "\n" + r);
    }

    long freshcredsCredentialFetches() {
        return AemmLog.read(aemm.config).stream()
                .filter(e -> e.fromFreshcreds() && e.method.equals("GET")
                        && e.path.matches("/latest/meta-data/iam/security-credentials/[^/]+"))
                .count();
    }
}
