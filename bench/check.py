#!/usr/bin/env python3
"""Checks that a benchmark run produced a well-formed report (what `make test` asks of
`make bench-smoke`; the figures themselves are not judged).

    bench/check.py [DIR]        (default target/bench)

results.json must be a list of entries {name, subject, unit, value, threads, ...}: subject one of
freshcreds, sdk-v2, sdk-v1; unit a non-empty string; value a finite number (positive or
non-negative where the figure cannot be otherwise); threads a positive integer. Every required
figure must be there for the subjects it has (the SDK side wherever the SDK has a counterpart),
the hot path for each API at 1, 8 and 64 threads. report.md must have its five sections.
Exits 1 listing every problem.
"""
import json
import math
import os
import sys

ALL = ("freshcreds", "sdk-v2", "sdk-v1")
FRESH = ("freshcreds",)
# name -> (subjects that must have it, the sign its value must have: "pos", "nonneg" or "any")
REQUIRED = {
    "hot-path-ns": (ALL, "pos"),
    "hot-path-bytes": (ALL, "nonneg"),
    "imds-requests-per-rotation": (ALL, "pos"),
    "imds-requests-cold-start": (ALL, "pos"),
    "first-credentials-ms": (ALL, "pos"),
    "agent-startup-added-ms": (FRESH, "any"),
    "cdylib-bytes": (FRESH, "pos"),
    "agent-jar-bytes": (FRESH, "pos"),
    "rss-added-bytes": (ALL, "any"),
    "native-threads": (ALL, "nonneg"),
}
for fault in ("stall", "throttled"):
    for p in ("p50", "p99", "p999", "max"):
        REQUIRED["refresh-%s-%s-ns" % (fault, p)] = (ALL, "pos")
# The hot path: the API methods each subject offers.
METHODS = {
    "freshcreds": ("resolveCredentials", "resolveIdentity", "getCredentials"),
    "sdk-v2": ("resolveCredentials", "resolveIdentity"),
    "sdk-v1": ("getCredentials",),
}
SECTIONS = ("## 1. Hot path", "## 2. Callers' latency during a refresh", "## 3. IMDS requests",
            "## 4. Start-up", "## 5. Footprint")


def check(d):
    problems = []
    path = os.path.join(d, "results.json")
    try:
        with open(path) as f:
            entries = json.load(f)
    except (OSError, ValueError) as e:
        return ["%s: %s" % (path, e)]
    if not isinstance(entries, list) or not entries:
        return ["%s: not a non-empty list" % path]
    seen = {}
    for i, e in enumerate(entries):
        where = "entry %d (%s)" % (i, e.get("name") if isinstance(e, dict) else e)
        if not isinstance(e, dict):
            problems.append("%s: not an object" % where)
            continue
        for key in ("name", "subject", "unit", "value", "threads"):
            if key not in e:
                problems.append("%s: no %s" % (where, key))
        if not isinstance(e.get("name"), str) or not e.get("name"):
            problems.append("%s: name is not a non-empty string" % where)
        if e.get("subject") not in ALL:
            problems.append("%s: subject %r is not one of %s" % (where, e.get("subject"), ", ".join(ALL)))
        if not isinstance(e.get("unit"), str) or not e.get("unit"):
            problems.append("%s: unit is not a non-empty string" % where)
        v = e.get("value")
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            problems.append("%s: value %r is not a finite number" % (where, v))
            continue
        t = e.get("threads")
        if isinstance(t, bool) or not isinstance(t, int) or t < 1:
            problems.append("%s: threads %r is not a positive integer" % (where, t))
        req = REQUIRED.get(e.get("name"))
        if req:
            sign = req[1]
            if (sign == "pos" and v <= 0) or (sign == "nonneg" and v < 0):
                problems.append("%s: value %r must be %s" % (where, v, "positive" if sign == "pos" else ">= 0"))
        seen.setdefault((e.get("name"), e.get("subject")), []).append(e)
    for name, (subjects, _) in sorted(REQUIRED.items()):
        for s in subjects:
            if (name, s) not in seen:
                problems.append("missing: %s for %s" % (name, s))
    for name in ("hot-path-ns", "hot-path-bytes"):
        for s, methods in METHODS.items():
            got = {(e.get("method"), e.get("threads")) for e in seen.get((name, s), [])}
            for m in methods:
                for t in (1, 8, 64):
                    if (m, t) not in got:
                        problems.append("missing: %s for %s, method %s, %d threads" % (name, s, m, t))
    report = os.path.join(d, "report.md")
    try:
        text = open(report).read()
        for section in SECTIONS:
            if section not in text:
                problems.append("%s: no section %r" % (report, section))
    except OSError as e:
        problems.append("%s: %s" % (report, e))
    return problems


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else "target/bench"
    problems = check(d)
    if problems:
        print("bench/check.py: %s is not a well-formed report:" % d, file=sys.stderr)
        for p in problems:
            print("  " + p, file=sys.stderr)
        sys.exit(1)
    with open(os.path.join(d, "results.json")) as f:
        n = len(json.load(f))
    print("bench/check.py: %s/results.json: %d entries, every required figure present and well-formed" % (d, n))


if __name__ == "__main__":
    main()
