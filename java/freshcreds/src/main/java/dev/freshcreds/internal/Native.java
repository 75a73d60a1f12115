package dev.freshcreds.internal;

import dev.freshcreds.FreshCredentialsException;

/**
 * The JNI bindings: every native method of freshcreds, and the library's load state.
 *
 * <p>The natives are bound by the library's {@code JNI_OnLoad} with {@code RegisterNatives}
 * (see {@code native/src/jni.rs}), so a relocated copy of this class links too. A native
 * method fails with {@link FreshCredentialsException} for an error or a Rust panic.
 *
 * <p>Loading happens once, in this class's static initializer, which never throws: a
 * failure is kept and rethrown by {@link #checkLoaded()} with its cause.
 */
public final class Native {
    /** The wire version this class expects; see {@code ABI_VERSION} in jni.rs. */
    public static final int ABI_VERSION = 1;

    /** {@link #engineWait} bit: a new credentials snapshot was published. */
    public static final int SNAPSHOT = 1;
    /** {@link #engineWait} bit: native log records are waiting. */
    public static final int LOGS = 2;
    /** {@link #engineWait} bit: the measured clock skew changed. */
    public static final int SKEW = 4;
    /** {@link #engineWait} bit: the handle was closed. */
    public static final int CLOSED = 8;

    private static final NativeLoader.Result LOADED = NativeLoader.fromSystem().loadQuietly();

    private Native() {}

    /**
     * Throws unless the native library is loaded and speaks this class's wire version.
     *
     * @return a description of the loaded library (version and where it came from)
     * @throws FreshCredentialsException with the load failure as its cause
     */
    public static String checkLoaded() {
        return LOADED.check();
    }

    // ===== native methods (names: noun + verb; handles are passed explicitly) =====

    static native int abiVersion();

    static native String libraryVersion();

    static native long engineOpen(String[] props, String[] overrides);

    static native int engineWait(long handle, long timeoutMillis);

    static native boolean engineSnapshot(long handle, String[] strings, long[] numbers);

    static native void engineCredentials(long handle, long waitMillis, String[] strings, long[] numbers);

    static native boolean engineInvalidate(long handle);

    static native void engineMeasureClock(long handle);

    static native void engineHealth(long handle, String[] strings, long[] numbers);

    static native void engineClose(long handle);

    static native String[] logDrain(int max, long[] dropped);

    static native void logLevel(int level);

    static native int engineCount();

    /** Test-only: panics in Rust, to prove the panic arrives here as an exception. */
    static native void debugPanic(String message);
}
