package dev.freshcreds.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.freshcreds.agent.it.apps.LibApp;
import java.io.File;
import org.junit.jupiter.api.Test;

/**
 * An application that also ships the dev.freshcreds:freshcreds jar: its copy of the library
 * finds the agent's bootstrap bridge and calls the agent's native library, so the JVM runs one
 * library copy and one engine, and both paths serve the same credentials.
 */
class OneEngineIT extends ItSupport {
    @Test
    void applicationCopyOfTheLibrarySharesTheAgentsEngine() {
        String cp = AgentJvm.Classpaths.app() + File.pathSeparator + AgentJvm.Classpaths.libraryJar();
        AgentJvm.Result r = AgentJvm.of(LibApp.class).classpath(cp).agentArgs(agentArgs()).sdkImds(aemm.url).run().assertOk();
        assertEquals(aemmValue("AccessKeyId"), r.value("providerKeyId"), r.toString());
        assertEquals(aemmValue("AccessKeyId"), r.value("chainKeyId"), r.toString());
        assertTrue(r.value("library").contains("owned by the freshcreds agent"), r.toString());
        assertEquals("1", r.value("engineCount"), r.toString());
        assertEquals(1, freshcredsCredentialFetches(), "one engine fetches once\n" + AemmLog.read(aemm.config));
    }
}
