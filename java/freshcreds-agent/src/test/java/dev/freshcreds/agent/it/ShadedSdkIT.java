package dev.freshcreds.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * An application that relocated both AWS SDKs into its own jar ({@code org.acme.shaded.}, the
 * fixture in java/fixtures/shaded-sdk-app): with {@code sdkPrefix=org.acme.shaded.} the agent
 * advises the relocated SDK's classes, builds that copy's adapters, and its default-chain
 * clients sign with freshcreds' credentials; without the option the relocated SDK keeps its
 * own IMDS provider (AEMM's log shows the SDK's requests), so the option is what does it.
 */
class ShadedSdkIT extends ItSupport {
    private static final String MAIN = "org.acme.shadedapp.ShadedApp";
    private static final String PREFIX = "org.acme.shaded.";

    @ParameterizedTest
    @ValueSource(strings = {"v1", "v2"})
    void sdkPrefixServesARelocatedSdk(String sdk) {
        AgentJvm.Result r = shadedApp(agentArgs("sdkPrefix=" + PREFIX), sdk).run().assertOk();
        assertEquals("ok", r.value("call"), r.toString());
        assertTrue(r.value("sdkClass").startsWith(PREFIX), "the fixture's SDK is not relocated: " + r);
        assertEquals(aemmValue("AccessKeyId"), r.value("chainKeyId"), r.toString());
        assertServedByFreshcreds(r);
        assertEquals(0, r.countErr("cannot (serve|define)"), r.toString());
    }

    @Test
    void withoutThePrefixTheRelocatedSdkKeepsItsOwnProvider() {
        AgentJvm.Result r = shadedApp(agentArgs(), "v2").run().assertOk();
        assertEquals("ok", r.value("call"), r.toString());
        assertServedBySdk(r);
    }

    private AgentJvm shadedApp(String agentArgs, String sdk) {
        return AgentJvm.of(MAIN).classpath(AgentJvm.Classpaths.shadedSdkAppJar()).agentArgs(agentArgs)
                .sdkImds(aemm.url)
                // Relocation rewrote v1's "com.amazonaws." property name too.
                .jvm("-D" + PREFIX + "com.amazonaws.sdk.ec2MetadataServiceEndpointOverride=" + aemm.url)
                .args(sdk, sqs.url());
    }
}
