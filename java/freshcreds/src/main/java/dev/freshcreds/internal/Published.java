package dev.freshcreds.internal;

import java.util.concurrent.CompletableFuture;

/**
 * What the providers read on the hot path: the current snapshot and the SDK objects built
 * from it, or nulls when there are no valid credentials (none yet, or past their corrected
 * expiry). Immutable; published through one {@code volatile} field of {@link EngineCore}.
 */
public final class Published {
    static final Published EMPTY = new Published(null, false, null, null, null);

    /** The snapshot, valid or not; null before the first one. */
    public final CredentialsSnapshot snapshot;
    /** True while the snapshot has not reached its corrected expiry. */
    public final boolean valid;
    /** SDK v1 {@code AWSSessionCredentials}, or null when not valid or v1 not in use. */
    public final Object v1;
    /** SDK v2 {@code AwsSessionCredentials}, or null when not valid or v2 not in use. */
    public final Object v2;
    /** A completed future of {@link #v2}, for {@code resolveIdentity()}, or null. */
    public final CompletableFuture<?> v2Future;

    Published(CredentialsSnapshot snapshot, boolean valid, Object v1, Object v2, CompletableFuture<?> v2Future) {
        this.snapshot = snapshot;
        this.valid = valid;
        this.v1 = v1;
        this.v2 = v2;
        this.v2Future = v2Future;
    }

    @Override
    public String toString() {
        return "Published(" + snapshot + ", valid=" + valid + ")";
    }
}
