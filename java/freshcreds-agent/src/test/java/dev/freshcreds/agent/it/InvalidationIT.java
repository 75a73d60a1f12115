package dev.freshcreds.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.freshcreds.agent.it.apps.V1App;
import dev.freshcreds.agent.it.apps.V2App;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The agent adds the library's request handler (v1) and interceptor (v2) to every client: an
 * {@code ExpiredTokenException} seen by a default client makes the engine fetch once more,
 * which AEMM's log shows as a second freshcreds credentials request.
 */
class InvalidationIT extends ItSupport {
    @ParameterizedTest
    @ValueSource(strings = {"v1", "v2"})
    void expiredTokenTriggersOneSharedRefresh(String sdk) {
        sqs.expireNext(1);
        AgentJvm.Result r = AgentJvm.of(sdk.equals("v1") ? V1App.class : V2App.class).agentArgs(agentArgs())
                .sdkImds(aemm.url).args("expired", sqs.url(), "2000").run().assertOk();
        assertEquals("ExpiredTokenException", r.value("errorCode"), r.toString());
        assertEquals("ok", r.value("call"), r.toString());
        assertEquals(2, freshcredsCredentialFetches(), "one fetch at start, one after the error\n" + AemmLog.read(aemm.config));
        assertTrue(AemmLog.read(aemm.config).stream().noneMatch(AemmLog.Entry::fromSdk), "the SDK went to IMDS");
    }
}
