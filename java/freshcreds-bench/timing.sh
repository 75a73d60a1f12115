#!/usr/bin/env bash
# `make bench-java` (second half): plain timing programs (TimingBench), freshcreds beside the SDK
# v2 and v1 instance-profile providers, each scenario for each subject in a new JVM, against one
# loopback AEMM behind the IMDS fault proxy (which injects the stalls and 429s and counts requests).
#   java/freshcreds-bench/timing.sh            full: 10 s stalls, 4 rotations of 15 s, 1000 cold callers
#   BENCH_MODE=smoke java/freshcreds-bench/timing.sh   a few seconds of each
# Writes target/bench/parts/{stall,steady,cold,startup}-*.json (bench/report.py merges them).
# Needs java/freshcreds-bench/target/benchmarks.jar (mvn -f java/pom.xml -Pbench -pl freshcreds-bench install).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
jar=$here/target/benchmarks.jar
out=${BENCH_OUT:-$repo/target/bench}/parts
mode=${BENCH_MODE:-full}
[[ -f $jar ]] || { echo "timing.sh: $jar missing; build with: mvn -f java/pom.xml -Pbench -pl freshcreds-bench install -DskipTests" >&2; exit 1; }
mkdir -p "$out"

export RIG_OWNER_PID=$$
ports=()   # "aemm_port proxy_port" of every rig started here
cleanup() {
    local pair
    for pair in "${ports[@]}"; do
        "$repo/tests/rig/imds-proxy.sh" stop "${pair#* }" >/dev/null 2>&1 || true
        "$repo/tests/rig/aemm.sh" stop "${pair%% *}" >/dev/null 2>&1 || true
    done
}
trap cleanup EXIT
# rig_up: a new AEMM behind a new fault proxy; sets AEMM_URL, AEMM_CONFIG, IMDS_PROXY_URL, IMDS_PROXY_ADMIN.
rig_up() {
    eval "$(AEMM_PORT= "$repo/tests/rig/aemm.sh" start)"
    eval "$(IMDS_PROXY_PORT= IMDS_PROXY_ADMIN_PORT= "$repo/tests/rig/imds-proxy.sh" start "$AEMM_URL")"
    ports+=("${AEMM_URL##*:} ${IMDS_PROXY_URL##*:}")
}

if [[ $mode == smoke ]]; then
    stall_opts=(stallMs=3000 threads=4 dueMs=5000)
    steady_opts=(rotations=2 periodMs=6000 threads=2)
    cold_opts=(threads=200)
    startup_opts=(settleMs=300)
else
    stall_opts=(stallMs=10000 threads=8 dueMs=5000)
    steady_opts=(rotations=4 periodMs=10000 threads=4)
    cold_opts=(threads=1000)
    startup_opts=(settleMs=1000)
fi

log=$out/timing.log
: >"$log"
rm -f "$out"/timing-steady-*.log
# timing_jvm LOG SCENARIO SUBJECT [key=value ...]: one scenario in a new JVM against the current rig.
timing_jvm() {
    local log=$1
    shift
    java -Xms256m -Xmx512m -Dbench.imds="$IMDS_PROXY_URL" -Dbench.admin="$IMDS_PROXY_ADMIN" \
        -Dbench.aemmConfig="$AEMM_CONFIG" -Dbench.rig="$repo/tests/rig" -Dbench.out="$out" \
        -Dfreshcreds.ntpServers=off -Daws.region=us-east-1 -Daws.java.v1.disableDeprecationAnnouncement=true \
        -cp "$jar" dev.freshcreds.bench.TimingBench "$@" >>"$log" 2>&1 ||
        { tail -40 "$log" >&2; echo "timing.sh: $* failed" >&2; return 1; }
}
run() {
    echo "timing: $*" >&2
    timing_jvm "$log" "$@"
    grep -E '^(stall|throttle|steady|cold|startup) ' "$log" | tail -1 >&2 || true
}

rig_up
for subject in freshcreds sdk-v2 sdk-v1; do
    run startup "$subject" "${startup_opts[@]}"
done
for subject in freshcreds sdk-v2 sdk-v1; do
    run cold "$subject" "${cold_opts[@]}"
done
for fault in stall throttle; do
    for subject in freshcreds sdk-v2 sdk-v1; do
        run stall "$subject" mode="$fault" "${stall_opts[@]}"
    done
done
# Steady state: the three subjects at once (each with its own AEMM and proxy; callers pause 1 ms
# between calls, so they hardly compete for the CPU).
pids=()
for subject in freshcreds sdk-v2 sdk-v1; do
    rig_up
    echo "timing: steady $subject ${steady_opts[*]}" >&2
    timing_jvm "$out/timing-steady-$subject.log" steady "$subject" "${steady_opts[@]}" &
    pids+=($!)
done
failed=0
for pid in "${pids[@]}"; do
    wait "$pid" || failed=1
done
cat "$out"/timing-steady-*.log >>"$log"
grep -E '^steady ' "$log" >&2 || true
exit $failed
