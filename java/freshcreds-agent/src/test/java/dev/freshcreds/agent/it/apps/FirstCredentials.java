package dev.freshcreds.agent.it.apps;

import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;

/** The start-up benchmark's SDK application: resolves default-chain credentials once. */
public final class FirstCredentials {
    private FirstCredentials() {}

    public static void main(String[] args) {
        System.out.println("keyId=" + DefaultCredentialsProvider.create().resolveCredentials().accessKeyId());
    }
}
