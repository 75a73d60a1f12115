package dev.freshcreds.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.freshcreds.agent.it.apps.V1App;
import dev.freshcreds.agent.it.apps.V2App;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * When freshcreds cannot serve (a broken native library, an IMDS it cannot reach), the
 * application still starts, the SDK's own chain still works (here: its own IMDS provider,
 * pointed at AEMM), and the agent logs why.
 */
class FallbackIT extends ItSupport {
    @ParameterizedTest
    @ValueSource(strings = {"v1", "v2"})
    void brokenNativeLibrary(String sdk) {
        AgentJvm.Result r = AgentJvm.of(sdk.equals("v1") ? V1App.class : V2App.class).agentArgs(agentArgs())
                .sdkImds(aemm.url).jvm("-Dfreshcreds.native.path=/bad").args("basic", sqs.url()).run().assertOk();
        assertEquals("ok", r.value("call"), r.toString());
        assertServedBySdk(r);
        assertTrue(r.err.contains("freshcreds agent: freshcreds is not serving credentials, so the AWS SDKs keep their own providers")
                && r.err.contains("-Dfreshcreds.native.path=/bad"), r.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"v1", "v2"})
    void unreachableImds(String sdk) throws IOException {
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        AgentJvm.Result r = AgentJvm.of(sdk.equals("v1") ? V1App.class : V2App.class)
                .agentArgs("endpoint=http://127.0.0.1:" + closed + ",ntp=off,wait=3s")
                .sdkImds(aemm.url).args("basic", sqs.url()).run().assertOk();
        assertEquals("ok", r.value("call"), r.toString());
        assertServedBySdk(r);
        assertEquals(1, r.countErr("freshcreds agent: freshcreds has no credentials \\("), r.toString());
        assertTrue(r.err.contains("127.0.0.1:" + closed), r.toString());
    }
}
