#!/usr/bin/env bash
# `make demo`: the SQS example (examples/sqs) under -javaagent:freshcreds-agent.jar, unmodified
# SqsClient.create(), on the rig (tests/sqs-scenario.sh): AEMM behind the IMDS fault proxy, moto
# behind sigv4-gate, chrony; the JVM clock 10 minutes slow (libfaketime); a 90-second first
# set while the JVM starts, then four rotations of
# 45-second credentials (real moto AssumeRole sessions), IMDS publishing each next set 15 s
# before the current one expires; IMDS throttling around the first rotation and down across
# the second one's expiry. Builds what is missing first. Under 5 minutes once built; the
# RESULT lines come last, and the exit status says whether every message got through with
# expired_token_errors=0 and skew_errors=0.
#
# Settings: DEMO_MODES (default "agent"; e.g. "agent library agent-v1 library-v1"),
# LIFETIME (45), ROTATIONS (4), SKEW (600).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
MVN=(mvn -B -ntp -q)
started=$(date +%s)

# What the demo needs, built only when missing or older than its sources.
newer() { # TARGET DIR...: true if TARGET is missing or a file under DIR is newer
    local target=$1
    shift
    [[ ! -e $target ]] || [[ -n $(find "$@" -newer "$target" -type f -print -quit 2>/dev/null) ]]
}
lib_jar=~/.m2/repository/dev/freshcreds/freshcreds/0.1.0/freshcreds-0.1.0.jar
if [[ ! -f $lib_jar ]]; then
    echo "== building and installing dev.freshcreds:freshcreds (no tests)"
    "${MVN[@]}" -f java/pom.xml install -DskipTests
fi
agent_jar=${AGENT_JAR:-$ROOT/java/freshcreds-agent/target/freshcreds-agent-0.1.0.jar}
if [[ ! -f $agent_jar ]]; then
    echo "== building the agent jar (no tests)"
    "${MVN[@]}" -f java/freshcreds-agent/pom.xml package -DskipTests
fi
if newer examples/sqs/target/sqs-example.jar examples/sqs/src examples/sqs/pom.xml; then
    echo "== building examples/sqs"
    "${MVN[@]}" -f examples/sqs/pom.xml package -DskipTests
fi
tests/rig/install.sh
echo "== built in $(($(date +%s) - started))s"

MODES=${DEMO_MODES:-agent} LIFETIME=${LIFETIME:-45} ROTATIONS=${ROTATIONS:-4} SKEW=${SKEW:-600} \
    AGENT_JAR=$agent_jar exec tests/sqs-scenario.sh
