#!/usr/bin/env bash
# sigv4-gate (tests/sigv4-gate, this repository) on loopback in front of a rig moto server:
# the SigV4 checks moto lacks, token expiry and clock skew, answered as AWS answers them.
#
#   gate.sh start [MOTO_URL]
#       Starts a gate in front of MOTO_URL (argument, else $MOTO_URL), on $GATE_PORT or a
#       free port, with its admin API on $GATE_ADMIN_PORT or a free port. With GATE_PORT
#       set, a running gate on that port is reused (keys stay registered). Builds the
#       binary with cargo if needed (SIGV4_GATE_BIN=/path skips that). Waits <= 10 s, then:
#           GATE_URL=http://127.0.0.1:PORT       (point the SDK's endpoint here)
#           GATE_ADMIN=http://127.0.0.1:PORT     (loopback admin API)
#           GATE_PID=PID
#   gate.sh register ACCESS_KEY_ID SECRET [TOKEN [EXPIRATION]]
#       Registers a key with the gate at $GATE_ADMIN: the gate accepts requests signed with
#       it (and TOKEN, if given) until EXPIRATION (RFC 3339 UTC; empty or absent: never),
#       then answers 403 ExpiredToken. Registering the same key id again replaces it (e.g.
#       to move an expiry). Prints nothing. The secret travels to curl on stdin, not argv.
#   gate.sh stop [PORT]
#       Stops the gate on PORT ($GATE_PORT if no argument), or every rig gate if neither is
#       given. Idempotent. The log stays in the instance directory.
#
# Admin API (loopback; see tests/sigv4-gate/src/gate.rs): POST /keys with
# {"AccessKeyId","SecretAccessKey","Token","Expiration"} (an IMDS credentials document
# works as is), GET /keys, DELETE /keys[/AKID], GET|DELETE /stats, GET /health.
#
# RIG_OWNER_PID=PID (optional): stop the instance when that process exits.
# State: $FRESHCREDS_RIG_DIR/gate/PORT/{pid,url,admin,upstream,gate.log}. The log has one
# line per request (method, path, service, abbreviated key id, outcome), never a secret.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=sidecar.sh
source "$(dirname "${BASH_SOURCE[0]}")/sidecar.sh"

PATTERN=sigv4-gate

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
    exit 64
}




print_env() {
    local inst=$1 pid=$2
    echo "GATE_URL=$(cat "$inst/url")"
    echo "GATE_ADMIN=$(cat "$inst/admin")"
    echo "GATE_PID=$pid"
}

cmd_start() {
    (($# <= 1)) || usage
    local upstream=${1:-${MOTO_URL:-}}
    [[ $upstream =~ ^http://(127\.[0-9.]+|localhost|\[::1\]):[0-9]+/?$ ]] ||
        die "start: give moto's loopback URL (argument or MOTO_URL), got '$upstream'"
    command -v curl >/dev/null 2>&1 || die "curl not found"
    local port=${GATE_PORT:-0} admin_port=${GATE_ADMIN_PORT:-0} bin inst pid
    [[ $port =~ ^[0-9]+$ && $admin_port =~ ^[0-9]+$ ]] || die "bad GATE_PORT/GATE_ADMIN_PORT"
    bin=$(sidecar_bin "${SIGV4_GATE_BIN:-}" SIGV4_GATE_BIN sigv4-gate)
    rig_lock gate
    if ((port != 0)); then
        inst=$RIG_DIR/gate/$port
        if pid=$(sidecar_pid "$inst" "$PATTERN"); then
            [[ $(cat "$inst/upstream") == "$upstream" ]] ||
                die "the gate on port $port fronts $(cat "$inst/upstream"), not $upstream"
            print_env "$inst" "$pid"
            return 0
        fi
    fi

    local started
    started=$(sidecar_start gate "$PATTERN" "$bin" "$upstream" "$port" "$admin_port" \
        GATE_URL GATE_ADMIN gate.log)
    inst=${started%% *}
    pid=${started##* }
    print_env "$inst" "$pid"
}

cmd_register() {
    (($# >= 2 && $# <= 4)) || usage
    [[ -n ${GATE_ADMIN:-} ]] || die "register: set GATE_ADMIN (printed by gate.sh start)"
    [[ $GATE_ADMIN =~ ^http://127\.[0-9.]+:[0-9]+$ ]] || die "register: GATE_ADMIN must be a loopback URL"
    local out
    # JSON built by python3 so that any character in a secret or token is escaped.
    if ! out=$(python3 -c '
import json, sys
akid, secret, token, exp = (sys.argv[1:] + ["", ""])[:4]
doc = {"AccessKeyId": akid, "SecretAccessKey": secret}
if token: doc["Token"] = token
if exp: doc["Expiration"] = exp
print(json.dumps(doc))' "$@" |
        curl -sS --noproxy '*' --max-time 5 -w '\n%{http_code}' -X POST \
            -H 'content-type: application/json' --data-binary @- "$GATE_ADMIN/keys"); then
        die "register: no answer from $GATE_ADMIN"
    fi
    [[ ${out##*$'\n'} == 200 ]] || die "register: the gate refused: ${out%$'\n'*}"
}

cmd_stop() {
    (($# <= 1)) || usage
    sidecar_stop gate "$PATTERN" "${1:-${GATE_PORT:-}}"
}

case ${1:-} in
start) shift; cmd_start "$@" ;;
register) shift; cmd_register "$@" ;;
stop) shift; cmd_stop "$@" ;;
*) usage ;;
esac
