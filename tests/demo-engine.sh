#!/usr/bin/env bash
# The engine demo: `freshcreds watch` against AEMM (IMDSv2) and chrony on loopback, with
# the host clock 10 minutes behind the NTP server, through several credential rotations.
#
# Credentials live LIFETIME seconds (true time = the NTP server's time). IMDS publishes the
# next set a third of the lifetime before the current one expires, as real IMDS publishes
# new credentials well before expiry. Without the skew correction the host would believe
# every set has 10 more minutes to live and refresh far too late; the demo checks that each
# new set was picked up before the previous one expired.
set -euo pipefail
cd "$(dirname "$0")/.."

ROTATIONS=${ROTATIONS:-4}
LIFETIME=${LIFETIME:-30}
SKEW=600
NTP_PORT=${NTP_PORT:-11190}
BIN=${FRESHCREDS_BIN:-target/release/freshcreds}
work=$(mktemp -d)
watch_pid=

cleanup() {
    [[ -n $watch_pid ]] && kill "$watch_pid" 2>/dev/null || true
    tests/rig/aemm.sh stop "${AEMM_CONFIG:-}" >/dev/null 2>&1 || true
    NTP_PORT=$NTP_PORT tests/rig/chrony.sh stop >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

[[ -x $BIN ]] || cargo build --release -q -p freshcreds --bin freshcreds
tests/rig/install.sh

eval "$(tests/rig/aemm.sh start)"
eval "$(NTP_PORT=$NTP_PORT tests/rig/chrony.sh start "+${SKEW}s")"

true_now() { echo $(($(date +%s) + SKEW)); }
stamp() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
publish() { # N ISSUED: set N issued at true time ISSUED
    local n=$1 issued=$2
    tests/rig/aemm.sh rotate "$AEMM_CONFIG" "$(printf 'ASIADEMO%012d' "$n")" "demo-secret-$n" \
        "demo-token-$n" "$(stamp $((issued + LIFETIME)))" "$(stamp "$issued")" >/dev/null
    echo "$((issued + LIFETIME))" >"$work/expiry-$n"
}

echo "== IMDS: $AEMM_URL (IMDSv2 required)   NTP: $NTP_SERVER (host clock ${SKEW}s slow)"
echo "== $ROTATIONS rotations of ${LIFETIME}s credentials; IMDS publishes each next set $((LIFETIME / 3))s before expiry"
issued=$(true_now)
publish 1 "$issued"

FRESHCREDS_LOG=${FRESHCREDS_LOG:-warn} "$BIN" --imds-endpoint "$AEMM_URL" --ntp-server "$NTP_SERVER" watch \
    > >(tee "$work/watch.log") &
watch_pid=$!

for n in $(seq 2 $((ROTATIONS + 1))); do
    publish_at=$((issued + LIFETIME - LIFETIME / 3))
    while (($(true_now) < publish_at)); do sleep 0.2; done
    issued=$(true_now)
    publish "$n" "$issued"
    echo "-- IMDS now serves set $n (the previous set expires in $((LIFETIME / 3))s)"
done
# Let the last published set be picked up.
deadline=$(($(date +%s) + LIFETIME))
until grep -q "refreshed seq=$((ROTATIONS + 1)) " "$work/watch.log" || (($(date +%s) > deadline)); do sleep 0.2; done
kill "$watch_pid" 2>/dev/null || true
wait "$watch_pid" 2>/dev/null || true
watch_pid=

# Check: set N was refreshed (corrected clock) before set N-1 expired.
on_time=0
late=0
for n in $(seq 2 $((ROTATIONS + 1))); do
    line=$(grep "refreshed seq=$n " "$work/watch.log" || true)
    if [[ -z $line ]]; then
        late=$((late + 1))
        continue
    fi
    at=$(date -u -d "${line%% *}" +%s)
    if ((at < $(cat "$work/expiry-$((n - 1))"))); then on_time=$((on_time + 1)); else late=$((late + 1)); fi
done
skew=$(grep -o 'skew [+-][0-9.]*s source=ntp' "$work/watch.log" | tail -n 1 | awk '{print $2}' || true)
echo "RESULT rotations=$ROTATIONS refreshed_before_expiry=$on_time late_or_missing=$late skew=${skew:-unmeasured}"
((late == 0))
