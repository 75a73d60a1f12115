#!/usr/bin/env bash
# amazon-ec2-metadata-mock (AEMM) v1.13.0 on loopback, IMDSv2 only, for the freshcreds tests.
#
#   aemm.sh start
#       Starts an instance on 127.0.0.1:$AEMM_PORT, or on a free port if AEMM_PORT is
#       unset (then every call starts a new instance; with AEMM_PORT a running instance
#       on that port is reused). AEMM_ROLE=NAME renames the role (default: AEMM's own,
#       baskinc-role). Writes a config file with fresh random credentials
#       (Expiration = now + 1 h) and runs `ec2-metadata-mock -c CONFIG -I -w -n 127.0.0.1
#       -p PORT`, waits (<= 10 s) until the credentials path answers, then prints:
#           AEMM_URL=http://127.0.0.1:PORT
#           AEMM_CONFIG=/abs/path/aemm-config.json
#           AEMM_PID=PID
#           AEMM_ROLE=ROLE
#   aemm.sh rotate CONFIG ACCESS_KEY_ID SECRET TOKEN EXPIRATION [LAST_UPDATED]
#       Rewrites the credentials in CONFIG atomically (temp file + rename in the same
#       directory, which AEMM's watcher (viper + fsnotify) picks up as a Create event).
#       EXPIRATION and LAST_UPDATED (default: now) are served verbatim: RFC 3339 UTC,
#       e.g. 2026-01-02T03:04:05Z. If CONFIG belongs to a running rig instance, waits
#       (<= 10 s) until AEMM serves exactly the new credentials and prints
#           AEMM_ROTATED_MS=N
#       (milliseconds from the rename to the first request that saw them).
#   aemm.sh stop [PORT|CONFIG]
#       Stops that instance ($AEMM_PORT if no argument), or every rig AEMM instance if
#       neither is given. Idempotent. Logs and configs stay in the instance directory.
#
# RIG_OWNER_PID=PID (optional): stop the instance when that process exits.
# State: $FRESHCREDS_RIG_DIR/aemm/PORT/{aemm-config.json,pid,url,aemm.log,home/}.
# Do not edit the config with `sed -i` or an editor that deletes the file: AEMM's
# watcher stops for good when it sees the file removed.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

AEMM_DEFAULT_ROLE=baskinc-role
READY_TIMEOUT_MS=10000

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
    exit 64
}

# Python helper: config writing and rotation (JSON handled by the json module).
creds_py() {
    python3 - "$@" <<'PY'
import json, os, secrets, string, sys, tempfile, time, urllib.error, urllib.request
from datetime import datetime, timedelta, timezone

def rfc3339(dt):
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        return {}

def write_atomic(path, cfg):
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".aemm-config.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(cfg, f, indent=2)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)  # one IN_MOVED_TO (fsnotify Create) on the config name
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise

def creds(akid, secret, token, exp, last):
    return {"Code": "Success", "LastUpdated": last, "Type": "AWS-HMAC",
            "AccessKeyId": akid, "SecretAccessKey": secret, "Token": token, "Expiration": exp}

def values(cfg):
    return cfg.setdefault("metadata", {}).setdefault("values", {})

def imds(url, path, method="GET", headers=None):
    req = urllib.request.Request(url + path, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=1) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, ""
    except (urllib.error.URLError, OSError):
        return 0, ""

mode = sys.argv[1]
if mode == "init":
    path, role = sys.argv[2], sys.argv[3]
    now = datetime.now(timezone.utc)
    b32 = string.ascii_uppercase + "234567"
    b64 = string.ascii_letters + string.digits + "+/"
    cfg = {}
    if role:
        values(cfg)["iam-security-credentials-role"] = role
    values(cfg)["iam-security-credentials"] = creds(
        "ASIA" + "".join(secrets.choice(b32) for _ in range(16)),
        "".join(secrets.choice(b64) for _ in range(40)),
        "IQoJb3JpZ2luX2Vj" + "".join(secrets.choice(b64) for _ in range(600)),
        rfc3339(now + timedelta(hours=1)), rfc3339(now))
    write_atomic(path, cfg)
elif mode == "rotate":
    path, url, akid, secret, token, exp, last = sys.argv[2:9]
    if not last:
        last = rfc3339(datetime.now(timezone.utc))
    cfg = load(path)
    role = values(cfg).get("iam-security-credentials-role", "baskinc-role")
    want = creds(akid, secret, token, exp, last)
    values(cfg)["iam-security-credentials"] = want
    if not url:
        write_atomic(path, cfg)
        sys.exit(0)
    ttl = {"X-aws-ec2-metadata-token-ttl-seconds": "21600"}
    deadline = time.monotonic() + 10
    def get_token():
        while time.monotonic() < deadline:
            st, body = imds(url, "/latest/api/token", "PUT", ttl)
            if st == 200 and body:
                return body
            time.sleep(0.01)
        sys.exit(f"aemm.sh: error: no IMDSv2 token from {url}")
    tok = get_token()
    write_atomic(path, cfg)
    t0 = time.monotonic()
    while time.monotonic() < deadline:
        st, body = imds(url, "/latest/meta-data/iam/security-credentials/" + role,
                        headers={"X-aws-ec2-metadata-token": tok})
        if st == 200:
            try:
                if json.loads(body) == want:
                    print(f"AEMM_ROTATED_MS={round((time.monotonic() - t0) * 1000)}")
                    sys.exit(0)
            except ValueError:
                pass
        elif st == 401:
            tok = get_token()
        time.sleep(0.005)
    sys.exit(f"aemm.sh: error: {url} did not serve the rotated credentials within 10 s")
else:
    sys.exit(f"creds_py: unknown mode {mode}")
PY
}

inst_dir() { echo "$RIG_DIR/aemm/$1"; }

inst_pid() {
    local pid
    pid=$(cat "$1/pid" 2>/dev/null) || return 1
    pid_is "$pid" "ec2-metadata-mock" || return 1
    echo "$pid"
}

print_env() {
    local inst=$1 pid=$2
    echo "AEMM_URL=$(cat "$inst/url")"
    echo "AEMM_CONFIG=$inst/aemm-config.json"
    echo "AEMM_PID=$pid"
    echo "AEMM_ROLE=$(cat "$inst/role")"
}

# start_on_port PORT: 0 = started, 2 = port already in use (caller may retry).
start_on_port() {
    local port=$1 inst cfg url role pid deadline tok
    inst=$(inst_dir "$port")
    cfg=$inst/aemm-config.json
    url=http://127.0.0.1:$port
    role=${AEMM_ROLE:-$AEMM_DEFAULT_ROLE}
    mkdir -p "$inst/home"
    rm -f "$inst/pid" "$cfg" "$inst"/.aemm-config.*.tmp
    creds_py init "$cfg" "${AEMM_ROLE:-}"
    echo "$url" >"$inst/url"
    echo "$role" >"$inst/role"

    # AEMM reads AEMM_* variables as config (viper AutomaticEnv): keep ours away from it.
    # HOME points into the instance dir so nothing is read from or written to ~.
    local -a unset_args
    mapfile -t unset_args < <(env_unset_args AEMM_)
    (
        cd "$inst"
        exec env "${unset_args[@]}" HOME="$inst/home" "$AEMM_BIN" \
            -c "$cfg" -I -w -n 127.0.0.1 -p "$port"
    ) </dev/null >"$inst/aemm.log" 2>&1 9>&- &
    pid=$!
    disown "$pid" 2>/dev/null || true
    echo "$pid" >"$inst/pid"

    deadline=$(($(now_ms) + READY_TIMEOUT_MS))
    while :; do
        if ! pid_alive "$pid"; then
            rm -f "$inst/pid"
            if grep -q 'address already in use' "$inst/aemm.log"; then
                return 2
            fi
            tail -n 20 "$inst/aemm.log" >&2
            die "ec2-metadata-mock exited during startup (log: $inst/aemm.log)"
        fi
        if tok=$(curl -sf --max-time 1 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' \
            "$url/latest/api/token") && [[ -n $tok ]] &&
            curl -sf --max-time 1 -o /dev/null -H "X-aws-ec2-metadata-token: $tok" \
                "$url/latest/meta-data/iam/security-credentials/$role"; then
            break
        fi
        if (($(now_ms) > deadline)); then
            stop_pid "$pid" "ec2-metadata-mock"
            rm -f "$inst/pid"
            tail -n 20 "$inst/aemm.log" >&2
            die "ec2-metadata-mock did not answer on $url within $((READY_TIMEOUT_MS / 1000)) s"
        fi
        sleep 0.05
    done
    spawn_watchdog "$pid" "ec2-metadata-mock"
    print_env "$inst" "$pid"
}

cmd_start() {
    (($# == 0)) || usage
    rig_ensure_installed
    if [[ -n ${AEMM_ROLE:-} && ! ${AEMM_ROLE} =~ ^[A-Za-z0-9+=,.@_-]+$ ]]; then
        die "AEMM_ROLE '$AEMM_ROLE' is not a valid IAM role name"
    fi
    local port rc attempt inst pid
    rig_lock aemm
    if [[ -n ${AEMM_PORT:-} ]]; then
        port=$AEMM_PORT
        if ! [[ $port =~ ^[0-9]+$ ]] || ((port < 1 || port > 65535)); then die "bad AEMM_PORT '$port'"; fi
        inst=$(inst_dir "$port")
        if pid=$(inst_pid "$inst"); then
            if [[ $(cat "$inst/role") == "${AEMM_ROLE:-$AEMM_DEFAULT_ROLE}" ]]; then
                print_env "$inst" "$pid"
                return 0
            fi
            stop_pid "$pid" "ec2-metadata-mock"
        fi
        rc=0
        start_on_port "$port" || rc=$?
        ((rc == 2)) && die "port 127.0.0.1:$port is already in use"
        return "$rc"
    fi
    for attempt in 1 2 3 4 5; do
        port=$(free_tcp_port)
        rc=0
        start_on_port "$port" || rc=$?
        ((rc == 2)) || return "$rc"
    done
    die "could not find a free port after $attempt attempts"
}

cmd_rotate() {
    (($# == 5 || $# == 6)) || usage
    local cfg=$1 inst url=""
    [[ -f $cfg ]] || die "config file '$cfg' not found"
    cfg=$(cd "$(dirname "$cfg")" && pwd)/$(basename "$cfg")
    inst=$(dirname "$cfg")
    local akid=$2 secret=$3 token=$4 exp=$5 last=${6:-}
    [[ -n $akid && -n $secret && -n $token && -n $exp ]] || die "rotate: empty argument"
    if [[ -f $inst/url ]] && inst_pid "$inst" >/dev/null; then
        url=$(cat "$inst/url")
    fi
    creds_py rotate "$cfg" "$url" "$akid" "$secret" "$token" "$exp" "$last"
}

stop_inst() {
    local inst=$1 pid
    pid=$(cat "$inst/pid" 2>/dev/null) || return 0
    stop_pid "$pid" "ec2-metadata-mock"
    rm -f "$inst/pid"
}

cmd_stop() {
    (($# <= 1)) || usage
    local target=${1:-${AEMM_PORT:-}} inst
    if [[ -z $target ]]; then
        for inst in "$RIG_DIR"/aemm/*/; do
            [[ -d $inst ]] && stop_inst "${inst%/}"
        done
        return 0
    fi
    if [[ $target =~ ^[0-9]+$ ]]; then
        inst=$(inst_dir "$target")
    elif [[ -f $target ]]; then
        inst=$(cd "$(dirname "$target")" && pwd)
    else
        die "stop: '$target' is neither a port nor a config file"
    fi
    stop_inst "$inst"
}

case ${1:-} in
start) shift; cmd_start "$@" ;;
rotate) shift; cmd_rotate "$@" ;;
stop) shift; cmd_stop "$@" ;;
*) usage ;;
esac
