/**
 * Adapters for the AWS SDK for Java 2.x: a credentials provider and an execution
 * interceptor. Load these classes only where {@code software.amazon.awssdk:auth} is on the
 * class path.
 */
package dev.freshcreds.v2;
