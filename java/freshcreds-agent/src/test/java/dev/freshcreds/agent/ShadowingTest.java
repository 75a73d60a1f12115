package dev.freshcreds.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class ShadowingTest {
    @Test
    void nothingShadowsACleanEnvironment() {
        assertTrue(Shadowing.findings(new HashMap<>(), new Properties()).isEmpty());
    }

    @Test
    void eachSourceIsNamedAndNoSecretIsShown() {
        Map<String, String> env = new HashMap<>();
        env.put("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE");
        env.put("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
        env.put("AWS_SESSION_TOKEN", "token-token-token");
        env.put("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/token");
        Properties props = new Properties();
        props.setProperty("aws.accessKeyId", "AKIAPROPERTYKEY00001");
        props.setProperty("aws.sessionToken", "prop-token");
        List<String> f = Shadowing.findings(env, props);
        assertEquals(5, f.size(), f.toString());
        String all = String.join("\n", f);
        assertTrue(all.contains("AWS_ACCESS_KEY_ID (AKIA…MPLE) and its secret"), all);
        assertTrue(all.contains("static AWS_SESSION_TOKEN"), all);
        assertTrue(all.contains("aws.accessKeyId (AKIA…0001)"), all);
        assertFalse(all.contains("wJalr") || all.contains("token-token") || all.contains("prop-token"), all);
    }
}
