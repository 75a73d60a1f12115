package example.sqs;

import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Sends and receives messages on an SQS queue in a loop and counts the outcomes.
 *
 * <pre>
 * java -cp 'sqs-example.jar:lib/*' example.sqs.SqsExample --mode MODE --queue NAME|URL
 *      [--duration SECONDS] [--interval-ms MS] [--progress SECONDS] [--drain SECONDS]
 *      [--imds-stats ADMIN_URL] [--stop-file PATH] [--events PATH]
 * </pre>
 *
 * MODE is {@code library}, {@code library-v1}, {@code agent}, {@code agent-v1}, {@code stock-v2}
 * or {@code stock-v1} (see {@link Mode}). The loop ends after {@code --duration} seconds, or
 * as soon as {@code --stop-file} exists; then it receives what is left for {@code --drain}
 * seconds. A progress line every few seconds, then
 * {@code RESULT mode=... sent=N received=N expired_token_errors=N skew_errors=N other_errors=N imds_requests=N}.
 * With {@code --events PATH}, one line per SQS call is appended to PATH:
 * {@code <epoch ms, this JVM's clock> <call> <ok|expired|skew|other> [error code]}, where call is
 * {@code open}, {@code send} or {@code receive} (a receive includes its delete); tests/compare
 * draws its timeline from these lines.
 * The exit status is 0 when nothing failed and every message sent was received.
 */
public final class SqsExample {
    private static final Logger LOG = Logger.getLogger("example.sqs");
    private static final int LOGGED_ERRORS = 20;

    private final Mode mode;
    private final String queue;
    private final long durationMillis;
    private final long intervalMillis;
    private final long progressMillis;
    private final long drainMillis;
    private final String imdsStats;
    private final java.io.File stopFile;
    private final Events events;
    private final String run = UUID.randomUUID().toString().substring(0, 8);
    private final Map<Outcome, Long> errors = new EnumMap<>(Outcome.class);
    private final Set<String> outstanding = new HashSet<>();
    private long sent;
    private long received;
    private int logged;

    private SqsExample(Map<String, String> o) {
        mode = Mode.of(require(o, "mode"));
        queue = o.containsKey("queue") ? o.get("queue") : require(o, "SQS_QUEUE");
        durationMillis = (long) (Double.parseDouble(o.getOrDefault("duration", "60")) * 1000);
        intervalMillis = Long.parseLong(o.getOrDefault("interval-ms", "250"));
        progressMillis = (long) (Double.parseDouble(o.getOrDefault("progress", "5")) * 1000);
        drainMillis = (long) (Double.parseDouble(o.getOrDefault("drain", "20")) * 1000);
        imdsStats = o.get("imds-stats");
        stopFile = o.containsKey("stop-file") ? new java.io.File(o.get("stop-file")) : null;
        events = Events.open(o.get("events"));
        for (Outcome k : Outcome.values()) {
            errors.put(k, 0L);
        }
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> o = new java.util.HashMap<>();
        String env = System.getenv("SQS_QUEUE");
        if (env != null) {
            o.put("SQS_QUEUE", env);
        }
        String stats = System.getenv("IMDS_PROXY_ADMIN");
        if (stats != null) {
            o.put("imds-stats", stats);
        }
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 == args.length) {
                System.err.println("usage: --mode MODE --queue NAME|URL [--duration S] [--interval-ms MS]"
                        + " [--progress S] [--drain S] [--imds-stats ADMIN_URL] [--stop-file PATH]"
                        + " [--events PATH]");
                System.exit(2);
            }
            o.put(args[i].substring(2), args[++i]);
        }
        System.exit(new SqsExample(o).run());
    }

    private int run() throws InterruptedException {
        HealthProbe health = new HealthProbe(mode);
        long start = System.nanoTime();
        try (Queue q = Clients.open(mode)) {
            String url = null;
            while (url == null && elapsed(start) < durationMillis && !stopped()) {
                try {
                    url = q.open(queue);
                    events.ok("open");
                } catch (QueueFailure f) {
                    count("open", f);
                    Thread.sleep(1000);
                }
            }
            System.out.println("START mode=" + mode.label + " queue=" + url + " run=" + run);
            long nextProgress = progressMillis;
            long n = 0;
            while (url != null && elapsed(start) < durationMillis && !stopped()) {
                String body = run + "-" + n++;
                try {
                    q.send(body);
                    sent++;
                    outstanding.add(body);
                    events.ok("send");
                } catch (QueueFailure f) {
                    count("send", f);
                }
                receive(q, 0);
                if (elapsed(start) >= nextProgress) {
                    progress(start, health);
                    nextProgress += progressMillis;
                }
                Thread.sleep(intervalMillis);
            }
            long drainEnd = elapsed(start) + drainMillis;
            while (url != null && !outstanding.isEmpty() && elapsed(start) < drainEnd) {
                receive(q, 1);
            }
            progress(start, health);
        } finally {
            events.close();
        }
        long imds = ImdsStats.total(imdsStats);
        System.out.println("RESULT mode=" + mode.label + " sent=" + sent + " received=" + received
                + " expired_token_errors=" + errors.get(Outcome.EXPIRED_TOKEN)
                + " skew_errors=" + errors.get(Outcome.SKEW) + " other_errors=" + errors.get(Outcome.OTHER)
                + " imds_requests=" + (imds < 0 ? "n/a" : Long.toString(imds)));
        long failures = errors.get(Outcome.EXPIRED_TOKEN) + errors.get(Outcome.SKEW) + errors.get(Outcome.OTHER);
        return failures == 0 && sent > 0 && received == sent ? 0 : 1;
    }

    private void receive(Queue q, int waitSeconds) {
        try {
            List<String> bodies = q.receive(waitSeconds);
            for (String b : bodies) {
                if (outstanding.remove(b)) {
                    received++;
                }
            }
            events.ok("receive");
        } catch (QueueFailure f) {
            count("receive", f);
        }
    }

    private void count(String call, QueueFailure f) {
        events.failed(call, f);
        errors.put(f.outcome(), errors.get(f.outcome()) + 1);
        if (logged++ < LOGGED_ERRORS) {
            LOG.log(Level.WARNING, "{0} error: {1}", new Object[] {f.outcome(), f.getMessage()});
        }
    }

    private void progress(long start, HealthProbe health) {
        System.out.println(String.format("PROGRESS t=%ds sent=%d received=%d errors=expired:%d,skew:%d,other:%d %s",
                TimeUnit.MILLISECONDS.toSeconds(elapsed(start)), sent, received, errors.get(Outcome.EXPIRED_TOKEN),
                errors.get(Outcome.SKEW), errors.get(Outcome.OTHER), health.describe()).trim());
    }

    private boolean stopped() {
        return stopFile != null && stopFile.exists();
    }

    private static long elapsed(long start) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    }

    private static String require(Map<String, String> o, String key) {
        String v = o.get(key);
        if (v == null || v.isEmpty()) {
            throw new IllegalArgumentException("--" + key.toLowerCase().replace("sqs_", "") + " is required");
        }
        return v;
    }
}
