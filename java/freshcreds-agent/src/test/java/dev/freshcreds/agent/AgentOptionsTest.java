package dev.freshcreds.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class AgentOptionsTest {
    @Test
    void defaults() {
        AgentOptions o = AgentOptions.parse(null);
        assertEquals(AgentOptions.Mode.DEFAULT, o.mode());
        assertEquals(null, o.log());
        assertTrue(o.engineProperties().isEmpty());
        assertEquals(Arrays.asList(""), o.sdkPrefixes());
        assertEquals(5_000, o.waitMillis());
        assertTrue(o.problems().isEmpty());
    }

    @Test
    void everyOption() {
        AgentOptions o = AgentOptions.parse("mode=force, log=debug,endpoint=http://127.0.0.1:1338,refreshAhead=15m,"
                + "ntp=127.0.0.1:11123,ntp=10.0.0.1,sdkPrefix=org.acme.shaded,wait=500ms");
        assertEquals(AgentOptions.Mode.FORCE, o.mode());
        assertEquals("debug", o.log());
        assertEquals("http://127.0.0.1:1338", o.engineProperties().get("freshcreds.imdsEndpoint"));
        assertEquals("15m", o.engineProperties().get("freshcreds.refreshAhead"));
        assertEquals("127.0.0.1:11123,10.0.0.1", o.engineProperties().get("freshcreds.ntpServers"));
        assertEquals("debug", o.engineProperties().get("freshcreds.log"));
        assertEquals(Arrays.asList("", "org.acme.shaded."), o.sdkPrefixes());
        assertEquals(500, o.waitMillis());
        assertTrue(o.problems().isEmpty(), o.problems().toString());
    }

    @Test
    void roleAndSourceOptionsBecomeEngineProperties() {
        AgentOptions o = AgentOptions.parse("roleArn=arn:aws:iam::123456789012:role/app,roleSessionName=agent-app,"
                + "roleDuration=30m,externalId=ext-1,source=CHAIN");
        assertEquals("arn:aws:iam::123456789012:role/app", o.engineProperties().get("freshcreds.roleArn"));
        assertEquals("agent-app", o.engineProperties().get("freshcreds.roleSessionName"));
        assertEquals("30m", o.engineProperties().get("freshcreds.roleDuration"));
        assertEquals("ext-1", o.engineProperties().get("freshcreds.externalId"));
        assertEquals("chain", o.engineProperties().get("freshcreds.source"));
        assertTrue(o.problems().isEmpty(), o.problems().toString());
        AgentOptions bad = AgentOptions.parse("roleArn=app,source=ecs,externalId=");
        assertEquals(3, bad.problems().size(), bad.problems().toString());
        assertTrue(bad.engineProperties().isEmpty(), bad.engineProperties().toString());
    }

    @Test
    void ntpOffWins() {
        assertEquals("off", AgentOptions.parse("ntp=127.0.0.1:123,ntp=off").engineProperties().get("freshcreds.ntpServers"));
    }

    @Test
    void badOptionsAreReportedNotThrown() {
        AgentOptions o = AgentOptions.parse("mode=always,log=loud,endpoint=ftp://x,wait=soon,sdkPrefix=1bad,colour=blue,ntp=");
        assertEquals(AgentOptions.Mode.DEFAULT, o.mode());
        assertEquals(null, o.log());
        assertEquals(5_000, o.waitMillis());
        assertEquals(7, o.problems().size(), o.problems().toString());
        assertTrue(o.problems().get(5).startsWith("unknown option colour"), o.problems().toString());
    }

    @Test
    void durations() {
        assertEquals(0, AgentOptions.parseMillis("0"));
        assertEquals(7_000, AgentOptions.parseMillis("7"));
        assertEquals(7_000, AgentOptions.parseMillis("7s"));
        assertEquals(120_000, AgentOptions.parseMillis("2m"));
        assertEquals(-1, AgentOptions.parseMillis("-1s"));
        assertEquals(-1, AgentOptions.parseMillis("99999999999"));
    }

    @Test
    void aCommandLinePropertyWinsOverTheOption() {
        System.setProperty("freshcreds.refreshAhead", "20m");
        try {
            assertEquals("20m", AgentOptions.parse("refreshAhead=5m").applySystemProperties().get("freshcreds.refreshAhead"));
            assertEquals("20m", System.getProperty("freshcreds.refreshAhead"));
        } finally {
            System.clearProperty("freshcreds.refreshAhead");
        }
    }
}
