package dev.freshcreds.internal;

import java.util.List;

/** Test access to package-private loader pieces. */
public final class NativeLoaderAccess {
    private NativeLoaderAccess() {}

    public static String noexecMountOf(String path, List<String> mountinfo) {
        return NativeLoader.Mounts.noexecMountOf(path, mountinfo);
    }
}
