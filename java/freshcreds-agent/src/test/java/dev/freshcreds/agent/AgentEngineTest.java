package dev.freshcreds.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class AgentEngineTest {
    /** Skew is server minus local; the SDKs' offsets are local minus server, in whole seconds. */
    @Test
    void sdkOffsetHasTheOppositeSignOfTheSkew() {
        assertEquals(-600, AgentEngine.sdkOffsetSeconds(600_000)); // host 10 min slow
        assertEquals(420, AgentEngine.sdkOffsetSeconds(-420_000)); // host 7 min fast
        assertEquals(-1, AgentEngine.sdkOffsetSeconds(1_400));
        assertEquals(0, AgentEngine.sdkOffsetSeconds(499));
        assertEquals(0, AgentEngine.sdkOffsetSeconds(0));
    }
}
