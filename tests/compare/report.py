#!/usr/bin/env python3
"""The side-by-side report of `make compare` (tests/compare.sh), from one run's files.

Reads a run directory written by tests/sqs-scenario.sh with EVENTS=1:

  timeline.txt   the rig's schedule in Unix seconds: `skew S`, `modes M...`, `set N PUB EXP`,
                 `throttle FROM UNTIL`, `outage FROM UNTIL`, `stop T`, `gate_stats JSON`,
                 `imds_stats MODE JSON`
  MODE.events    one line per SQS call: `<epoch ms on the JVM's clock> <call> <outcome> [code]`
                 (outcome ok|expired|skew|other); the JVM clock is `skew` seconds slow, so the
                 true time is that plus `skew`
  MODE.log       the JVM's output, with its `RESULT ...` line
  imds-poll.txt  optional: `<unix s> MODE <the proxy's GET /__stats JSON>`, sampled every few
                 seconds from each mode's IMDS fault proxy (tests/compare.sh)

and writes results.txt (the RESULT lines), table.md (one row per mode, with the root cause of
each error class a stock SDK showed) and timeline.svg (calls over time by outcome per mode, the
rotations, throttling and the outage marked). Standard library only.

The root causes combine what the run shows (when the first and last error of an episode came
relative to the rig's expiry and publication times, what IMDS was doing, when the SDK next read
credentials from IMDS) with what the SDK sources say; the SDK facts are quoted from
AWS SDK for Java 2.54.14 (auth, aws-core, sdk-core; utils/cache from aws/aws-sdk-java-v2) and
1.12.797 (aws-java-sdk-core), the versions examples/sqs pins.

Usage: report.py RUN_DIR  (writes into RUN_DIR)
"""

import html
import json
import os
import re
import sys
import time

OUTCOMES = ("ok", "expired", "skew", "other")
COLOURS = {"ok": "#4caf50", "expired": "#d32f2f", "skew": "#ff9800", "other": "#757575"}
# SDK v1 BaseCredentialsFetcher.EXPIRATION_THRESHOLD (FIFTEEN_MINUTES_IN_MILLIS), in seconds.
V1_EXPIRATION_THRESHOLD = 900
V2_MODES_SDK = {"library": "v2", "agent": "v2", "stock-v2": "v2",
                "library-v1": "v1", "agent-v1": "v1", "stock-v1": "v1"}


# ===== reading a run =====

class Run:
    """One run's schedule, events, RESULT lines and IMDS samples (true Unix seconds)."""

    def __init__(self):
        self.skew = 0
        self.modes = []
        self.sets = {}  # n -> (published, expires)
        self.throttles = []
        self.outages = []
        self.stop = None
        self.gate_stats = {}
        self.imds_stats = {}
        self.events = {}  # mode -> [(t, call, outcome, code)]
        self.results = {}  # mode -> (line, {key: value})
        self.imds = {}  # mode -> [(t, total, credential reads)]


def read_run(d):
    run = Run()
    with open(os.path.join(d, "timeline.txt"), encoding="utf-8") as f:
        for line in f:
            word, _, rest = line.strip().partition(" ")
            args = rest.split()
            if word == "skew":
                run.skew = int(args[0])
            elif word == "modes":
                run.modes = args
            elif word == "set":
                run.sets[int(args[0])] = (int(args[1]), int(args[2]))
            elif word == "throttle":
                run.throttles.append((int(args[0]), int(args[1])))
            elif word == "outage":
                run.outages.append((int(args[0]), int(args[1])))
            elif word == "stop":
                run.stop = int(args[0])
            elif word == "gate_stats" and rest:
                run.gate_stats = _json(rest)
            elif word == "imds_stats" and len(args) > 1:
                run.imds_stats[args[0]] = _json(rest.partition(" ")[2])
    for m in run.modes:
        run.events[m] = read_events(os.path.join(d, m + ".events"), run.skew)
        run.results[m] = read_result(os.path.join(d, m + ".log"), m)
        run.imds[m] = []
    poll = os.path.join(d, "imds-poll.txt")
    if os.path.exists(poll):
        with open(poll, encoding="utf-8") as f:
            for line in f:
                p = line.split(" ", 2)
                if len(p) == 3 and p[1] in run.imds:
                    stats = _json(p[2])
                    if isinstance(stats, dict) and "total" in stats:
                        run.imds[p[1]].append((float(p[0]), int(stats["total"]), credential_count(stats)))
    return run


def _json(text):
    try:
        return json.loads(text)
    except ValueError:
        return {}


CREDENTIALS_PATH = "/latest/meta-data/iam/security-credentials/"


def credential_count(stats):
    """Requests for a role's credentials document (not the role list) in a proxy's counts."""
    return sum(n for path, n in stats.get("by_path", {}).items()
               if path.startswith(CREDENTIALS_PATH) and path.rstrip("/") != CREDENTIALS_PATH.rstrip("/"))


def read_events(path, skew):
    out = []
    if not os.path.exists(path):
        return out
    with open(path, encoding="utf-8") as f:
        for line in f:
            p = line.split()
            if len(p) >= 3 and p[0].isdigit() and p[2] in OUTCOMES:
                out.append((int(p[0]) / 1000.0 + skew, p[1], p[2], p[3] if len(p) > 3 else ""))
    out.sort()
    return out


def read_result(path, mode):
    line = None
    if os.path.exists(path):
        with open(path, encoding="utf-8", errors="replace") as f:
            for raw in f:
                m = re.search(r"RESULT mode=\S+ .*", raw)
                if m:
                    line = m.group(0).strip()
    if line is None:
        return ("RESULT mode=%s missing" % mode, {})
    return (line, dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv))


# ===== analysis =====

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


# ===== writing =====

COLUMNS = ("sent", "received", "expired_token_errors", "skew_errors", "other_errors", "imds_requests")


def table(run):
    out = ["| mode | " + " | ".join(COLUMNS) + " | root cause |",
           "|---|" + "---:|" * len(COLUMNS) + "---|"]
    for m in run.modes:
        _line, kv = run.results[m]
        out.append("| `%s` | %s | %s |" % (m, " | ".join(kv.get(c, "missing") for c in COLUMNS),
                                           root_causes(run, m).replace("|", "\\|")))
    notes = []
    by = run.gate_stats.get("by_outcome") if isinstance(run.gate_stats, dict) else None
    if by:
        notes.append("The gate's own counts, all modes (errors the SDKs retried on their own included): "
                     + ", ".join("%s %s" % (k, v) for k, v in sorted(by.items())) + ".")
    notes.append("Times are UTC. Schedule: " + "; ".join(
        "set %d published %s, expires %s" % (n, hms(p), hms(e)) for n, (p, e) in sorted(run.sets.items()))
        + "".join("; IMDS throttling %s..%s" % (hms(f), hms(u)) for f, u in run.throttles)
        + "".join("; IMDS down %s..%s" % (hms(f), hms(u)) for f, u in run.outages)
        + "; JVM clocks %d s slow." % run.skew)
    return "\n".join(out) + "\n\n" + "\n\n".join(notes) + "\n"


def svg(run, width=1200):
    """Calls per time bin, stacked by outcome, one lane per mode; IMDS reads under each lane."""
    starts = [p for p, _ in run.sets.values()]
    ends = [run.stop or 0] + [ev[-1][0] for ev in run.events.values() if ev]
    t0 = min(starts + [ev[0][0] for ev in run.events.values() if ev])
    t1 = max(ends) + 5
    span = max(t1 - t0, 1.0)
    left, right, top, lane_h, imds_h, gap = 110, 20, 90, 90, 22, 18
    plot_w = width - left - right
    height = top + len(run.modes) * (lane_h + imds_h + gap) + 50
    bin_s = max(5, int(span / 160))
    nbins = int(span // bin_s) + 1

    def x(t):
        return left + (t - t0) / span * plot_w

    counts = {}
    peak = 1
    for m in run.modes:
        c = [{o: 0 for o in OUTCOMES} for _ in range(nbins)]
        for t, _call, o, _code in run.events.get(m, []):
            i = int((t - t0) // bin_s)
            if 0 <= i < nbins:
                c[i][o] += 1
        counts[m] = c
        # The scale comes from the main loop: after the stop, an app whose receives fail at once
        # spins through its drain, and those bars are drawn clipped, with their count on top.
        last = nbins if run.stop is None else max(1, int((run.stop - t0) // bin_s))
        peak = max([peak] + [sum(b.values()) for b in c[:last]])
    reads = {m: credential_reads(run, m) for m in run.modes}
    imds_peak = max([1] + [n for r in reads.values() for _t, n in r])

    el = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" '
          'font-family="sans-serif" font-size="11">' % (width, height, width, height),
          '<rect width="100%" height="100%" fill="white"/>',
          '<text x="%d" y="18" font-size="14" font-weight="bold">SQS calls per %d s by outcome '
          '(true time, UTC); JVM clocks %d s slow</text>' % (left, bin_s, run.skew)]
    # Legend.
    lx = left
    for o, label in (("ok", "ok"), ("expired", "ExpiredToken"), ("skew", "skew error"), ("other", "other error")):
        el.append('<rect x="%d" y="28" width="10" height="10" fill="%s"/><text x="%d" y="37">%s</text>'
                  % (lx, COLOURS[o], lx + 14, label))
        lx += 110
    el.append('<rect x="%d" y="28" width="10" height="10" fill="#7b1fa2"/><text x="%d" y="37">IMDS credential '
              'reads</text>' % (lx, lx + 14))
    lx += 150
    el.append('<rect x="%d" y="28" width="10" height="10" fill="#fff176"/><text x="%d" y="37">IMDS throttling '
              '(429)</text>' % (lx, lx + 14))
    lx += 140
    el.append('<rect x="%d" y="28" width="10" height="10" fill="#bdbdbd"/><text x="%d" y="37">IMDS down</text>'
              % (lx, lx + 14))
    bottom = height - 40
    # Fault windows and rotation markers, across every lane.
    for cls, fill, windows in (("throttle", "#fff176", run.throttles), ("outage", "#bdbdbd", run.outages)):
        for f0, u0 in windows:
            f, u = max(f0, t0), min(u0, t1)  # drawn within the plot, titled with the whole window
            if u <= f:
                continue
            el.append('<rect class="%s" x="%.1f" y="%d" width="%.1f" height="%d" fill="%s" fill-opacity="0.6">'
                      '<title>IMDS %s %s..%s</title></rect>' % (
                          cls, x(f), top - 10, max(x(u) - x(f), 1), bottom - top + 10, fill,
                          "throttling" if cls == "throttle" else "down", hms(f0), hms(u0)))
    if run.stop is not None and t0 <= run.stop <= t1:
        el.append('<line class="stop" x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#000" stroke-dasharray="1 3">'
                  '<title>JVMs told to stop %s (then each drains its queue)</title></line>' % (
                      x(run.stop), top - 10, x(run.stop), bottom, hms(run.stop)))
    row = 0
    for n, (p, e) in sorted(run.sets.items()):
        for cls, t, colour, label in (("publish", p, "#1565c0", "set %d published" % n),
                                      ("expiry", e, "#b71c1c", "set %d expires" % n)):
            if not t0 <= t <= t1:
                continue
            el.append('<line class="%s" x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-dasharray="4 3">'
                      '<title>%s %s</title></line>' % (cls, x(t), top - 22, x(t), bottom, colour, label, hms(t)))
            el.append('<text x="%.1f" y="%d" fill="%s" font-size="10">%s</text>' % (
                x(t) + 2, top - 24 - 11 * (row % 2), colour, html.escape(label)))
            row += 1
    # Lanes.
    for li, m in enumerate(run.modes):
        y0 = top + li * (lane_h + imds_h + gap)
        base = y0 + lane_h
        el.append('<text x="8" y="%d" font-weight="bold">%s</text>' % (y0 + lane_h / 2, html.escape(m)))
        _line, kv = run.results[m]
        el.append('<text x="8" y="%d" font-size="9">expired %s, skew %s</text>' % (
            y0 + lane_h / 2 + 13, kv.get("expired_token_errors", "?"), kv.get("skew_errors", "?")))
        el.append('<text x="8" y="%d" font-size="9">other %s, IMDS %s</text>' % (
            y0 + lane_h / 2 + 25, kv.get("other_errors", "?"), kv.get("imds_requests", "?")))
        el.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333"/>' % (left, base, width - right, base))
        bw = max(plot_w / nbins - 0.5, 0.5)
        for i, b in enumerate(counts[m]):
            y = base
            total = sum(b.values())
            fit = min(1.0, peak / total) if total else 1.0
            if fit < 1.0:
                el.append('<text x="%.1f" y="%d" font-size="8" text-anchor="middle">%d</text>' % (
                    left + (i + 0.5) * plot_w / nbins, y0 - 4 - 8 * (i % 2), total))
            for o in OUTCOMES:
                if b[o]:
                    h = b[o] * fit / peak * (lane_h - 4)
                    y -= h
                    el.append('<rect class="%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s">'
                              '<title>%s %s: %d %s</title></rect>' % (
                                  o, left + i * plot_w / nbins, y, bw, h, COLOURS[o], m,
                                  hms(t0 + i * bin_s), b[o], o))
        for t, n in reads[m]:
            h = max(2.0, (n / imds_peak) ** 0.5 * (imds_h - 4))
            el.append('<rect class="imds" x="%.1f" y="%.1f" width="2" height="%.1f" fill="#7b1fa2">'
                      '<title>%s: %d IMDS credential reads by %s</title></rect>' % (
                          x(t) - 1, base + imds_h - h, h, m, n, hms(t)))
        el.append('<text x="%d" y="%d" font-size="9" fill="#7b1fa2">IMDS reads</text>' % (
            left - 52, base + imds_h - 4))
    # Time axis: minutes since the first set was published.
    step = 60 if span <= 1800 else 120
    if span < 300:
        step = 15
    t = t0
    el.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333"/>' % (left, bottom, width - right, bottom))
    while t <= t1:
        el.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#333"/><text x="%.1f" y="%d" '
                  'text-anchor="middle" font-size="9">%s</text>' % (
                      x(t), bottom, x(t), bottom + 4, x(t), bottom + 15, hms(t)[:5] if step >= 60 else hms(t)))
        t += step
    el.append('<text x="%d" y="%d" font-size="10">UTC; %d s per bar; the scale is the same in every lane '
              '(%d calls for a full lane; taller bars, after the stop line, are cut and labelled)</text>'
              % (left, bottom + 32, bin_s, peak))
    el.append("</svg>")
    return "\n".join(el) + "\n"


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: report.py RUN_DIR\n")
        return 2
    d = argv[1]
    run = read_run(d)
    with open(os.path.join(d, "results.txt"), "w", encoding="utf-8") as f:
        f.write("".join(run.results[m][0] + "\n" for m in run.modes))
    with open(os.path.join(d, "table.md"), "w", encoding="utf-8") as f:
        f.write(table(run))
    with open(os.path.join(d, "timeline.svg"), "w", encoding="utf-8") as f:
        f.write(svg(run))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
