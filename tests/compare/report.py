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

import os
import sys

from causes import hms, root_causes
from run import read_run
from timeline import svg


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
