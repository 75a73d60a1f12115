#!/usr/bin/env bash
# `make compare`: the demo's scenarios (tests/sqs-scenario.sh) for freshcreds and the stock SDKs
# side by side on one rig, with EC2's time scale instead of the demo's compressed one, so the
# SDKs' own timing constants (v1's 15-minute EXPIRATION_THRESHOLD, v2's prefetch at half the
# time left, at least 5 minutes) meet the lifetimes they were written for:
#
#   modes library, agent, stock-v2, stock-v1, one JVM each, all at once, clocks 10 min slow;
#   set 1 lives BOOT (9 min: the JVMs start meanwhile), then 15-minute credentials, IMDS
#   publishing each next set 5 minutes before the current one expires;
#   IMDS throttling (429) from 1 minute before to 1 minute after the first rotation's
#   publication; IMDS down from 1 minute after the second publication until 1 minute after
#   the old set's expiry; the JVMs run on for TAIL (6 min) after that expiry, so an SDK
#   that keeps an expired set shows whether and when it recovers.
#
# About 27 minutes. Writes under target/compare/ (OUT_DIR): results.txt (the RESULT lines),
# MODE.events (one line per SQS call), MODE.log, timeline.txt (the rig's schedule),
# imds-poll.txt (each mode's IMDS counts every 5 s), table.md (a row per mode, with each stock
# error's root cause) and timeline.svg (tests/compare/report.py). Exits 0 when the report was
# written and the freshcreds modes (library*, agent*) had no error and lost no message; stock
# modes failing is what this measures, not a failure of the run.
#
# Every setting of tests/sqs-scenario.sh can be overridden (e.g. a compressed trial:
# LIFETIME=90 PUBLISH_AHEAD=30 BOOT=60 TAIL=20 THROTTLE_AROUND=5 OUTAGE_AFTER_PUBLISH=5
# OUTAGE_PAST_EXPIRY=5 make compare); AGENT_JAR names the agent jar to use, SIGV4_GATE_BIN and
# IMDS_FAULT_PROXY_BIN prebuilt rig binaries (tests/rig/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

export OUT_DIR=${OUT_DIR:-$ROOT/target/compare}
export DEMO_MODES=${COMPARE_MODES:-"library agent stock-v2 stock-v1"}
export LIFETIME=${LIFETIME:-900} PUBLISH_AHEAD=${PUBLISH_AHEAD:-300} BOOT=${BOOT:-540}
export ROTATIONS=${ROTATIONS:-2} SKEW=${SKEW:-600} TAIL=${TAIL:-360}
export THROTTLE_AROUND=${THROTTLE_AROUND:-60} OUTAGE_AFTER_PUBLISH=${OUTAGE_AFTER_PUBLISH:-60}
export OUTAGE_PAST_EXPIRY=${OUTAGE_PAST_EXPIRY:-60}
# Three calls (send, receive, delete) every 300 ms per mode: enough to see each second, little
# enough that four JVMs, moto and the gate share two cores without starving the timeline.
export INTERVAL_MS=${INTERVAL_MS:-300} EVENTS=1

mkdir -p "$OUT_DIR"
# Only this run's outputs go; anything else kept there (e.g. a copy of the agent jar) stays.
rm -f "$OUT_DIR"/*.events "$OUT_DIR"/*.log "$OUT_DIR"/timeline.txt "$OUT_DIR"/imds-poll.txt \
    "$OUT_DIR"/results.txt "$OUT_DIR"/table.md "$OUT_DIR"/timeline.svg "$OUT_DIR"/stop
rm -f "$OUT_DIR"/proxy-*.env
started=$(date +%s)

# IMDS counts per mode every 5 s, for the picture: the scenario writes each proxy's admin URL
# to proxy-MODE.env as it starts it; sampling ends with this script.
(
    exec >>"$OUT_DIR/imds-poll.txt" 2>/dev/null
    while sleep 5; do
        for f in "$OUT_DIR"/proxy-*.env; do
            [[ -f $f ]] || continue
            m=${f##*/proxy-}
            m=${m%.env}
            admin=$(sed -n 's/^IMDS_PROXY_ADMIN=//p' "$f")
            stats=$(curl -sf --noproxy '*' --max-time 2 "$admin/__stats" | tr -d '\n') || continue
            echo "$(date +%s) $m $stats"
        done
    done
) &
poller=$!
trap 'kill "$poller" 2>/dev/null || true' EXIT

scenario=0
tests/demo.sh || scenario=$?
kill "$poller" 2>/dev/null || true
# The sessions' and moto's admin keys (fake, valid only in the moto that is gone now) need not
# stay around.
rm -f "$OUT_DIR"/set-*.env "$OUT_DIR"/moto.env

python3 tests/compare/report.py "$OUT_DIR"
echo "== compare: done in $(($(date +%s) - started))s (scenario exit $scenario);" \
    "$OUT_DIR/table.md, $OUT_DIR/timeline.svg"
cat "$OUT_DIR/results.txt"

status=0
while read -r line; do
    mode=$(sed -n 's/^RESULT mode=\([^ ]*\).*/\1/p' <<<"$line")
    [[ $mode == library* || $mode == agent* ]] || continue
    sent=$(sed -n 's/.* sent=\([0-9]*\).*/\1/p' <<<"$line")
    received=$(sed -n 's/.* received=\([0-9]*\).*/\1/p' <<<"$line")
    if [[ $line != *" expired_token_errors=0 skew_errors=0 other_errors=0 "* || -z $sent || $sent != "$received" ]]; then
        echo "compare: freshcreds mode $mode failed: $line" >&2
        status=1
    fi
done <"$OUT_DIR/results.txt"
exit $status
