#!/usr/bin/env bash
# imds-fault-proxy (tests/sigv4-gate, this repository) on loopback in front of a rig AEMM:
# the IMDS faults AEMM cannot produce, switched at run time, with request counts.
#
#   imds-proxy.sh start [AEMM_URL]
#       Starts a proxy in front of AEMM_URL (argument, else $AEMM_URL), on $IMDS_PROXY_PORT
#       or a free port, its admin API on $IMDS_PROXY_ADMIN_PORT or a free port. With
#       IMDS_PROXY_PORT set, a running proxy on that port is reused. Builds the binary with
#       cargo if needed (IMDS_FAULT_PROXY_BIN=/path skips that). Waits <= 10 s, then:
#           IMDS_PROXY_URL=http://127.0.0.1:PORT    (the IMDS endpoint clients use)
#           IMDS_PROXY_ADMIN=http://127.0.0.1:PORT  (loopback admin API)
#           IMDS_PROXY_PID=PID
#   imds-proxy.sh fault JSON
#       Adds one rule, or an array of rules, at $IMDS_PROXY_ADMIN, e.g.
#           '{"mode":"throttle","retry_after":1,"after_ms":5000,"for_ms":10000}'
#           '{"mode":"outage","from":"2026-01-02T03:04:05Z","until":"2026-01-02T03:05:05Z"}'
#           '{"mode":"drop_token_put"}'
#       Modes: pass, throttle, unavailable (503), stall, outage (style refuse|blackhole),
#       drop_token_put; see tests/sigv4-gate/src/fault.rs. Prints IMDS_PROXY_RULES=ID[,ID].
#   imds-proxy.sh clear
#       Removes every rule at $IMDS_PROXY_ADMIN: all requests pass again.
#   imds-proxy.sh stats [reset]
#       Prints the request counts at $IMDS_PROXY_ADMIN as one JSON line (total, by_path,
#       by_user_agent, by_method, by_outcome, upstream_errors); with `reset`, zeroes them
#       and prints nothing.
#   imds-proxy.sh stop [PORT]
#       Stops the proxy on PORT ($IMDS_PROXY_PORT if no argument), or every rig proxy if
#       neither is given. Idempotent. The log stays in the instance directory.
#
# RIG_OWNER_PID=PID (optional): stop the instance when that process exits.
# State: $FRESHCREDS_RIG_DIR/imds-proxy/PORT/{pid,url,admin,upstream,proxy.log}. The log
# has the rule changes and outage transitions; no request content.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

READY_TIMEOUT_MS=10000
PATTERN=imds-fault-proxy

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
    exit 64
}

# The proxy binary: $IMDS_FAULT_PROXY_BIN, else built by cargo (a no-op when up to date).
proxy_bin() {
    if [[ -n ${IMDS_FAULT_PROXY_BIN:-} ]]; then
        [[ -x $IMDS_FAULT_PROXY_BIN ]] || die "IMDS_FAULT_PROXY_BIN=$IMDS_FAULT_PROXY_BIN is not executable"
        echo "$IMDS_FAULT_PROXY_BIN"
        return 0
    fi
    command -v cargo >/dev/null 2>&1 || die "cargo not found (or set IMDS_FAULT_PROXY_BIN)"
    local target=${CARGO_TARGET_DIR:-$RIG_REPO_ROOT/target}
    (cd "$RIG_REPO_ROOT" && cargo build -q -p sigv4-gate --bins) >&2 ||
        die "building imds-fault-proxy failed"
    echo "$target/debug/imds-fault-proxy"
}

admin_url() {
    [[ -n ${IMDS_PROXY_ADMIN:-} ]] || die "set IMDS_PROXY_ADMIN (printed by imds-proxy.sh start)"
    [[ $IMDS_PROXY_ADMIN =~ ^http://127\.[0-9.]+:[0-9]+$ ]] || die "IMDS_PROXY_ADMIN must be a loopback URL"
    echo "$IMDS_PROXY_ADMIN"
}

# admin_call METHOD PATH [BODY]: prints the body; fails unless the answer is 200.
admin_call() {
    local method=$1 path=$2 body=${3:-} url out
    url=$(admin_url)
    if ! out=$(printf '%s' "$body" | curl -sS --noproxy '*' --max-time 5 -w '\n%{http_code}' \
        -X "$method" -H 'content-type: application/json' --data-binary @- "$url$path"); then
        die "no answer from $url"
    fi
    [[ ${out##*$'\n'} == 200 ]] || die "$method $path: ${out%$'\n'*}"
    printf '%s' "${out%$'\n'*}"
}

inst_dir() { echo "$RIG_DIR/imds-proxy/$1"; }

inst_pid() {
    local pid
    pid=$(cat "$1/pid" 2>/dev/null) || return 1
    pid_is "$pid" "$PATTERN" || return 1
    echo "$pid"
}

print_env() {
    local inst=$1 pid=$2
    echo "IMDS_PROXY_URL=$(cat "$inst/url")"
    echo "IMDS_PROXY_ADMIN=$(cat "$inst/admin")"
    echo "IMDS_PROXY_PID=$pid"
}

cmd_start() {
    (($# <= 1)) || usage
    local upstream=${1:-${AEMM_URL:-}}
    [[ $upstream =~ ^http://(127\.[0-9.]+|localhost|\[::1\]):[0-9]+/?$ ]] ||
        die "start: give AEMM's loopback URL (argument or AEMM_URL), got '$upstream'"
    command -v curl >/dev/null 2>&1 || die "curl not found"
    local port=${IMDS_PROXY_PORT:-0} admin_port=${IMDS_PROXY_ADMIN_PORT:-0} bin inst pid
    [[ $port =~ ^[0-9]+$ && $admin_port =~ ^[0-9]+$ ]] || die "bad IMDS_PROXY_PORT/IMDS_PROXY_ADMIN_PORT"
    bin=$(proxy_bin)
    rig_lock imds-proxy
    if ((port != 0)); then
        inst=$(inst_dir "$port")
        if pid=$(inst_pid "$inst"); then
            [[ $(cat "$inst/upstream") == "$upstream" ]] ||
                die "the proxy on port $port fronts $(cat "$inst/upstream"), not $upstream"
            print_env "$inst" "$pid"
            return 0
        fi
    fi

    # The proxy binds first and reports its ports, so port 0 needs no free-port guessing.
    local tmp ready
    mkdir -p "$RIG_DIR/imds-proxy"
    tmp=$(mktemp -d "$RIG_DIR/imds-proxy/.starting.XXXXXX")
    ready=$tmp/ready
    (
        exec env -u HTTP_PROXY -u HTTPS_PROXY -u http_proxy -u https_proxy "$bin" \
            --upstream "$upstream" --listen "127.0.0.1:$port" \
            --admin-listen "127.0.0.1:$admin_port" --ready-file "$ready"
    ) </dev/null >/dev/null 2>"$tmp/proxy.log" 9>&- &
    pid=$!
    disown "$pid" 2>/dev/null || true

    local deadline=$(($(now_ms) + READY_TIMEOUT_MS))
    until [[ -f $ready ]]; do
        if ! pid_alive "$pid"; then
            cat "$tmp/proxy.log" >&2
            rm -rf "$tmp"
            die "imds-fault-proxy exited during startup"
        fi
        if (($(now_ms) > deadline)); then
            stop_pid "$pid" "$PATTERN"
            cat "$tmp/proxy.log" >&2
            rm -rf "$tmp"
            die "imds-fault-proxy did not start within $((READY_TIMEOUT_MS / 1000)) s"
        fi
        sleep 0.02
    done
    local url admin
    url=$(sed -n 's/^IMDS_PROXY_URL=//p' "$ready")
    admin=$(sed -n 's/^IMDS_PROXY_ADMIN=//p' "$ready")
    curl -sf --noproxy '*' --max-time 2 -o /dev/null "$admin/health" ||
        { stop_pid "$pid" "$PATTERN"; die "imds-fault-proxy admin API does not answer at $admin"; }
    # Named after the port, known only now; the proxy keeps logging through the move.
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

cmd_fault() {
    (($# == 1)) || usage
    local out
    out=$(admin_call POST /__fault "$1")
    python3 -c 'import json, sys; print("IMDS_PROXY_RULES=" + ",".join(map(str, json.load(sys.stdin)["ids"])))' <<<"$out"
}

cmd_clear() {
    (($# == 0)) || usage
    admin_call DELETE /__fault >/dev/null
}

cmd_stats() {
    (($# <= 1)) || usage
    case ${1:-} in
    "") admin_call GET /__stats; echo ;;
    reset) admin_call DELETE /__stats >/dev/null ;;
    *) usage ;;
    esac
}

stop_inst() {
    local inst=$1 pid
    pid=$(cat "$inst/pid" 2>/dev/null) || return 0
    stop_pid "$pid" "$PATTERN"
    rm -f "$inst/pid"
}

cmd_stop() {
    (($# <= 1)) || usage
    local target=${1:-${IMDS_PROXY_PORT:-}} inst
    if [[ -z $target ]]; then
        for inst in "$RIG_DIR"/imds-proxy/*/; do
            [[ -d $inst ]] && stop_inst "${inst%/}"
        done
        return 0
    fi
    [[ $target =~ ^[0-9]+$ ]] || die "stop: bad port '$target'"
    stop_inst "$(inst_dir "$target")"
}

case ${1:-} in
start) shift; cmd_start "$@" ;;
fault) shift; cmd_fault "$@" ;;
clear) shift; cmd_clear "$@" ;;
stats) shift; cmd_stats "$@" ;;
stop) shift; cmd_stop "$@" ;;
*) usage ;;
esac
