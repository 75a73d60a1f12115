package dev.freshcreds.agent.it.apps;

import dev.freshcreds.FreshCredentials;
import dev.freshcreds.Health;
import dev.freshcreds.v2.FreshAwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;

/**
 * An application that ships the freshcreds library itself (and runs with the agent): its
 * provider and the agent must share one engine. Prints {@code key=value} lines.
 */
public final class LibApp {
    private LibApp() {}

    public static void main(String[] args) {
        String provider = FreshAwsCredentialsProvider.create().resolveCredentials().accessKeyId();
        String chain = DefaultCredentialsProvider.create().resolveCredentials().accessKeyId();
        Health h = FreshCredentials.shared().health();
        System.out.println("providerKeyId=" + provider);
        System.out.println("chainKeyId=" + chain);
        System.out.println("library=" + h.library());
        System.out.println("engineCount=" + h.engineCount());
        System.out.println("engineId=" + h.engineId());
    }
}
