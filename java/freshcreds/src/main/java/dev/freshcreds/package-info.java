/**
 * freshcreds: AWS credentials for Java applications on EC2 that never expire in use.
 *
 * <p>{@link dev.freshcreds.FreshCredentials} is the engine handle; the SDK adapters are
 * {@code dev.freshcreds.v1.FreshAWSCredentialsProvider} (AWS SDK for Java 1.x) and
 * {@code dev.freshcreds.v2.FreshAwsCredentialsProvider} (2.x).
 */
package dev.freshcreds;
