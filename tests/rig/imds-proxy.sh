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
# shellcheck source-path=SCRIPTDIR source=sidecar.sh
source "$(dirname "${BASH_SOURCE[0]}")/sidecar.sh"

PATTERN=imds-fault-proxy

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
    exit 64
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
    bin=$(sidecar_bin "${IMDS_FAULT_PROXY_BIN:-}" IMDS_FAULT_PROXY_BIN imds-fault-proxy)
    rig_lock imds-proxy
    if ((port != 0)); then
        inst=$RIG_DIR/imds-proxy/$port
        if pid=$(sidecar_pid "$inst" "$PATTERN"); then
            [[ $(cat "$inst/upstream") == "$upstream" ]] ||
                die "the proxy on port $port fronts $(cat "$inst/upstream"), not $upstream"
            print_env "$inst" "$pid"
            return 0
        fi
    fi

    local started
    started=$(sidecar_start imds-proxy "$PATTERN" "$bin" "$upstream" "$port" "$admin_port" \
        IMDS_PROXY_URL IMDS_PROXY_ADMIN proxy.log)
    inst=${started% *}
    pid=${started##* }
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

cmd_stop() {
    (($# <= 1)) || usage
    sidecar_stop imds-proxy "$PATTERN" "${1:-${IMDS_PROXY_PORT:-}}"
}

case ${1:-} in
start) shift; cmd_start "$@" ;;
fault) shift; cmd_fault "$@" ;;
clear) shift; cmd_clear "$@" ;;
stats) shift; cmd_stats "$@" ;;
stop) shift; cmd_stop "$@" ;;
*) usage ;;
esac
