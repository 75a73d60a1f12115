#!/usr/bin/env bash
# The SQS example (examples/sqs) end to end on the rig, in compressed time:
#
#   JVM (clock SKEW s slow, libfaketime) ──IMDS──> imds-fault-proxy ──> AEMM (IMDSv2 required)
#       │                                └─ one proxy per mode, so each has its own faults and counts
#       ├──NTP──> chrony (true time)
#       └──SQS──> sigv4-gate (ExpiredToken past the rig's expiry, 5-minute skew) ──> moto (auth on)
#
# Every credential set is a real moto AssumeRole session. Set 1 lasts 10 minutes and carries
# the JVMs through their start; once every JVM has its queue, the timeline begins: sets 2 ..
# ROTATIONS+1 live LIFETIME seconds each, the gate is told each expiry and AEMM serves it
# (Expiration, LastUpdated), and IMDS publishes each next set PUBLISH_AHEAD seconds (default a
# third of the lifetime) before the current one expires. Faults (all proxies alike):
#   rotation 1: IMDS throttles (429, Retry-After: 1) from THROTTLE_AROUND seconds (default
#               LIFETIME/6) before to THROTTLE_AROUND after the publication;
#   rotation 2: IMDS goes down (connections refused) OUTAGE_AFTER_PUBLISH seconds (default
#               LIFETIME/6) after publishing the next set and stays down until
#               OUTAGE_PAST_EXPIRY seconds (default LIFETIME/6) after the old set expired;
#   HOP_LIMIT=1: token PUTs are never answered (container hop-limit symptom) from each JVM's
#               start until HOP_LIMIT_SECONDS after its first one was dropped.
# Each mode runs in its own JVM, all at once; each prints PROGRESS lines and a RESULT line.
# The script ends with the RESULT lines and exits 0 only if every mode had
# expired_token_errors=0, skew_errors=0 and received every message it sent.
#
# Settings (environment): MODES (default "agent"), LIFETIME (60), BOOT (90: set 1's lifetime),
# ROTATIONS (4), SKEW (600: the JVM clock is that many seconds slow), PUBLISH_AHEAD,
# THROTTLE_AROUND, OUTAGE_AFTER_PUBLISH, OUTAGE_PAST_EXPIRY (above), TAIL (5: the JVMs stop
# that many seconds after the last rotation's old set expired), INTERVAL_MS (200: between a
# mode's send+receive rounds), EVENTS (0; 1: each JVM logs one line per SQS call to
# MODE.events), HOP_LIMIT (0), HOP_LIMIT_SECONDS (5), OUT_DIR (a
# temporary directory; logs stay there when set, with timeline.txt: the rig's schedule, one
# event per line in Unix seconds, and the gate's and proxies' final counts). Needs: the example built
# (examples/sqs/target), the agent jar for agent modes (AGENT_JAR), the rig installed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

MODES=${MODES:-agent}
LIFETIME=${LIFETIME:-60}
BOOT=${BOOT:-90}
ROTATIONS=${ROTATIONS:-4}
SKEW=${SKEW:-600}
HOP_LIMIT=${HOP_LIMIT:-0}
HOP_LIMIT_SECONDS=${HOP_LIMIT_SECONDS:-5}
PUBLISH_AHEAD=${PUBLISH_AHEAD:-$((LIFETIME / 3))}
THROTTLE_AROUND=${THROTTLE_AROUND:-$((LIFETIME / 6))}
OUTAGE_AFTER_PUBLISH=${OUTAGE_AFTER_PUBLISH:-$((LIFETIME / 6))}
OUTAGE_PAST_EXPIRY=${OUTAGE_PAST_EXPIRY:-$((LIFETIME / 6))}
TAIL=${TAIL:-5}
INTERVAL_MS=${INTERVAL_MS:-200}
EVENTS=${EVENTS:-0}
AGENT_JAR=${AGENT_JAR:-$ROOT/java/freshcreds-agent/target/freshcreds-agent-0.1.0.jar}
EXAMPLE_CP="$ROOT/examples/sqs/target/sqs-example.jar:$ROOT/examples/sqs/target/lib/*"
export FRESHCREDS_RIG_DIR=${FRESHCREDS_RIG_DIR:-$ROOT/target/rig}
export RIG_OWNER_PID=$$

if [[ -n ${OUT_DIR:-} ]]; then
    mkdir -p "$OUT_DIR"
    work=$OUT_DIR
else
    work=$(mktemp -d)
fi
pids=()
helpers=()
proxies=()
declare -A proxy_url proxy_admin

cleanup() {
    local p
    for p in "${pids[@]}" "${helpers[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${proxies[@]}"; do tests/rig/imds-proxy.sh stop "$p" >/dev/null 2>&1 || true; done
    [[ -n ${GATE_URL:-} ]] && tests/rig/gate.sh stop "${GATE_URL##*:}" >/dev/null 2>&1 || true
    [[ -n ${MOTO_URL:-} ]] && tests/rig/moto.sh stop "${MOTO_URL##*:}" >/dev/null 2>&1 || true
    [[ -n ${AEMM_CONFIG:-} ]] && tests/rig/aemm.sh stop "$AEMM_CONFIG" >/dev/null 2>&1 || true
    [[ -n ${NTP_PORT:-} ]] && tests/rig/chrony.sh stop "$NTP_PORT" >/dev/null 2>&1 || true
    [[ -z ${OUT_DIR:-} ]] && rm -rf "$work"
    return 0
}
trap cleanup EXIT

say() { echo "== $(date -u +%H:%M:%S) $*"; }
stamp() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
kv() { # KEY FILE: the value of a KEY=value line
    sed -n "s/^$1=//p" "$2" | head -n 1
}

for m in $MODES; do
    if [[ $m == agent* && ! -f $AGENT_JAR ]]; then
        echo "sqs-scenario: agent jar $AGENT_JAR is missing (build java/freshcreds-agent)" >&2
        exit 2
    fi
done
[[ -f $ROOT/examples/sqs/target/sqs-example.jar ]] || {
    echo "sqs-scenario: build the example first (mvn -f examples/sqs/pom.xml package)" >&2
    exit 2
}

# ===== the rig =====
started=$(date +%s)
export NTP_PORT=$((20000 + RANDOM % 20000))
tests/rig/chrony.sh start >"$work/chrony.env"
NTP_SERVER=$(kv NTP_SERVER "$work/chrony.env")
unset AEMM_PORT MOTO_PORT GATE_PORT GATE_ADMIN_PORT IMDS_PROXY_PORT IMDS_PROXY_ADMIN_PORT
tests/rig/aemm.sh start >"$work/aemm.env"
AEMM_URL=$(kv AEMM_URL "$work/aemm.env")
AEMM_CONFIG=$(kv AEMM_CONFIG "$work/aemm.env")
tests/rig/moto.sh start >"$work/moto.env"
MOTO_URL=$(kv MOTO_URL "$work/moto.env")
tests/rig/gate.sh start "$MOTO_URL" >"$work/gate.env"
GATE_URL=$(kv GATE_URL "$work/gate.env")
GATE_ADMIN=$(kv GATE_ADMIN "$work/gate.env")
for m in $MODES; do
    tests/rig/imds-proxy.sh start "$AEMM_URL" >"$work/proxy-$m.env"
    proxy_url[$m]=$(kv IMDS_PROXY_URL "$work/proxy-$m.env")
    proxy_admin[$m]=$(kv IMDS_PROXY_ADMIN "$work/proxy-$m.env")
    proxies+=("${proxy_url[$m]##*:}")
done
say "rig up in $(($(date +%s) - started))s: AEMM $AEMM_URL (IMDSv2 required) behind a fault proxy per mode," \
    "moto $MOTO_URL behind sigv4-gate $GATE_URL, chrony $NTP_SERVER; JVM clock ${SKEW}s slow"

# fault JSON: the same rule on every mode's proxy.
fault() {
    local m
    for m in $MODES; do
        IMDS_PROXY_ADMIN=${proxy_admin[$m]} tests/rig/imds-proxy.sh fault "$1" >/dev/null ||
            echo "sqs-scenario: fault not set on $m's proxy: $1" >&2
    done
}

# session N: a fresh moto AssumeRole session, kept in $work/set-N.env (mode 600).
session() {
    (umask 077 && tests/rig/moto.sh assume-role "${MOTO_URL##*:}" 900 "demo-$1" >"$work/set-$1.env")
}
# register N EXPIRY: the gate learns set N and the expiry the rig gives it (what
# `gate.sh register` does, in one curl: this runs on the timeline, on a busy machine).
register() {
    local f=$work/set-$1.env
    printf '{"AccessKeyId":"%s","SecretAccessKey":"%s","Token":"%s","Expiration":"%s"}' \
        "$(kv AWS_ACCESS_KEY_ID "$f")" "$(kv AWS_SECRET_ACCESS_KEY "$f")" "$(kv AWS_SESSION_TOKEN "$f")" \
        "$(stamp "$2")" |
        curl -sf --noproxy '*' --max-time 10 -o /dev/null -H 'Content-Type: application/json' \
            --data-binary @- "$GATE_ADMIN/keys"
}
# publish N ISSUED EXPIRY: AEMM serves set N (LastUpdated ISSUED, Expiration EXPIRY).
publish() {
    local f=$work/set-$1.env
    tests/rig/aemm.sh rotate "$AEMM_CONFIG" "$(kv AWS_ACCESS_KEY_ID "$f")" "$(kv AWS_SECRET_ACCESS_KEY "$f")" \
        "$(kv AWS_SESSION_TOKEN "$f")" "$(stamp "$3")" "$(stamp "$2")" >/dev/null
}
wait_until() { while (($(date +%s) < $1)); do sleep 0.1; done; }

third=$PUBLISH_AHEAD
sets=$((ROTATIONS + 1))
# All sessions up front: moto's AssumeRole takes a second or more on a busy machine, and the
# timeline must not wait for it. moto gives them 900 s; the rig's own, shorter expiry is what
# the gate enforces and AEMM serves.
for n in $(seq 1 $sets); do session "$n"; done
# The whole timeline is fixed now. Set 1 lives BOOT seconds (the JVMs start meanwhile); set
# k >= 2 is published PUBLISH_AHEAD s before set k-1 expires and lives LIFETIME s.
declare -A pub exp
pub[1]=$(date +%s)
exp[1]=$((pub[1] + BOOT))
for n in $(seq 2 $sets); do
    pub[$n]=$((exp[$((n - 1))] - third))
    exp[$n]=$((pub[$n] + LIFETIME))
done
for n in $(seq 1 $sets); do register "$n" "${exp[$n]}"; done
publish 1 "${pub[1]}" "${exp[1]}"
# The schedule, for whoever draws the run afterwards (tests/compare): Unix seconds.
timeline=$work/timeline.txt
{
    echo "skew $SKEW"
    echo "modes $MODES"
    for n in $(seq 1 $sets); do echo "set $n ${pub[$n]} ${exp[$n]}"; done
} >"$timeline"
# rotation 1 (set 1 -> 2): throttling around it; rotation 2 (set 2 -> 3): an outage that
# begins after the new set is out and lasts past the old set's expiry.
t_from=$((pub[2] - THROTTLE_AROUND)) t_until=$((pub[2] + THROTTLE_AROUND))
fault "{\"mode\":\"throttle\",\"retry_after\":1,\"from\":$t_from,\"until\":$t_until}"
echo "throttle $t_from $t_until" >>"$timeline"
say "rotation 1: IMDS will throttle (429, Retry-After: 1) $(stamp "$t_from") .. $(stamp "$t_until")"
if ((ROTATIONS >= 2)); then
    o_from=$((pub[3] + OUTAGE_AFTER_PUBLISH)) o_until=$((exp[2] + OUTAGE_PAST_EXPIRY))
    fault "{\"mode\":\"outage\",\"from\":$o_from,\"until\":$o_until}"
    echo "outage $o_from $o_until" >>"$timeline"
    say "rotation 2: IMDS will be down $(stamp "$o_from") .. $(stamp "$o_until"), across set 2's expiry $(stamp "${exp[2]}")"
fi
say "$ROTATIONS rotations of ${LIFETIME}s credentials (moto AssumeRole sessions) after a ${BOOT}s first set;" \
    "IMDS publishes each next set ${third}s before the current one expires"

# ===== the JVMs =====
# A private copy of the agent jar: a rebuild of java/freshcreds-agent during the run must
# not change the jar under a running JVM.
if [[ " $MODES" == *" agent"* ]]; then
    cp "$AGENT_JAR" "$work/freshcreds-agent.jar"
    AGENT_JAR=$work/freshcreds-agent.jar
fi
faketime_lib=$(tests/rig/faketime-lib.sh)
stop_file=$work/stop
: >"$work/aws-config"
: >"$work/aws-credentials"
rm -f "$stop_file"
for m in $MODES; do
    if ((HOP_LIMIT)); then
        # Until the JVM's first token PUT has been dropped, and HOP_LIMIT_SECONDS more.
        rule=$(IMDS_PROXY_ADMIN=${proxy_admin[$m]} tests/rig/imds-proxy.sh fault '{"mode":"drop_token_put"}')
        (
            deadline=$(($(date +%s) + 240))
            until curl -sf --noproxy '*' "${proxy_admin[$m]}/__stats" | grep -q '"dropped_token_put"' ||
                (($(date +%s) > deadline)); do sleep 0.5; done
            sleep "$HOP_LIMIT_SECONDS"
            curl -sf --noproxy '*' -X DELETE -o /dev/null "${proxy_admin[$m]}/__fault/${rule#IMDS_PROXY_RULES=}" || true
            say "$m: token PUTs answered again (dropped until ${HOP_LIMIT_SECONDS}s after the first one)"
        ) &
        helpers+=($!)
    fi
    jvm=(java -Djava.util.logging.SimpleFormatter.format='%1$tT %4$s %3$s: %5$s%6$s%n'
        -Dfreshcreds.native.workdir="$work")
    case $m in
        agent*) jvm+=("-javaagent:$AGENT_JAR=endpoint=${proxy_url[$m]},ntp=$NTP_SERVER,wait=15s,log=warn") ;;
        library*) jvm+=(-Dfreshcreds.imdsEndpoint="${proxy_url[$m]}" -Dfreshcreds.ntpServers="$NTP_SERVER") ;;
    esac
    queue="sqs-$m-$RANDOM"
    events=()
    ((EVENTS)) && events=(--events "$work/$m.events")
    # A clean AWS environment: no credentials anywhere but IMDS; SQS and IMDS on loopback.
    env -i PATH="$PATH" HOME="$work" JAVA_HOME="${JAVA_HOME:-}" LANG=C.UTF-8 \
        LD_PRELOAD="$faketime_lib" FAKETIME="-${SKEW}s" FAKETIME_DONT_FAKE_MONOTONIC=1 \
        AWS_REGION=us-east-1 AWS_ENDPOINT_URL_SQS="$GATE_URL" \
        AWS_EC2_METADATA_SERVICE_ENDPOINT="${proxy_url[$m]}" \
        AWS_CONFIG_FILE="$work/aws-config" AWS_SHARED_CREDENTIALS_FILE="$work/aws-credentials" \
        AWS_JAVA_V1_DISABLE_DEPRECATION_ANNOUNCEMENT=true IMDS_PROXY_ADMIN="${proxy_admin[$m]}" \
        "${jvm[@]}" -cp "$EXAMPLE_CP" example.sqs.SqsExample --mode "$m" --queue "$queue" \
        --duration 1800 --stop-file "$stop_file" --interval-ms "$INTERVAL_MS" --progress 5 --drain 20 \
        "${events[@]}" \
        > >(sed -u "s/^/[$m] /" | tee "$work/$m.log") 2>&1 &
    pids+=($!)
done

# ===== the timeline =====
lead=3
# (The JVMs start while set 1 is current; a slow start only means they see fewer rotations.)
for n in $(seq 2 $sets); do
    # Start AEMM's rotation early by what the last one took, so it is served on time.
    wait_until $((pub[$n] - lead))
    t=$(date +%s%N)
    publish "$n" "${pub[$n]}" "${exp[$n]}"
    lead=$(((($(date +%s%N) - t) / 1000000000) + 1))
    say "rotation $((n - 1)): IMDS serves set $n; set $((n - 1)) expires $(stamp "${exp[$((n - 1))]}"), in $((exp[$((n - 1))] - $(date +%s)))s"
done
wait_until $((pub[$sets] + third + TAIL))
touch "$stop_file"
echo "stop $(date +%s)" >>"$timeline"

status=0
for p in "${pids[@]}"; do wait "$p" || true; done
pids=()
gate_stats=$(curl -sf --noproxy '*' "$GATE_ADMIN/stats" | tr -d '\n' || true)
echo "gate_stats $gate_stats" >>"$timeline"
say "gate: $(echo "$gate_stats" | grep -o '"by_outcome":{[^}]*}' || echo "$gate_stats")"
for m in $MODES; do
    imds_stats=$(curl -sf --noproxy '*' "${proxy_admin[$m]}/__stats" | tr -d '\n' || true)
    echo "imds_stats $m $imds_stats" >>"$timeline"
    say "IMDS proxy ($m): $(echo "$imds_stats" | grep -o '"by_outcome":{[^}]*}' || echo "$imds_stats")"
done
say "done in $(($(date +%s) - started))s"
for m in $MODES; do
    line=$(grep -o 'RESULT .*' "$work/$m.log" | tail -n 1 || true)
    if [[ -z $line ]]; then
        echo "RESULT mode=$m missing (see $work/$m.log)"
        status=1
        continue
    fi
    echo "$line"
    sent=$(sed -n 's/.* sent=\([0-9]*\).*/\1/p' <<<"$line")
    received=$(sed -n 's/.* received=\([0-9]*\).*/\1/p' <<<"$line")
    if [[ $line != *" expired_token_errors=0 "* || $line != *" skew_errors=0 "* || $sent != "$received" || $sent == 0 ]]; then
        status=1
    fi
done
exit $status
