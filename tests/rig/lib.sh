# shellcheck shell=bash
# Shared helpers for the freshcreds test rig. Sourced, not executed.
#
# Every piece of state lives under $RIG_DIR (FRESHCREDS_RIG_DIR, default
# <repo>/target/rig, git-ignored). Nothing here talks to anything but 127.0.0.1.

RIG_SCRIPTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RIG_REPO_ROOT=$(cd "$RIG_SCRIPTS_DIR/../.." && pwd)
RIG_DIR=${FRESHCREDS_RIG_DIR:-$RIG_REPO_ROOT/target/rig}
mkdir -p "$RIG_DIR"
RIG_DIR=$(cd "$RIG_DIR" && pwd)

# shellcheck disable=SC2034 # used by the scripts that source this file
AEMM_VERSION=v1.13.0
# shellcheck disable=SC2034
AEMM_MODULE=github.com/aws/amazon-ec2-metadata-mock/cmd/ec2-metadata-mock
AEMM_BIN=$RIG_DIR/bin/ec2-metadata-mock
DEB_ROOT=$RIG_DIR/deb/root
CHRONYD=$DEB_ROOT/usr/sbin/chronyd

rig_name=$(basename "$0")

die() {
    echo "$rig_name: error: $*" >&2
    exit 1
}

note() {
    echo "$rig_name: $*" >&2
}

# Path of the libfaketime.so.1 unpacked by install.sh (empty if absent).
rig_faketime_lib() {
    local f
    for f in "$DEB_ROOT"/usr/lib/*/faketime/libfaketime.so.1; do
        [[ -f $f ]] && { echo "$f"; return 0; }
    done
    return 1
}

# Run install.sh if something the rig needs is missing. Its output goes to
# stderr so that callers' stdout stays machine-readable.
rig_ensure_installed() {
    if [[ ! -x $AEMM_BIN || ! -x $CHRONYD ]] || ! rig_faketime_lib >/dev/null; then
        "$RIG_SCRIPTS_DIR/install.sh" >&2 || die "install.sh failed"
    fi
}

# rig_lock NAME [TIMEOUT_S]: take an exclusive lock (fd 9) held until the calling script exits,
# so parallel test processes do not trip over each other. Anything spawned to outlive
# the script must be started with 9>&- so it does not keep holding the lock.
rig_lock() {
    exec 9>"$RIG_DIR/.$1.lock"
    flock -w "${2:-120}" 9 || die "timed out waiting for lock $RIG_DIR/.$1.lock"
}

# now_ms: wall clock in milliseconds.
now_ms() {
    local ns
    ns=$(date +%s%N)
    echo $((ns / 1000000))
}

# pid_is PID PATTERN: true if PID is alive (not a zombie) and its command line
# contains PATTERN. Guards against killing a recycled pid.
pid_is() {
    local pid=$1 pattern=$2 cmdline
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    [[ -r /proc/$pid/cmdline ]] || return 1
    cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
    [[ -n $cmdline && $cmdline == *"$pattern"* ]]
}

# pid_alive PID: true if PID exists and is not a zombie (for our own fresh children,
# whose command line is still the forking shell's for a moment).
pid_alive() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat:0:1} != Z ]]
}

# stop_pid PID PATTERN: TERM, wait up to 5 s, then KILL. Quiet, idempotent.
stop_pid() {
    local pid=$1 pattern=$2 i
    pid_is "$pid" "$pattern" || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        pid_is "$pid" "$pattern" || return 0
        sleep 0.05
    done
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 40; i++)); do
        pid_is "$pid" "$pattern" || return 0
        sleep 0.05
    done
    die "could not stop pid $pid ($pattern)"
}

# free_tcp_port: a currently free TCP port on 127.0.0.1 (racy by nature: callers retry).
free_tcp_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# spawn_watchdog PID PATTERN: if RIG_OWNER_PID is set (e.g. a test process's own
# pid), start a small detached loop that stops PID once the owner has exited, so a
# killed test run does not leave stand-ins behind. It exits by itself when PID does.
spawn_watchdog() {
    local pid=$1 pattern=$2 owner=${RIG_OWNER_PID:-}
    [[ -n $owner ]] || return 0
    [[ $owner =~ ^[0-9]+$ ]] || die "RIG_OWNER_PID must be a pid, got '$owner'"
    kill -0 "$owner" 2>/dev/null || die "RIG_OWNER_PID $owner is not running"
    (
        trap '' HUP INT
        while kill -0 "$owner" 2>/dev/null && pid_is "$pid" "$pattern"; do
            sleep 1
        done
        stop_pid "$pid" "$pattern"
    ) </dev/null >/dev/null 2>&1 9>&- &
    disown $! 2>/dev/null || true
}

# env_unset_args PREFIX: prints "-u NAME" pairs (one word per line) for `env`,
# unsetting every exported variable whose name starts with PREFIX.
env_unset_args() {
    local prefix=$1 v
    for v in $(compgen -e); do
        [[ $v == "$prefix"* ]] && printf '%s\n' -u "$v"
    done
    return 0
}
