"""One `make compare` run's files, read (tests/compare/report.py has the formats)."""

import json
import os
import re

OUTCOMES = ("ok", "expired", "skew", "other")


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
