package dev.freshcreds.internal;

/** The {@link NativeBridgeMBean} the first class loader to load the library registers. */
public final class NativeBridge implements NativeBridgeMBean {
    private final BackendDispatcher dispatcher;
    private final String description;

    NativeBridge(Backend backend) {
        this.dispatcher = new BackendDispatcher(backend);
        this.description = backend.describe();
    }

    @Override
    public Object getDispatcher() {
        return dispatcher;
    }

    @Override
    public String getDescription() {
        return description;
    }
}
