package dev.freshcreds;

/**
 * The one exception freshcreds throws: the native library could not be loaded, a setting is
 * invalid, or no valid credentials could be had within the caller's deadline.
 *
 * <p>Its message says what happened and, where the user can act, what to do. It never
 * contains a secret access key or a session token.
 */
public final class FreshCredentialsException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * An exception with a message.
     *
     * @param message what happened
     */
    public FreshCredentialsException(String message) {
        super(message);
    }

    /**
     * An exception with a message and its cause.
     *
     * @param message what happened
     * @param cause the underlying failure
     */
    public FreshCredentialsException(String message, Throwable cause) {
        super(message, cause);
    }
}
