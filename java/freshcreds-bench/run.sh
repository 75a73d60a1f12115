#!/usr/bin/env bash
# `make bench-java`: JMH provider benchmarks at 1 and 8 threads against one loopback AEMM.
#   java/freshcreds-bench/run.sh          (after `mvn -f java/pom.xml -Pbench install -DskipTests`)
# Prints a table: benchmark, threads, ns/op, B/op. Raw JMH JSON: java/freshcreds-bench/target/jmh-*.json
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
jar=$here/target/benchmarks.jar
[[ -f $jar ]] || { echo "run.sh: $jar missing; build with: mvn -f java/pom.xml -Pbench install -DskipTests" >&2; exit 1; }

export RIG_OWNER_PID=$$
eval "$(AEMM_PORT= "$repo/tests/rig/aemm.sh" start)"
trap '"$repo/tests/rig/aemm.sh" stop "${AEMM_URL##*:}"' EXIT

props=(-Dbench.imds="$AEMM_URL" -Dfreshcreds.ntpServers=off -Daws.region=us-east-1
       -Daws.java.v1.disableDeprecationAnnouncement=true)
for t in 1 8; do
    java -jar "$jar" -t "$t" -prof gc -rf json -rff "$here/target/jmh-t$t.json" \
        -jvmArgsAppend "${props[*]}" ProviderBenchmark >"$here/target/jmh-t$t.log" 2>&1 ||
        { tail -40 "$here/target/jmh-t$t.log" >&2; exit 1; }
done

python3 - "$here/target/jmh-t1.json" "$here/target/jmh-t8.json" <<'PY'
import json, sys
rows = []
for path in sys.argv[1:]:
    for r in json.load(open(path)):
        name = r["benchmark"].rsplit(".", 1)[1]
        ns = r["primaryMetric"]["score"]
        err = r["primaryMetric"]["scoreError"]
        alloc = r.get("secondaryMetrics", {}).get("gc.alloc.rate.norm", {}).get("score", float("nan"))
        rows.append((name, r["threads"], ns, err, alloc))
print("| benchmark | threads | ns/op | ± | B/op |")
print("| --- | ---: | ---: | ---: | ---: |")
for name, t, ns, err, alloc in sorted(rows, key=lambda x: (x[1], x[0])):
    print(f"| {name} | {t} | {ns:.2f} | {err:.2f} | {alloc:.1f} |")
PY
