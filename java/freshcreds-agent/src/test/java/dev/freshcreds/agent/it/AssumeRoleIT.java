package dev.freshcreds.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.freshcreds.agent.it.apps.V2App;
import dev.freshcreds.testing.Rig;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The agent's role options ({@code roleArn}, {@code roleSessionName}) on an unmodified SDK v2
 * application: AEMM serves instance-profile credentials that moto (authentication on) issued,
 * the engine assumes the role at moto's STS with them, and the application's default-chain
 * client signs with the role session's key, not the instance profile's.
 */
class AssumeRoleIT extends ItSupport {
    private String motoUrl;
    private String motoPort;
    private String role;

    @BeforeEach
    void startMoto() {
        Map<String, String> moto = Rig.run("moto.sh", "start");
        motoUrl = moto.get("MOTO_URL");
        motoPort = motoUrl.substring(motoUrl.lastIndexOf(':') + 1);
        role = Rig.run("moto.sh", "create-role", motoPort, "agent-app-role", "all").get("ROLE_ARN");
        Map<String, String> s = Rig.run("moto.sh", "assume-role", motoPort, "3600", "agent-instance");
        aemm.rotate(s.get("AWS_ACCESS_KEY_ID"), s.get("AWS_SECRET_ACCESS_KEY"), s.get("AWS_SESSION_TOKEN"),
                s.get("AWS_CREDENTIAL_EXPIRATION"), Instant.now().toString());
    }

    @AfterEach
    void stopMoto() {
        if (motoPort != null) {
            Rig.run("moto.sh", "stop", motoPort);
        }
    }

    @Test
    void roleOptionsMakeTheDefaultChainSignWithTheRoleSession() {
        AgentJvm.Result r = AgentJvm.of(V2App.class)
                .agentArgs(agentArgs("roleArn=" + role, "roleSessionName=agent-it"))
                .jvm("-Dfreshcreds.stsEndpoint=" + motoUrl).sdkImds(aemm.url)
                .args("basic", sqs.url()).run().assertOk();
        assertEquals("ok", r.value("call"), r.toString());
        String instanceKey = aemmValue("AccessKeyId");
        String chainKey = r.value("chainKeyId");
        assertNotNull(chainKey, r.toString());
        assertNotEquals(instanceKey, chainKey, "the chain returned the instance profile, not the role session\n" + r);
        List<CaptureServer.Request> calls = sqs.requests();
        assertTrue(!calls.isEmpty(), r.toString());
        for (CaptureServer.Request c : calls) {
            assertEquals(chainKey, c.keyId(), "signed with another key: " + c + "\n" + r);
        }
        // The role session came from the instance profile through freshcreds, never the SDK.
        assertTrue(freshcredsCredentialFetches() >= 1, AemmLog.read(aemm.config).toString());
        assertTrue(AemmLog.read(aemm.config).stream().noneMatch(AemmLog.Entry::fromSdk), AemmLog.read(aemm.config).toString());
    }
}
