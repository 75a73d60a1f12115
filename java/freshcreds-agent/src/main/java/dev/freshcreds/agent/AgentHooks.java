package dev.freshcreds.agent;

import dev.freshcreds.FreshCredentials;
import dev.freshcreds.bootstrap.Creds;
import dev.freshcreds.bootstrap.Hooks;
import dev.freshcreds.bootstrap.Sdk;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The agent's {@link Hooks}: finds the SDK copy an advised class belongs to and builds that
 * copy's adapters once, in an {@link SdkLoader} beside it.
 */
final class AgentHooks implements Hooks {
    private static final String V1_ROOT = "com.amazonaws.";
    private static final String V2_ROOT = "software.amazon.awssdk.";
    /** One class per SDK copy that keys its adapters (core jars: present wherever a client is). */
    private static final String V1_ANCHOR = "com.amazonaws.SDKGlobalTime";
    private static final String V2_ANCHOR = "software.amazon.awssdk.core.SdkGlobalTime";
    private static final String V1_DEFAULT_CHAIN = "com.amazonaws.auth.DefaultAWSCredentialsProviderChain";

    private final String agentRoot;
    private final String libraryRoot;
    private final Set<String> warned = ConcurrentHashMap.newKeySet();

    /** Adapters per SDK copy, keyed by the copy's anchor class (no loader is kept alive). */
    private final ClassValue<Sdk> copies = new ClassValue<Sdk>() {
        @Override
        protected Sdk computeValue(Class<?> anchor) {
            return build(anchor);
        }
    };

    AgentHooks() {
        String agentName = AgentHooks.class.getName();
        this.agentRoot = agentName.substring(0, agentName.lastIndexOf('.') + 1);
        String libName = FreshCredentials.class.getName();
        this.libraryRoot = libName.substring(0, libName.lastIndexOf('.') + 1);
    }

    @Override
    public Sdk sdkFor(Class<?> advised) {
        try {
            String name = advised.getName();
            int v1 = name.indexOf(V1_ROOT);
            int v2 = name.indexOf(V2_ROOT);
            boolean isV1 = v1 >= 0 && (v2 < 0 || v1 < v2);
            String prefix = name.substring(0, isV1 ? v1 : Math.max(0, v2));
            if (!isV1 && v2 < 0) {
                return Sdk.NONE;
            }
            Class<?> anchor;
            try {
                anchor = Class.forName(prefix + (isV1 ? V1_ANCHOR : V2_ANCHOR), false, advised.getClassLoader());
            } catch (ClassNotFoundException | LinkageError e) {
                anchor = advised;
            }
            Sdk sdk = copies.get(anchor);
            return sdk.withDefaultChain(name.equals(prefix + V1_DEFAULT_CHAIN));
        } catch (RuntimeException | LinkageError e) {
            warnOnce(advised.getName(), "cannot serve " + advised.getName() + " from " + advised.getClassLoader()
                    + "; it keeps the SDK's own behaviour: " + e);
            return Sdk.NONE;
        }
    }

    @SuppressWarnings("unchecked")
    private Sdk build(Class<?> anchor) {
        String name = anchor.getName();
        boolean isV1 = name.contains(V1_ROOT) && !name.contains(V2_ROOT);
        int at = name.indexOf(isV1 ? V1_ROOT : V2_ROOT);
        String prefix = name.substring(0, Math.max(0, at));
        String adapter = agentRoot + "sdk." + (isV1 ? "V1Adapter" : "V2Adapter");
        try {
            SdkLoader loader = new SdkLoader(anchor.getClassLoader(), AgentHooks.class.getClassLoader(), agentRoot, libraryRoot, prefix);
            // Reflection: the adapter class is defined at run time, per SDK copy, in a loader
            // this class cannot link against; it is used only through JDK interfaces.
            Object a = Class.forName(adapter, true, loader).getDeclaredConstructor().newInstance();
            Sdk sdk = new Sdk((Function<Creds, Object>) a, ((Supplier<Object>) a).get(), false);
            AgentLog.fine("adapters ready for " + (isV1 ? "SDK v1" : "SDK v2") + " in " + anchor.getClassLoader()
                    + (prefix.isEmpty() ? "" : " (prefix " + prefix + ")") + ": " + sdk);
            return sdk;
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            warnOnce(name, "cannot define the freshcreds adapters beside " + name + " in " + anchor.getClassLoader()
                    + "; that SDK copy keeps its own credential providers: " + e);
            return Sdk.NONE;
        }
    }

    private void warnOnce(String key, String message) {
        if (warned.add(key)) {
            AgentLog.warn(message);
        }
    }

    @Override
    public Creds awaitCredentials() {
        return AgentEngine.awaitCredentials();
    }

    @Override
    public void invalidate() {
        AgentEngine.invalidate();
    }
}
