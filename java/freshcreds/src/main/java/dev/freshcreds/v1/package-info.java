/**
 * Adapters for the AWS SDK for Java 1.x: a credentials provider and a request handler.
 * Load these classes only where {@code com.amazonaws:aws-java-sdk-core} is on the class path.
 */
package dev.freshcreds.v1;
