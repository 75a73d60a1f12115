"""Root causes of the stock SDKs' errors in a `make compare` run: the run's timing read against
what the SDK sources say (AWS SDK for Java 2.54.14 and 1.12.797, the versions examples/sqs pins).
"""

import time

# SDK v1 BaseCredentialsFetcher.EXPIRATION_THRESHOLD (FIFTEEN_MINUTES_IN_MILLIS), in seconds.
V1_EXPIRATION_THRESHOLD = 900
V2_MODES_SDK = {"library": "v2", "agent": "v2", "stock-v2": "v2",
                "library-v1": "v1", "agent-v1": "v1", "stock-v1": "v1"}


def episodes(events, outcome):
    """Runs of `outcome` errors: [(first, last, count, codes{code: n})]; a successful call ends one."""
    out = []
    open_run = False
    for t, _call, o, code in events:
        if o == "ok":
            open_run = False
        if o != outcome:
            continue
        if out and open_run:
            first, _last, n, codes = out[-1]
            codes[code] = codes.get(code, 0) + 1
            out[-1] = (first, t, n + 1, codes)
        else:
            out.append((t, t, 1, {code: 1}))
            open_run = True
    return out


def hms(t):
    return time.strftime("%H:%M:%S", time.gmtime(t))


def signed(x):
    return "%+d s" % round(x)


def overlapping(windows, a, b):
    return [(f, u) for f, u in windows if f <= b and u >= a]


def last_expiry_before(run, t):
    """The set whose expiry is the latest at or before t (one second of slack), or None."""
    best = None
    for n, (_p, e) in sorted(run.sets.items()):
        if e <= t + 1:
            best = n
    return best


def credential_reads(run, mode):
    """Times at which the mode's IMDS credential-read count went up (to the poll's resolution)."""
    samples = run.imds.get(mode, [])
    out = []
    for (_t0, _a, c0), (t1, _b, c1) in zip(samples, samples[1:]):
        if c1 > c0:
            out.append((t1, c1 - c0))
    return out


def first_read_after(run, mode, t):
    for t1, n in credential_reads(run, mode):
        if t1 >= t:
            return t1, n
    return None


def last_read_before(run, mode, t):
    """The last time (to the poll's resolution) the mode's credential-read count went up before t."""
    got = None
    for t1, _n in credential_reads(run, mode):
        if t1 <= t:
            got = t1
    return got


def sdk_of(mode):
    return V2_MODES_SDK.get(mode, "v2")


V2_EXPIRY = (
    "SDK v2: the default chain ends at `InstanceProfileCredentialsProvider` (`DefaultCredentialsProvider` leaves "
    "`asyncCredentialUpdateEnabled` false, so its `CachedSupplier` prefetches with `OneCallerBlocks`, in the "
    "calling thread). It keeps an IMDS set until `staleTime` = Expiration − 1 s (builder default `staleTime` "
    "`Duration.ofSeconds(1)`) and prefetches at `prefetchTime` = now + max(time left / 2, 5 min), which "
    "`CachedSupplier` jitters up to 1 min before the stale time; both are compared with `Clock.systemUTC()`, "
    "the JVM's clock, here %d s slow, so every set looked valid for %d s past its true expiry. `ExpiredToken` "
    "appears nowhere in the SDK's retry or credentials code, so the 403s do not trigger a refresh.")
V1_EXPIRY = (
    "SDK v1: the default chain ends at `InstanceProfileCredentialsProvider.getInstance()` (no async refresh). "
    "`BaseCredentialsFetcher` reloads only once Expiration − `EXPIRATION_THRESHOLD` (15 min) has passed on "
    "`SdkClock.STANDARD`, the JVM's clock (%d s slow), i.e. at the true expiry − %d s; a failed load is only "
    "logged (`handleError`, `allowExpiredCredentials` true) and tried again 50–70 s later, with no retry of the "
    "IMDS call itself (`InstanceMetadataServiceCredentialsFetcher.shouldRetry` returns false). `ExpiredToken` "
    "appears nowhere in the SDK's retry or credentials code.")
V2_SKEW = (
    "SDK v2 recognises the gate's answer as clock skew (`AwsServiceException.isClockSkewException()`: "
    "`SignatureDoesNotMatch` is in `AwsErrorCode.POSSIBLE_CLOCK_SKEW_ERROR_CODES` and the `Date` header is at "
    "least `ClockSkew.CLOCK_SKEW_ADJUST_THRESHOLD` (4 min) from the client's clock); `ClockSkewAdjuster` takes "
    "the offset from that header and the request is retried, so an error reaches the app only when every "
    "attempt failed.")
V1_SKEW = (
    "SDK v1 recognises it (`RetryUtils.isClockSkewError`: `SignatureDoesNotMatch` and "
    "`InvalidSignatureException` are in `CLOCK_SKEW_ERROR_CODES`); `AmazonHttpClient` stores the adjustment "
    "with `SDKGlobalTime.setGlobalTimeOffset` and retries, so an error reaches the app only when every attempt "
    "failed.")


def explain_expired(run, mode, ep):
    """(what the run shows about one ExpiredToken episode, the SDK mechanism behind it)."""
    first, last, n, _codes = ep
    k = last_expiry_before(run, first)
    sdk = sdk_of(mode)
    mech = V2_EXPIRY % (run.skew, run.skew - 1) if sdk == "v2" else V1_EXPIRY % (
        run.skew, V1_EXPIRATION_THRESHOLD - run.skew)
    if k is None:
        return ("**%d ExpiredToken, %s..%s**, before any set's expiry on the rig: not a refresh-timing error "
                "(check the gate's registrations)." % (n, hms(first), hms(last)), mech)
    _pub_k, exp_k = run.sets[k]
    nxt = run.sets.get(k + 1)
    d1, d2 = first - exp_k, last - exp_k
    parts = ["**%d ExpiredToken, %s..%s: %s to %s after set %d's expiry (%s)**; set %d had been on IMDS since %s."
             % (n, hms(first), hms(last), signed(d1), signed(d2), k, hms(exp_k), k + 1, hms(nxt[0]))
             if nxt else "**%d ExpiredToken, %s..%s: %s to %s after set %d's expiry (%s)**." % (
                 n, hms(first), hms(last), signed(d1), signed(d2), k, hms(exp_k))]
    parts.append("At the first error the JVM's clock still showed set %d valid for %d s." % (k, round(run.skew - d1)))
    got = last_read_before(run, mode, first)
    next_due = None  # when the SDK would next have read IMDS on its own, true time
    if sdk == "v2" and got is not None:
        # The prefetch window that read set up, on the true time axis (what CachedSupplier computed
        # on the JVM's clock, shifted back by the skew).
        left = exp_k + run.skew - got
        stale = exp_k + run.skew - 1
        lo = got + max(left / 2.0, 300)
        hi = max(lo, stale - 60)
        next_due = lo
        parts.append("Its last credential read before the errors, about %s, saw %d s left on its clock, so the "
                     "next prefetch fell at random in %s..%s and the stale time at %s." % (
                         hms(got), round(left), hms(lo), hms(hi), hms(stale)))
    elif sdk == "v1" and got is not None:
        next_due = exp_k - V1_EXPIRATION_THRESHOLD + run.skew
        parts.append("Its last credential read before the errors was at about %s; the next reload was due at "
                     "%s." % (hms(got), hms(next_due)))
    down = overlapping(run.outages, first - 60, last)
    if down:
        f, u = down[0]
        if next_due is not None and u <= next_due:
            quiet = not [t for t, _n in credential_reads(run, mode) if f <= t <= u + 5]
            parts.append("IMDS was down %s..%s, but that did not matter here: the SDK had no read due before %s%s." % (
                hms(f), hms(u), hms(next_due), ", and its IMDS request count did not move in that window"
                if quiet and run.imds.get(mode) else ""))
        else:
            parts.append("IMDS was down %s..%s, during the episode: a %s then fails and the SDK keeps the set it "
                         "has (%s)." % (hms(f), hms(u), "prefetch" if sdk == "v2" else "reload",
                                        "`CachedSupplier.handleFetchFailure`: not stale on the JVM's clock"
                                        if sdk == "v2" else "`handleError`"))
    slow = overlapping(run.throttles, first - 60, last)
    if slow:
        parts.append("IMDS throttled (429) %s..%s." % (hms(slow[0][0]), hms(slow[0][1])))
    read = first_read_after(run, mode, last - 10)
    if run.stop is not None and last >= run.stop - 15:
        tail = "Still failing when the JVMs stopped (%s)" % hms(run.stop)
        if sdk == "v2":
            tail += "; the blocking refresh at the stale time would only come at %s (expiry + %d s)" % (
                hms(exp_k + run.skew - 1), run.skew - 1)
        parts.append(tail + ".")
    elif read is not None and read[0] <= last + 15:
        parts.append("The errors stopped when the SDK read its credentials from IMDS again, at about %s (%s after "
                     "the expiry)%s." % (hms(read[0]), signed(read[0] - exp_k),
                                         ": the jittered prefetch" if sdk == "v2" and read[0] < exp_k + run.skew - 1
                                         else ""))
    else:
        parts.append("The errors stopped at %s." % hms(last))
    return " ".join(parts), mech


def explain_skew(run, mode, ep):
    first, last, n, codes = ep
    return ("**%d skew error(s), %s..%s** (%s): the JVM's clock is %d s slow, beyond the gate's 5 minutes." % (
        n, hms(first), hms(last), _codes(codes), run.skew), V2_SKEW if sdk_of(mode) == "v2" else V1_SKEW)


def explain_other(run, mode, ep):
    first, last, n, codes = ep
    notes = []
    for kind, windows in (("throttled (429)", run.throttles), ("down", run.outages)):
        for f, u in overlapping(windows, first - 5, last + 5):
            notes.append("IMDS %s %s..%s" % (kind, hms(f), hms(u)))
    k = last_expiry_before(run, first)
    where = "after set %d's expiry (%s)" % (k, signed(first - run.sets[k][1])) if k else "before any expiry"
    return ("**%d other error(s), %s..%s** (%s), %s%s." % (
        n, hms(first), hms(last), _codes(codes), where, "; " + ", ".join(notes) if notes else ""), None)


def _codes(codes):
    return ", ".join("%s ×%d" % (c or "-", n) for c, n in sorted(codes.items(), key=lambda x: -x[1]))


def explain_clean(run, mode):
    """Why a stock mode had no error: where the SDK's refresh points fell in this run."""
    sdk = sdk_of(mode)
    reads = credential_reads(run, mode)
    lines = []
    for n in sorted(run.sets):
        if n + 1 not in run.sets:
            continue
        pub_next = run.sets[n + 1][0]
        exp_n = run.sets[n][1]
        got = [t for t, _ in reads if pub_next - 2 <= t <= exp_n]
        if got:
            lines.append("set %d read from IMDS at %s (%s after its publication, %s before set %d expired)" % (
                n + 1, hms(got[0]), signed(got[0] - pub_next), signed(exp_n - got[0]).lstrip("+"), n))
    seen = "; ".join(lines) if lines else "no credential reads sampled"
    throttled = run.imds_stats.get(mode, {}).get("by_outcome", {}).get("throttled", 0)
    if throttled:
        seen += ("; %d of its IMDS requests were answered 429 during the throttling, after which it kept the set "
                 "it had (%s)" % (throttled, "`handleError` logs the failure, the next try comes 50–70 s later"
                                  if sdk == "v1" else "`CachedSupplier.handleFetchFailure`"))
    if sdk == "v1":
        return ("No error. `BaseCredentialsFetcher` reloads at Expiration − `EXPIRATION_THRESHOLD` (15 min) on the "
                "JVM's clock; %d s slow, that is the true expiry − %d s, and IMDS published each next set %s before "
                "expiry, so the reload found it (a reload that still got the old set, or failed under throttling, "
                "is retried 50–70 s later by the `allowExpiredCredentials` branch). Seen: %s." % (
                    run.skew, V1_EXPIRATION_THRESHOLD - run.skew, _publish_ahead(run), seen))
    return ("No error. `CachedSupplier`'s jittered prefetch (now + max(time left / 2, 5 min), up to 1 min before "
            "the stale time, on the JVM's clock) happened to fall before each true expiry in this run. Seen: %s." % seen)


def _publish_ahead(run):
    aheads = sorted({run.sets[n][1] - run.sets[n + 1][0] for n in run.sets if n + 1 in run.sets})
    return "/".join("%d s" % a for a in aheads) or "?"


def root_causes(run, mode):
    """The table's root-cause cell: per error class and episode, or why there was none."""
    events = run.events.get(mode, [])
    stock = mode.startswith("stock")
    cells = []
    for outcome, explain in (("expired", explain_expired), ("skew", explain_skew), ("other", explain_other)):
        mechanisms = []
        for ep in episodes(events, outcome):
            fact, mech = explain(run, mode, ep)
            cells.append(fact)
            if mech and mech not in mechanisms:
                mechanisms.append(mech)
        cells.extend("*Why:* " + m for m in mechanisms)
    if not cells:
        if not events:
            return "no event log"
        return explain_clean(run, mode) if stock else "—"
    return "<br>".join(cells)
