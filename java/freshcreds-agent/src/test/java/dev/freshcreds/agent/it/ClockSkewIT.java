package dev.freshcreds.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.freshcreds.agent.it.apps.V1App;
import dev.freshcreds.agent.it.apps.V2App;
import dev.freshcreds.testing.Rig;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The JVM's clock is 10 minutes slow (libfaketime) and chrony on loopback serves the true
 * time. Two clients, one built before freshcreds' first clock measurement and one after, both
 * sign with the corrected time: the {@code X-Amz-Date} the SQS stand-in receives is within a
 * few seconds of the true time, not 10 minutes behind.
 *
 * <p>"Before the first measurement" is made certain by attaching the agent to the running
 * application (the Attach API's loadAgent, i.e. agentmain) only after it built client A; the -javaagent variant
 * builds client A at start and checks the same.
 */
class ClockSkewIT extends ItSupport {
    private static final DateTimeFormatter AMZ_DATE = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'");
    private static String ntp;
    private static String ntpPort;

    @BeforeAll
    static void chrony() {
        Map<String, String> env = Rig.run("chrony.sh", "start");
        ntp = env.get("NTP_SERVER");
        ntpPort = ntp.substring(ntp.lastIndexOf(':') + 1);
    }

    @AfterAll
    static void stopChrony() {
        Rig.run("chrony.sh", "stop", ntpPort);
    }

    @ParameterizedTest
    @ValueSource(strings = {"v1", "v2"})
    void clientBuiltBeforeTheAgentMeasuredSignsWithCorrectedTime(String sdk) throws Exception {
        AgentJvm.Running app = AgentJvm.of(sdk.equals("v1") ? V1App.class : V2App.class).noAgent()
                .faketime("-10m").sdkImds("http://127.0.0.1:9").args("skew-attach", sqs.url()).start();
        String pid = app.await("pid", 30_000);
        app.await("clientA", 60_000);
        attach(pid, AgentJvm.Classpaths.agentJar(), agentArgs("ntp=" + ntp));
        AgentJvm.Result r = app.finish().assertOk();
        assertEquals("0", r.value("offsetAtA"), "client A must be built before any measurement\n" + r);
        assertSignedWithCorrectedTime(r);
    }

    @ParameterizedTest
    @ValueSource(strings = {"v1", "v2"})
    void withJavaagentClientsBuiltEarlyAndLateSignWithCorrectedTime(String sdk) {
        AgentJvm.Result r = AgentJvm.of(sdk.equals("v1") ? V1App.class : V2App.class)
                .agentArgs(agentArgs("ntp=" + ntp)).faketime("-10m").sdkImds("http://127.0.0.1:9")
                .args("skew", sqs.url()).run().assertOk();
        assertSignedWithCorrectedTime(r);
        assertEquals(1, r.countErr("this host's clock is off by \\+600"), "one skew warning\n" + r);
    }

    private void assertSignedWithCorrectedTime(AgentJvm.Result r) {
        long fakedBehind = System.currentTimeMillis() - Long.parseLong(r.value("localNow"));
        assertTrue(fakedBehind > 595_000 && fakedBehind < 605_000 + r.millis, "the JVM clock must be 10 min slow: " + fakedBehind + "\n" + r);
        int offset = Integer.parseInt(r.value("offsetAtB"));
        assertTrue(Math.abs(offset + 600) <= 1, "SDK offset " + offset + " (local minus server: -600)\n" + r);
        List<CaptureServer.Request> calls = sqs.requests();
        assertEquals(2, calls.size(), calls + "\n" + r);
        for (CaptureServer.Request c : calls) {
            long signed = LocalDateTime.parse(c.header("x-amz-date"), AMZ_DATE).toInstant(ZoneOffset.UTC).toEpochMilli();
            long off = Math.abs(System.currentTimeMillis() - signed);
            assertTrue(off < 10_000, "X-Amz-Date " + c.header("x-amz-date") + " is " + off + " ms off the true time: " + c + "\n" + r);
            assertEquals(aemmValue("AccessKeyId"), c.keyId(), c.toString());
        }
        assertTrue(calls.get(0).body.contains("clientA") && calls.get(1).body.contains("clientB"), calls.toString());
    }

    /**
     * Loads the agent into a running JVM through the Attach API (reflection: the tests compile
     * for Java 8, where it lived in tools.jar; jcmd's parser would split the option string).
     */
    private static void attach(String pid, String jar, String options) throws Exception {
        Class<?> vmClass = Class.forName("com.sun.tools.attach.VirtualMachine");
        Object vm = vmClass.getMethod("attach", String.class).invoke(null, pid);
        try {
            vmClass.getMethod("loadAgent", String.class, String.class).invoke(vm, jar, options);
        } finally {
            vmClass.getMethod("detach").invoke(vm);
        }
    }
}
