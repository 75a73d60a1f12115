#!/usr/bin/env bash
# `make bench-java` (first half): JMH provider benchmarks at 1, 8 and 64 threads against one
# loopback AEMM: freshcreds' resolveCredentials(), resolveIdentity() and getCredentials() beside
# the SDK v2 and v1 InstanceProfileCredentialsProviders, ns/op and B/op (-prof gc).
#   java/freshcreds-bench/run.sh                      (after mvn -f java/pom.xml -Pbench -pl freshcreds-bench install)
#   BENCH_MODE=smoke java/freshcreds-bench/run.sh     one short iteration of each
# Writes target/bench/parts/jmh.json (entries for bench/report.py) and prints a table.
# Raw JMH JSON: java/freshcreds-bench/target/jmh-t*.json
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
jar=$here/target/benchmarks.jar
out=${BENCH_OUT:-$repo/target/bench}/parts
mode=${BENCH_MODE:-full}
[[ -f $jar ]] || { echo "run.sh: $jar missing; build with: mvn -f java/pom.xml -Pbench -pl freshcreds-bench install -DskipTests" >&2; exit 1; }
mkdir -p "$out"

export RIG_OWNER_PID=$$
eval "$(AEMM_PORT= "$repo/tests/rig/aemm.sh" start)"
trap '"$repo/tests/rig/aemm.sh" stop "${AEMM_URL##*:}" >/dev/null 2>&1 || true' EXIT

if [[ $mode == smoke ]]; then
    iterations=(-wi 1 -w 100ms -i 1 -r 200ms)
else
    iterations=(-wi 3 -w 1s -i 5 -r 1s)
fi
props=(-Dbench.imds="$AEMM_URL" -Dfreshcreds.ntpServers=off -Daws.region=us-east-1
       -Daws.java.v1.disableDeprecationAnnouncement=true)
files=()
for t in 1 8 64; do
    echo "jmh: $t thread(s)" >&2
    java -jar "$jar" -t "$t" -f 1 "${iterations[@]}" -prof gc -rf json -rff "$here/target/jmh-t$t.json" \
        -jvmArgsAppend "${props[*]}" ProviderBenchmark >"$here/target/jmh-t$t.log" 2>&1 ||
        { tail -40 "$here/target/jmh-t$t.log" >&2; exit 1; }
    files+=("$here/target/jmh-t$t.json")
done

python3 - "$out/jmh.json" "${files[@]}" <<'PY'
import json, math, re, sys
# Benchmark method -> (subject, the API called).
subjects = {"freshcreds": "freshcreds", "sdkV2": "sdk-v2", "sdkV1": "sdk-v1"}
entries, rows = [], []
for path in sys.argv[2:]:
    for r in json.load(open(path)):
        method = r["benchmark"].rsplit(".", 1)[1]
        m = re.match(r"(freshcreds|sdkV2|sdkV1)(\w+)$", method)
        subject, api = subjects[m.group(1)], m.group(2)[0].lower() + m.group(2)[1:]
        ns = r["primaryMetric"]["score"]
        err = float(r["primaryMetric"]["scoreError"])  # "NaN" with a single iteration
        alloc = r.get("secondaryMetrics", {}).get("gc.alloc.rate.norm", {}).get("score", float("nan"))
        t = r["threads"]
        common = {"subject": subject, "threads": t, "method": api, "jmh_benchmark": method}
        extra = {"error": err} if math.isfinite(err) else {}
        entries.append(dict(name="hot-path-ns", unit="ns/op", value=ns, **extra, **common))
        entries.append(dict(name="hot-path-bytes", unit="B/op", value=alloc, **common))
        rows.append((t, api, subject, ns, err, alloc))
json.dump(entries, open(sys.argv[1], "w"), indent=1)
print("| threads | method | subject | ns/op | ± | B/op |")
print("| ---: | --- | --- | ---: | ---: | ---: |")
for t, api, subject, ns, err, alloc in sorted(rows):
    print(f"| {t} | {api} | {subject} | {ns:.2f} | {err:.2f} | {alloc:.1f} |")
PY
