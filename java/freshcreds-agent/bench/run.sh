#!/usr/bin/env bash
# make bench-agent: JVM start-up with and without the agent (median of N runs) and the agent
# jar's size. Needs the agent jar and the module's test classes (make bench-agent builds them
# when missing), starts its own AEMM on loopback.   RUNS=15 by default.
# Writes target/bench/parts/agent.json ($BENCH_OUT/parts) for bench/report.py.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
module=$(dirname "$here")
repo=$(cd "$module/../.." && pwd)
jar=$module/target/freshcreds-agent-0.1.0.jar
[[ -f $jar && -d $module/target/test-classes ]] || { echo "bench-agent: build first: mvn -f java/pom.xml install -DskipTests" >&2; exit 1; }
cpfile=$module/target/bench-classpath.txt
mvn -B -q -ntp -f "$module/pom.xml" dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$cpfile" >&2
cp="$module/target/test-classes:$(tr ':' '\n' <"$cpfile" | grep -v -e '/dev/freshcreds/' -e byte-buddy -e junit | paste -sd:)"
eval "$(RIG_OWNER_PID=$$ "$repo/tests/rig/aemm.sh" start)"
trap '"$repo/tests/rig/aemm.sh" stop "${AEMM_URL##*:}" >/dev/null 2>&1 || true' EXIT
out=${BENCH_OUT:-$repo/target/bench}/parts
mkdir -p "$out"
python3 "$here/startup.py" --agent-jar "$jar" --cp "$cp" --aemm "$AEMM_URL" --runs "${RUNS:-15}" \
    --json "$out/agent.json" | tee "$module/target/bench-agent.txt"
