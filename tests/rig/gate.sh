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

READY_TIMEOUT_MS=10000
PATTERN=sigv4-gate

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
    exit 64
}

# The gate binary: $SIGV4_GATE_BIN, else built by cargo (a no-op when up to date).
gate_bin() {
    if [[ -n ${SIGV4_GATE_BIN:-} ]]; then
        [[ -x $SIGV4_GATE_BIN ]] || die "SIGV4_GATE_BIN=$SIGV4_GATE_BIN is not executable"
        echo "$SIGV4_GATE_BIN"
        return 0
    fi
    command -v cargo >/dev/null 2>&1 || die "cargo not found (or set SIGV4_GATE_BIN)"
    local target=${CARGO_TARGET_DIR:-$RIG_REPO_ROOT/target}
    (cd "$RIG_REPO_ROOT" && cargo build -q -p sigv4-gate --bins) >&2 ||
        die "building sigv4-gate failed"
    echo "$target/debug/sigv4-gate"
}

inst_dir() { echo "$RIG_DIR/gate/$1"; }

inst_pid() {
    local pid
    pid=$(cat "$1/pid" 2>/dev/null) || return 1
    pid_is "$pid" "$PATTERN" || return 1
    echo "$pid"
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
    bin=$(gate_bin)
    rig_lock gate
    if ((port != 0)); then
        inst=$(inst_dir "$port")
        if pid=$(inst_pid "$inst"); then
            [[ $(cat "$inst/upstream") == "$upstream" ]] ||
                die "the gate on port $port fronts $(cat "$inst/upstream"), not $upstream"
            print_env "$inst" "$pid"
            return 0
        fi
    fi

    # The gate binds first and reports its ports, so port 0 needs no free-port guessing.
    local tmp ready
    mkdir -p "$RIG_DIR/gate"
    tmp=$(mktemp -d "$RIG_DIR/gate/.starting.XXXXXX")
    ready=$tmp/ready
    (
        exec env -u HTTP_PROXY -u HTTPS_PROXY -u http_proxy -u https_proxy "$bin" \
            --upstream "$upstream" --listen "127.0.0.1:$port" \
            --admin-listen "127.0.0.1:$admin_port" --ready-file "$ready"
    ) </dev/null >/dev/null 2>"$tmp/gate.log" 9>&- &
    pid=$!
    disown "$pid" 2>/dev/null || true

    local deadline=$(($(now_ms) + READY_TIMEOUT_MS))
    until [[ -f $ready ]]; do
        if ! pid_alive "$pid"; then
            cat "$tmp/gate.log" >&2
            rm -rf "$tmp"
            die "sigv4-gate exited during startup"
        fi
        if (($(now_ms) > deadline)); then
            stop_pid "$pid" "$PATTERN"
            cat "$tmp/gate.log" >&2
            rm -rf "$tmp"
            die "sigv4-gate did not start within $((READY_TIMEOUT_MS / 1000)) s"
        fi
        sleep 0.02
    done
    local url admin
    url=$(sed -n 's/^GATE_URL=//p' "$ready")
    admin=$(sed -n 's/^GATE_ADMIN=//p' "$ready")
    curl -sf --noproxy '*' --max-time 2 -o /dev/null "$admin/health" ||
        { stop_pid "$pid" "$PATTERN"; die "sigv4-gate admin API does not answer at $admin"; }
    # The instance directory is named after the port, which is known only now. The
    # running gate keeps writing to its log through the moved directory.
    inst=$(inst_dir "${url##*:}")
    rm -rf "$inst"
    mv "$tmp" "$inst"
    rm -f "$inst/ready"
    echo "$url" >"$inst/url"
    echo "$admin" >"$inst/admin"
    echo "$upstream" >"$inst/upstream"
    echo "$pid" >"$inst/pid"
    spawn_watchdog "$pid" "$PATTERN"
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

stop_inst() {
    local inst=$1 pid
    pid=$(cat "$inst/pid" 2>/dev/null) || return 0
    stop_pid "$pid" "$PATTERN"
    rm -f "$inst/pid"
}

cmd_stop() {
    (($# <= 1)) || usage
    local target=${1:-${GATE_PORT:-}} inst
    if [[ -z $target ]]; then
        for inst in "$RIG_DIR"/gate/*/; do
            [[ -d $inst ]] && stop_inst "${inst%/}"
        done
        return 0
    fi
    [[ $target =~ ^[0-9]+$ ]] || die "stop: bad port '$target'"
    stop_inst "$(inst_dir "$target")"
}

case ${1:-} in
start) shift; cmd_start "$@" ;;
register) shift; cmd_register "$@" ;;
stop) shift; cmd_stop "$@" ;;
*) usage ;;
esac
