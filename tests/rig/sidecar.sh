# shellcheck shell=bash
# The two loopback services built from tests/sigv4-gate (sigv4-gate and imds-fault-proxy):
# how gate.sh and imds-proxy.sh build, start, find and stop them. Sourced after lib.sh, not
# executed. Both binaries bind first and write their URLs to a ready file, so port 0 needs
# no free-port guessing; an instance lives in $RIG_DIR/KIND/PORT/{pid,url,admin,upstream,LOG}.

SIDECAR_READY_TIMEOUT_MS=10000

# sidecar_bin OVERRIDE OVERRIDE_NAME BINARY: the binary to run: OVERRIDE (the value of the
# variable OVERRIDE_NAME) if set, else BINARY built by cargo (a no-op when up to date).
sidecar_bin() {
    local override=$1 name=$2 binary=$3
    if [[ -n $override ]]; then
        [[ -x $override ]] || die "$name=$override is not executable"
        echo "$override"
        return 0
    fi
    command -v cargo >/dev/null 2>&1 || die "cargo not found (or set $name)"
    local target=${CARGO_TARGET_DIR:-$RIG_REPO_ROOT/target}
    (cd "$RIG_REPO_ROOT" && cargo build -q -p sigv4-gate --bins) >&2 ||
        die "building $binary failed"
    echo "$target/debug/$binary"
}

# sidecar_pid DIR PATTERN: prints the pid of the instance in DIR if it is running.
sidecar_pid() {
    local pid
    pid=$(cat "$1/pid" 2>/dev/null) || return 1
    pid_is "$pid" "$2" || return 1
    echo "$pid"
}

# sidecar_start KIND PATTERN BIN UPSTREAM PORT ADMIN_PORT URL_KEY ADMIN_KEY LOG
#   Starts BIN in front of UPSTREAM on 127.0.0.1:PORT (admin API on ADMIN_PORT; 0: any),
#   waits (bounded) for the ready file's URL_KEY= and ADMIN_KEY= lines and the admin API's
#   /health, and prints "DIR PID" of the new instance. LOG is the stderr file's name.
sidecar_start() {
    local kind=$1 pattern=$2 bin=$3 upstream=$4 port=$5 admin_port=$6 url_key=$7 admin_key=$8 log=$9
    local tmp ready pid
    mkdir -p "$RIG_DIR/$kind"
    tmp=$(mktemp -d "$RIG_DIR/$kind/.starting.XXXXXX")
    ready=$tmp/ready
    (
        exec env -u HTTP_PROXY -u HTTPS_PROXY -u http_proxy -u https_proxy "$bin" \
            --upstream "$upstream" --listen "127.0.0.1:$port" \
            --admin-listen "127.0.0.1:$admin_port" --ready-file "$ready"
    ) </dev/null >/dev/null 2>"$tmp/$log" 9>&- &
    pid=$!
    disown "$pid" 2>/dev/null || true

    local deadline=$(($(now_ms) + SIDECAR_READY_TIMEOUT_MS))
    until [[ -f $ready ]]; do
        if ! pid_alive "$pid"; then
            cat "$tmp/$log" >&2
            rm -rf "$tmp"
            die "$pattern exited during startup"
        fi
        if (($(now_ms) > deadline)); then
            stop_pid "$pid" "$pattern"
            cat "$tmp/$log" >&2
            rm -rf "$tmp"
            die "$pattern did not start within $((SIDECAR_READY_TIMEOUT_MS / 1000)) s"
        fi
        sleep 0.02
    done
    local url admin inst
    url=$(sed -n "s/^$url_key=//p" "$ready")
    admin=$(sed -n "s/^$admin_key=//p" "$ready")
    curl -sf --noproxy '*' --max-time 2 -o /dev/null "$admin/health" ||
        { stop_pid "$pid" "$pattern"; die "$pattern admin API does not answer at $admin"; }
    # Named after the port, known only now; the process keeps logging through the move.
    inst=$RIG_DIR/$kind/${url##*:}
    rm -rf "$inst"
    mv "$tmp" "$inst"
    rm -f "$inst/ready"
    echo "$url" >"$inst/url"
    echo "$admin" >"$inst/admin"
    echo "$upstream" >"$inst/upstream"
    echo "$pid" >"$inst/pid"
    spawn_watchdog "$pid" "$pattern"
    echo "$inst $pid"
}

# sidecar_stop KIND PATTERN [PORT]: stops the instance on PORT, or every instance of KIND
# when PORT is empty. Idempotent; logs stay in the instance directories.
sidecar_stop() {
    local kind=$1 pattern=$2 port=${3:-} inst
    if [[ -z $port ]]; then
        for inst in "$RIG_DIR/$kind"/*/; do
            [[ -d $inst ]] && sidecar_stop_dir "${inst%/}" "$pattern"
        done
        return 0
    fi
    [[ $port =~ ^[0-9]+$ ]] || die "stop: bad port '$port'"
    sidecar_stop_dir "$RIG_DIR/$kind/$port" "$pattern"
}

sidecar_stop_dir() {
    local inst=$1 pattern=$2 pid
    pid=$(cat "$inst/pid" 2>/dev/null) || return 0
    stop_pid "$pid" "$pattern"
    rm -f "$inst/pid"
}
