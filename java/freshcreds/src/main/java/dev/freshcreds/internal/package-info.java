/**
 * Internals of freshcreds: the native loader, the JNI bindings, the updater thread, JMX
 * wiring. <strong>Not an API</strong>: anything here may change in any release.
 */
package dev.freshcreds.internal;
