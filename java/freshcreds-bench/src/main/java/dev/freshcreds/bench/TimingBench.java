package dev.freshcreds.bench;

import java.io.File;
import java.io.IOException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.HdrHistogram.Histogram;
import software.amazon.awssdk.auth.credentials.InstanceProfileCredentialsProvider;

/**
 * Plain timing programs (not JMH) for what a microbenchmark cannot show: callers' latency while
 * a refresh meets a stalled or throttling IMDS, IMDS requests per rotation and on a cold start,
 * time to first credentials, and the RSS and threads a provider adds. One scenario for one
 * subject per JVM (timing.sh runs them), against AEMM behind the IMDS fault proxy:
 *
 * <pre>
 * java -Dbench.imds=URL -Dbench.admin=URL -Dbench.aemmConfig=FILE -Dbench.rig=DIR -Dbench.out=DIR \
 *     -cp benchmarks.jar dev.freshcreds.bench.TimingBench SCENARIO SUBJECT [key=value ...]
 *   SCENARIO  stall (mode=stall|throttle, stallMs, threads) | steady (rotations, periodMs, threads)
 *             | cold (threads) | startup
 *   SUBJECT   freshcreds | sdk-v2 | sdk-v1
 * </pre>
 *
 * Each run writes its figures to {@code bench.out/SCENARIO-[MODE-]SUBJECT.json}: a list of
 * {@code {name, subject, unit, value, threads, ...}}. Credentials served by AEMM are random
 * and never printed.
 */
public final class TimingBench {
    private final String imds = required("bench.imds");
    private final ImdsRig imdsRig = new ImdsRig(required("bench.admin"), required("bench.aemmConfig"),
            required("bench.rig"));
    private final Path out = Paths.get(required("bench.out"));
    private final String subject;
    private final Map<String, String> opts;
    private final List<String> entries = new ArrayList<>();

    private TimingBench(String subject, Map<String, String> opts) {
        this.subject = subject;
        this.opts = opts;
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            throw new IllegalArgumentException("usage: TimingBench SCENARIO SUBJECT [key=value ...]");
        }
        Map<String, String> opts = new LinkedHashMap<>();
        for (int i = 2; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            if (eq < 0) {
                throw new IllegalArgumentException("not key=value: " + args[i]);
            }
            opts.put(args[i].substring(0, eq), args[i].substring(eq + 1));
        }
        String subject = args[1];
        if (!subject.equals("freshcreds") && !subject.equals("sdk-v2") && !subject.equals("sdk-v1")) {
            throw new IllegalArgumentException("subject must be freshcreds, sdk-v2 or sdk-v1: " + subject);
        }
        TimingBench bench = new TimingBench(subject, opts);
        String file;
        switch (args[0]) {
            case "stall":
                bench.stall();
                file = "stall-" + bench.opt("mode", "stall") + "-" + subject;
                break;
            case "steady":
                bench.steady();
                file = "steady-" + subject;
                break;
            case "cold":
                bench.cold();
                file = "cold-" + subject;
                break;
            case "startup":
                bench.startup();
                file = "startup-" + subject;
                break;
            default:
                throw new IllegalArgumentException("unknown scenario " + args[0]);
        }
        bench.write(file);
        // SDK v1's and v2's IMDS clients may leave non-daemon threads behind.
        System.exit(0);
    }

    // ===== scenarios =====

    /**
     * Callers' latency while the provider's refresh meets a stalled (or throttling) IMDS.
     *
     * <p>Each subject is given credentials whose expiry makes its refresh due {@code DUE} after
     * the first fetch, by its own rules:
     * <ul>
     *   <li>sdk-v1 ({@code BaseCredentialsFetcher}): refreshes in the calling thread, under a
     *       lock, once less than 15 minutes are left: expiry = now + 15 min + DUE;</li>
     *   <li>sdk-v2 ({@code InstanceProfileCredentialsProvider}, {@code CachedSupplier}): the
     *       prefetch time is at least 5 minutes after a fetch, the stale time 1 s before expiry;
     *       credentials with less than 5 minutes left are refreshed at the stale time, every
     *       caller waiting: expiry = now + DUE + 1 s;</li>
     *   <li>freshcreds: refreshAhead(12 s), expiry = now + DUE + 13.2 s (the refresh starts in
     *       the background between DUE and DUE + 1.2 s, after its jitter of up to a tenth of
     *       the window; the credentials stay valid through a 10 s fault).</li>
     * </ul>
     * IMDS is stalled (or answers 429 with Retry-After: 1) from DUE − 1 s for {@code stallMs};
     * {@code threads} callers call the provider in a loop from the first fetch on, one call every
     * {@code intervalUs} (default 200 µs), and every call that starts inside the fault window is
     * recorded (see {@link #callers}).
     */
    private void stall() throws Exception {
        String mode = opt("mode", "stall");
        long stallMs = Long.parseLong(opt("stallMs", "10000"));
        int threads = Integer.parseInt(opt("threads", "8"));
        Duration due = Duration.ofMillis(Long.parseLong(opt("dueMs", "5000")));
        Instant now = Instant.now();
        Instant expiry;
        Duration refreshAhead = null;
        switch (subject) {
            case "sdk-v1":
                expiry = now.plus(Duration.ofMinutes(15)).plus(due);
                break;
            case "sdk-v2":
                expiry = now.plus(due).plusSeconds(1);
                break;
            default:
                refreshAhead = Duration.ofSeconds(12);
                expiry = now.plus(due).plusMillis(13_200);
        }
        imdsRig.rotate(expiry, now);
        imdsRig.admin("DELETE", "/__fault", null);
        Instant faultFrom = now.plus(due).minusSeconds(1);
        Instant faultUntil = faultFrom.plusMillis(stallMs);
        String rule = mode.equals("throttle")
                ? "{\"mode\":\"throttle\",\"retry_after\":1"
                : "{\"mode\":\"stall\"";
        imdsRig.admin("POST", "/__fault", rule + ",\"from\":" + unixSeconds(faultFrom) + ",\"until\":"
                + unixSeconds(faultUntil) + "}");
        try (Subject s = Subject.open(subject, imds, refreshAhead)) {
            s.call(); // first credentials, before the fault window
            if (!Instant.now().isBefore(faultFrom)) {
                throw new IllegalStateException("first credentials came after the fault window opened; "
                        + "raise dueMs (machine too busy?)");
            }
            imdsRig.admin("DELETE", "/__stats", null);
            long wallToNano = System.nanoTime() - TimeUnit.MILLISECONDS.toNanos(System.currentTimeMillis());
            long fromNs = TimeUnit.MILLISECONDS.toNanos(faultFrom.toEpochMilli()) + wallToNano;
            long untilNs = TimeUnit.MILLISECONDS.toNanos(faultUntil.toEpochMilli()) + wallToNano;
            long intervalNs = TimeUnit.MICROSECONDS.toNanos(Long.parseLong(opt("intervalUs", "200")));
            Histogram raw = new Histogram(TimeUnit.MINUTES.toNanos(10), 3);
            Histogram all = callers(s, threads, fromNs, untilNs, intervalNs, raw);
            long requests = imdsRig.requests();
            String prefix = mode.equals("throttle") ? "refresh-throttled-" : "refresh-stall-";
            long ms = TimeUnit.MILLISECONDS.toNanos(1);
            long slow = 0;
            for (org.HdrHistogram.HistogramIterationValue v : raw.recordedValues()) {
                if (v.getValueIteratedTo() >= ms) {
                    slow += v.getCountAtValueIteratedTo();
                }
            }
            String extra = ",\"calls\":" + raw.getTotalCount() + ",\"calls_over_1ms\":" + slow
                    + ",\"interval_us\":" + TimeUnit.NANOSECONDS.toMicros(intervalNs)
                    + ",\"imds_requests\":" + requests
                    + ",\"fault_ms\":" + stallMs + ",\"mode\":\"" + mode + "\"";
            double[] percentiles = {50, 99, 99.9};
            String[] names = {"p50", "p99", "p999"};
            for (int i = 0; i < percentiles.length; i++) {
                add(prefix + names[i] + "-ns", "ns", all.getValueAtPercentile(percentiles[i]), threads,
                        extra + ",\"uncorrected_ns\":" + raw.getValueAtPercentile(percentiles[i]));
            }
            add(prefix + "max-ns", "ns", all.getMaxValue(), threads, extra + ",\"uncorrected_ns\":" + raw.getMaxValue());
            System.err.printf(Locale.ROOT, "%s %s: %d calls, p50 %d ns, p99 %d ns, p99.9 %d ns, max %d ns, "
                    + "%d IMDS requests during the window%n", mode, subject, raw.getTotalCount(),
                    all.getValueAtPercentile(50), all.getValueAtPercentile(99),
                    all.getValueAtPercentile(99.9), all.getMaxValue(), requests);
        } finally {
            imdsRig.admin("DELETE", "/__fault", null);
        }
    }

    /**
     * IMDS requests per rotation at steady state: AEMM publishes a new set of credentials every
     * period P ({@code periodMs}) while {@code threads} callers use the provider (1 ms pause
     * between calls). Each set is valid for the subject's lifetime after it is published: 3 P
     * for freshcreds and sdk-v2 (IMDS publishes well before expiry, as it does); for sdk-v1,
     * whose refresh threshold is a fixed 15 minutes before expiry (shorter-lived credentials
     * are refetched only every 50 to 70 s), 15 min + 1.25 P, so that it refreshes once after
     * each rotation. By their own rules, freshcreds refreshes lifetime/2 (plus jitter) ahead,
     * so once per set; sdk-v2 refreshes credentials with under 5 minutes left only at its stale
     * time, 1 s before expiry, so it picks up every other set. Requests are counted over
     * {@code rotations} periods after the start-up transient, [2.75 P, (2.75 + rotations) P)
     * after the first set was published: boundaries at a phase where no subject fetches. At
     * each rotation the proxy holds IMDS requests for 1 s while AEMM reloads (see
     * {@link ImdsRig#quietRotate}); no subject fetches in that phase either.
     */
    private void steady() throws Exception {
        int rotations = Integer.parseInt(opt("rotations", "4"));
        long periodMs = Long.parseLong(opt("periodMs", "10000"));
        int threads = Integer.parseInt(opt("threads", "4"));
        Duration lifetime = subject.equals("sdk-v1")
                ? Duration.ofMinutes(15).plusMillis(periodMs * 5 / 4)
                : Duration.ofMillis(3 * periodMs);
        long p = TimeUnit.MILLISECONDS.toNanos(periodMs);
        imdsRig.admin("DELETE", "/__fault", null);
        long t0 = System.nanoTime();
        Instant first = Instant.now();
        imdsRig.rotate(first.plus(lifetime), first);
        try (Subject s = Subject.open(subject, imds, null)) {
            s.call();
            long from = t0 + 11 * p / 4;
            long end = from + rotations * p;
            AtomicLong calls = new AtomicLong();
            List<Thread> workers = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                Thread t = new Thread(() -> {
                    while (System.nanoTime() < end) {
                        if (s.call() != null) {
                            calls.incrementAndGet();
                        }
                        sleepQuietly(1);
                    }
                }, "steady-caller-" + i);
                t.setDaemon(true);
                t.start();
                workers.add(t);
            }
            // Every subject schedules its refreshes from the expiry, not from when it fetched, so the
            // first fetch only has to come before the first rotation.
            if (System.nanoTime() > t0 + p) {
                throw new IllegalStateException("first credentials came after the first rotation; raise periodMs "
                        + "(machine too busy?)");
            }
            String byPath = "";
            for (int r = 1; t0 + r * p < end; r++) {
                sleepUntil(t0 + r * p);
                imdsRig.quietRotate(lifetime);
                if (r == 2) { // before 2.75 P
                    sleepUntil(from);
                    imdsRig.admin("DELETE", "/__stats", null);
                }
            }
            sleepUntil(end);
            String stats = imdsRig.admin("GET", "/__stats", null);
            long requests = ImdsRig.total(stats);
            Matcher m = Pattern.compile("\"by_path\"\\s*:\\s*(\\{[^}]*\\})").matcher(stats);
            if (m.find()) {
                byPath = ",\"by_path\":" + m.group(1);
            }
            for (Thread t : workers) {
                t.join(60_000);
            }
            double perRotation = (double) requests / rotations;
            add("imds-requests-per-rotation", "requests", perRotation, threads,
                    ",\"rotations\":" + rotations + ",\"period_ms\":" + periodMs + ",\"imds_requests\":" + requests
                            + ",\"lifetime_ms\":" + lifetime.toMillis() + ",\"calls\":" + calls.get() + byPath);
            System.err.printf(Locale.ROOT, "steady %s: %d IMDS requests over %d rotations (%.2f per rotation), "
                    + "%d calls%n", subject, requests, rotations, perRotation, calls.get());
        }
    }

    /** IMDS requests when {@code threads} callers call a new provider at once. */
    private void cold() throws Exception {
        int threads = Integer.parseInt(opt("threads", "1000"));
        imdsRig.admin("DELETE", "/__fault", null);
        Instant now = Instant.now();
        imdsRig.rotate(now.plus(Duration.ofHours(1)), now);
        CountDownLatch ready = new CountDownLatch(threads);
        CountDownLatch go = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(threads);
        AtomicLong failures = new AtomicLong();
        Subject[] holder = new Subject[1];
        for (int i = 0; i < threads; i++) {
            Thread t = new Thread(() -> {
                ready.countDown();
                try {
                    go.await();
                    if (holder[0].call() == null) {
                        failures.incrementAndGet();
                    }
                } catch (Exception e) {
                    failures.incrementAndGet();
                } finally {
                    done.countDown();
                }
            }, "cold-caller-" + i);
            t.setDaemon(true);
            t.start();
        }
        ready.await();
        imdsRig.admin("DELETE", "/__stats", null);
        long t0 = System.nanoTime();
        try (Subject s = Subject.open(subject, imds, null)) {
            holder[0] = s;
            go.countDown();
            if (!done.await(60, TimeUnit.SECONDS)) {
                throw new IllegalStateException("callers still waiting after 60 s");
            }
            double allMs = (System.nanoTime() - t0) / 1e6;
            Thread.sleep(500); // a late request would still be counted
            long requests = imdsRig.requests();
            if (failures.get() > 0) {
                throw new IllegalStateException(failures.get() + " of " + threads + " callers got no credentials");
            }
            add("imds-requests-cold-start", "requests", requests, threads, ",\"all_callers_ms\":" + fmt(allMs));
            System.err.printf(Locale.ROOT, "cold %s: %d IMDS requests for %d callers, all served after %.1f ms%n",
                    subject, requests, threads, allMs);
        }
    }

    /** Time to first credentials of a new provider in a new JVM, and the RSS and threads it adds. */
    private void startup() throws Exception {
        imdsRig.admin("DELETE", "/__fault", null);
        Instant now = Instant.now();
        imdsRig.rotate(now.plus(Duration.ofHours(1)), now);
        long rss0 = rssBytes();
        int threads0 = taskCount();
        long t0 = System.nanoTime();
        try (Subject s = Subject.open(subject, imds, null)) {
            double openMs = (System.nanoTime() - t0) / 1e6;
            if (s.call() == null) {
                throw new IllegalStateException("no credentials");
            }
            double firstMs = (System.nanoTime() - t0) / 1e6;
            Thread.sleep(Long.parseLong(opt("settleMs", "1000")));
            long rss1 = rssBytes();
            int threads1 = taskCount();
            add("first-credentials-ms", "ms", firstMs, 1,
                    ",\"variant\":\"new provider in a new JVM\",\"build_ms\":" + fmt(openMs));
            add("rss-added-bytes", "bytes", rss1 - rss0, 1, ",\"rss_before\":" + rss0 + ",\"rss_after\":" + rss1);
            add("native-threads", "threads", threads1 - threads0, 1,
                    ",\"variant\":\"threads added to the JVM\",\"tasks_before\":" + threads0 + ",\"tasks_after\":" + threads1);
            System.err.printf(Locale.ROOT, "startup %s: first credentials %.1f ms, RSS +%d KiB, threads %d -> %d%n",
                    subject, firstMs, (rss1 - rss0) / 1024, threads0, threads1);
        }
    }

    // ===== callers =====

    /**
     * Runs {@code threads} callers until {@code untilNs}, each calling the provider, then
     * parking until {@code intervalNs} after the call ended (so callers do not compete for the
     * 2 CPUs, and a call is rarely preempted), and records every call that starts at or after
     * {@code fromNs}: in {@code raw} as measured, and in the returned histogram corrected for
     * coordinated omission ({@code recordValueWithExpectedInterval}): a call blocked for 2 s also
     * stands for the calls its caller would have made in that time, as an application's request
     * threads would have.
     */
    private static Histogram callers(Subject s, int threads, long fromNs, long untilNs, long intervalNs,
            Histogram raw) throws InterruptedException {
        List<Histogram> corrected = new ArrayList<>();
        List<Histogram> raws = new ArrayList<>();
        List<Thread> workers = new ArrayList<>();
        AtomicLong nulls = new AtomicLong();
        for (int i = 0; i < threads; i++) {
            Histogram h = new Histogram(TimeUnit.MINUTES.toNanos(10), 3);
            Histogram r = new Histogram(TimeUnit.MINUTES.toNanos(10), 3);
            corrected.add(h);
            raws.add(r);
            Thread t = new Thread(() -> {
                while (true) {
                    long start = System.nanoTime();
                    if (start >= untilNs) {
                        return;
                    }
                    Object c = s.call();
                    long end = System.nanoTime();
                    if (c == null) {
                        nulls.incrementAndGet();
                    }
                    if (start >= fromNs) {
                        long latency = Math.min(end - start, h.getHighestTrackableValue());
                        h.recordValueWithExpectedInterval(latency, intervalNs);
                        r.recordValue(latency);
                    }
                    long next = end + intervalNs;
                    for (long now; (now = System.nanoTime()) < next; ) {
                        LockSupport.parkNanos(next - now);
                    }
                }
            }, "stall-caller-" + i);
            t.setDaemon(true);
            workers.add(t);
        }
        for (Thread t : workers) {
            t.start();
        }
        for (Thread t : workers) {
            t.join(TimeUnit.NANOSECONDS.toMillis(untilNs - System.nanoTime()) + 120_000);
            if (t.isAlive()) {
                throw new IllegalStateException("a caller is still blocked 2 minutes after the fault window");
            }
        }
        if (nulls.get() > 0) {
            throw new IllegalStateException(nulls.get() + " calls returned no credentials");
        }
        Histogram all = new Histogram(TimeUnit.MINUTES.toNanos(10), 3);
        for (int i = 0; i < threads; i++) {
            all.add(corrected.get(i));
            raw.add(raws.get(i));
        }
        return all;
    }

    // ===== helpers =====

    private static long rssBytes() throws IOException {
        for (String line : Files.readAllLines(Paths.get("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }

    private static int taskCount() {
        String[] tasks = new File("/proc/self/task").list();
        return tasks == null ? -1 : tasks.length;
    }

    private static String unixSeconds(Instant t) {
        return String.format(Locale.ROOT, "%.3f", t.toEpochMilli() / 1000.0);
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.6g", v);
    }

    private static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void sleepUntil(long nanoTime) throws InterruptedException {
        long left;
        while ((left = nanoTime - System.nanoTime()) > 0) {
            TimeUnit.NANOSECONDS.sleep(left);
        }
    }

    private void add(String name, String unit, double value, int threads, String extra) {
        entries.add("{\"name\":\"" + name + "\",\"subject\":\"" + subject + "\",\"unit\":\"" + unit
                + "\",\"value\":" + fmt(value) + ",\"threads\":" + threads + extra + "}");
    }

    private void write(String file) throws IOException {
        Files.createDirectories(out);
        Path tmp = out.resolve(file + ".json.tmp");
        Files.write(tmp, ("[\n  " + String.join(",\n  ", entries) + "\n]\n").getBytes(StandardCharsets.UTF_8));
        Files.move(tmp, out.resolve(file + ".json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    private String opt(String key, String dflt) {
        return opts.getOrDefault(key, dflt);
    }

    private static String required(String property) {
        String v = System.getProperty(property);
        if (v == null || v.isEmpty()) {
            throw new IllegalStateException("-D" + property + " is required (timing.sh sets it)");
        }
        return v;
    }
}
