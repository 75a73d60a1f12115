package example.sqs;

import dev.freshcreds.FreshCredentials;
import dev.freshcreds.Health;
import java.lang.management.ManagementFactory;
import java.util.Set;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * The freshcreds figures for the progress line: {@code FreshCredentials.health()} in library
 * modes; in agent modes the agent's JMX MBean (the application itself never calls freshcreds);
 * nothing in stock modes.
 */
final class HealthProbe {
    private final Mode mode;

    HealthProbe(Mode mode) {
        this.mode = mode;
    }

    /** A {@code key=value} fragment; empty when freshcreds is not in use. */
    String describe() {
        try {
            if (mode.library) {
                Health h = FreshCredentials.shared().health();
                return "next_refresh=" + h.nextRefresh().map(Object::toString).orElse("-")
                        + " expires=" + h.expiration().map(Object::toString).orElse("-")
                        + " refreshes=" + h.refreshCount() + " skew=" + seconds(h.clockSkew().toMillis())
                        + "(" + h.clockSkewSource() + ")";
            }
            if (mode.agent) {
                MBeanServer server = ManagementFactory.getPlatformMBeanServer();
                Set<ObjectName> names = server.queryNames(new ObjectName("dev.freshcreds:type=Credentials,*"), null);
                if (names.isEmpty()) {
                    return "agent=absent";
                }
                ObjectName n = names.iterator().next();
                return "next_refresh=" + server.getAttribute(n, "NextRefresh")
                        + " expires=" + server.getAttribute(n, "Expiration")
                        + " refreshes=" + server.getAttribute(n, "RefreshCount")
                        + " skew=" + seconds((Long) server.getAttribute(n, "ClockSkewMillis"))
                        + "(" + server.getAttribute(n, "ClockSkewSource") + ")";
            }
            return "";
        } catch (Exception | LinkageError e) {
            return "health=unavailable(" + e.getClass().getSimpleName() + ")";
        }
    }

    private static String seconds(long millis) {
        return String.format("%+.1fs", millis / 1000.0);
    }
}
