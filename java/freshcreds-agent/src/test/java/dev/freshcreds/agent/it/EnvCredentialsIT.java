package dev.freshcreds.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.freshcreds.agent.it.apps.V1App;
import dev.freshcreds.agent.it.apps.V2App;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Credentials in the environment win over the instance profile, as in the SDKs, and the agent
 * says once that they shadow it; with {@code mode=force} freshcreds replaces the whole chain.
 */
class EnvCredentialsIT extends ItSupport {
    private static final String ENV_KEY = "AKIAENVIRONMENTKEY01";
    private static final String ENV_SECRET = "environment-secret-never-logged";

    @ParameterizedTest
    @ValueSource(strings = {"v1", "v2"})
    void environmentCredentialsWinAndTheAgentWarnsOnce(String sdk) {
        AgentJvm.Result r = AgentJvm.of(sdk.equals("v1") ? V1App.class : V2App.class).agentArgs(agentArgs())
                .sdkImds(aemm.url).env("AWS_ACCESS_KEY_ID", ENV_KEY).env("AWS_SECRET_ACCESS_KEY", ENV_SECRET)
                .args("basic", sqs.url()).run().assertOk();
        assertEquals(ENV_KEY, r.value("chainKeyId"), r.toString());
        for (CaptureServer.Request c : sqs.requests()) {
            assertEquals(ENV_KEY, c.keyId(), c.toString());
        }
        assertEquals(1, r.countErr("credentials that shadow the instance profile"), r.toString());
        assertTrue(r.err.contains("AWS_ACCESS_KEY_ID (AKIA…EY01)"), r.toString());
        assertFalse(r.err.contains(ENV_SECRET), "a secret in the log\n" + r);
        assertTrue(AemmLog.read(aemm.config).stream().noneMatch(AemmLog.Entry::fromSdk), "the SDK went to IMDS");
    }

    @ParameterizedTest
    @ValueSource(strings = {"v1", "v2"})
    void modeForceReplacesTheWholeDefaultChain(String sdk) {
        AgentJvm.Result r = AgentJvm.of(sdk.equals("v1") ? V1App.class : V2App.class).agentArgs(agentArgs("mode=force"))
                .sdkImds(aemm.url).env("AWS_ACCESS_KEY_ID", ENV_KEY).env("AWS_SECRET_ACCESS_KEY", ENV_SECRET)
                .args("basic", sqs.url()).run().assertOk();
        assertEquals(aemmValue("AccessKeyId"), r.value("chainKeyId"), r.toString());
        assertServedByFreshcreds(r);
        assertEquals(1, r.countErr("mode=force replaces the default chains"), r.toString());
    }
}
