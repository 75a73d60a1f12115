#!/usr/bin/env bash
# moto server (PyPI moto[server] 5.2.5, in a venv under the rig dir) on loopback, with
# authentication ON, as the STS/SQS stand-in for the freshcreds tests.
#
#   moto.sh install
#       Creates $RIG_DIR/moto/venv and installs moto[server]==5.2.5 into it (pip, about
#       30 s the first time; nothing when already there). `start` runs it when needed.
#   moto.sh start
#       Starts `moto_server -H 127.0.0.1 -p PORT` on $MOTO_PORT, or on a free port if
#       MOTO_PORT is unset (then every call starts a new instance; with MOTO_PORT a
#       running instance on that port is reused). Authentication is on: the server runs
#       with INITIAL_NO_AUTH_ACTION_COUNT=5, and this script spends exactly those five
#       unauthenticated actions itself (CreateUser rig-admin, PutUserPolicy allowing *,
#       CreateAccessKey, CreateRole rig-role trusting rig-admin, PutRolePolicy allowing *).
#       Every later request must be SigV4-signed with a key moto issued. Before printing
#       anything it proves that: the rig-admin key passes GetCallerIdentity and an unknown
#       key is refused with 403 InvalidClientTokenId. Waits <= 20 s, then prints:
#           MOTO_URL=http://127.0.0.1:PORT
#           MOTO_PID=PID
#           MOTO_ACCOUNT_ID=123456789012
#           MOTO_ACCESS_KEY_ID=AKIA...          (rig-admin, a long-term IAM user key)
#           MOTO_SECRET_ACCESS_KEY=...
#           MOTO_ROLE_ARN=arn:aws:iam::123456789012:role/rig-role
#   moto.sh assume-role [PORT] [DURATION_SECONDS] [SESSION_NAME] [ROLE_NAME]
#       AssumeRole ROLE_NAME (default rig-role) as rig-admin on that instance ($MOTO_PORT
#       if no PORT) and print temporary credentials that moto accepts (ASIA key + token):
#           AWS_ACCESS_KEY_ID=ASIA...
#           AWS_SECRET_ACCESS_KEY=...
#           AWS_SESSION_TOKEN=...
#           AWS_CREDENTIAL_EXPIRATION=2026-01-02T03:04:05Z
#       (moto never enforces that expiry: see README.md.)
#   moto.sh create-role PORT NAME all|none
#       Creates role NAME (idempotent) as rig-admin: its trust policy lets any principal
#       (`*`) call sts:AssumeRole, MaxSessionDuration is 12 h, and its inline policy allows
#       `*` on `*` (all) or nothing at all (none: a caller moto refuses with AccessDenied).
#       Prints ROLE_ARN=arn:aws:iam::123456789012:role/NAME
#   moto.sh stop [PORT]
#       Stops the instance on PORT ($MOTO_PORT if no argument), or every rig moto server
#       if neither is given. Idempotent. The log stays in the instance directory.
#
# RIG_OWNER_PID=PID (optional): stop the instance when that process exits.
# State: $FRESHCREDS_RIG_DIR/moto/{venv/,PORT/{pid,url,moto.log,admin.json}}.
# admin.json (mode 600) holds the rig-admin key; these are fake keys valid only in that
# moto process, printed on purpose.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MOTO_VERSION=5.2.5
MOTO_VENV=$RIG_DIR/moto/venv
MOTO_PY=$MOTO_VENV/bin/python
MOTO_SERVER=$MOTO_VENV/bin/moto_server
READY_TIMEOUT_S=20
# The number of unauthenticated actions bootstrap() spends; keep the two in step.
BOOTSTRAP_ACTIONS=5

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
    exit 64
}

moto_installed() {
    [[ -x $MOTO_SERVER ]] &&
        [[ $("$MOTO_PY" -c 'import importlib.metadata as m; print(m.version("moto"))' 2>/dev/null || true) == "$MOTO_VERSION" ]] &&
        "$MOTO_PY" -c 'import flask, flask_cors, botocore' 2>/dev/null
}

cmd_install() {
    (($# == 0)) || usage
    moto_installed && return 0
    rig_lock moto-install 600
    moto_installed && return 0
    command -v python3 >/dev/null 2>&1 || die "python3 not found (install python3 and python3-venv)"
    # Debian's python3 ships venv without ensurepip until python3-venv is installed.
    if ! python3 -c 'import venv, ensurepip' 2>/dev/null && [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
        note "installing python3-venv"
        { apt-get install -y -q --no-install-recommends python3-venv ||
            { apt-get update -q && apt-get install -y -q --no-install-recommends python3-venv; }; } >&2 ||
            die "apt-get install python3-venv failed"
    fi
    note "installing moto[server]==$MOTO_VERSION into $MOTO_VENV"
    local log=$RIG_DIR/moto/install.log
    mkdir -p "$RIG_DIR/moto"
    rm -rf "$MOTO_VENV"
    if ! { python3 -m venv "$MOTO_VENV" &&
        "$MOTO_VENV/bin/pip" install -q --disable-pip-version-check "moto[server]==$MOTO_VERSION"; } >"$log" 2>&1; then
        cat "$log" >&2
        rm -rf "$MOTO_VENV"
        die "moto install failed (python3 -m venv needs the python3-venv package on Debian)"
    fi
    moto_installed || die "moto $MOTO_VERSION not usable after install (log: $log)"
    rm -f "$log"
}

inst_dir() { echo "$RIG_DIR/moto/$1"; }

inst_pid() {
    local pid
    pid=$(cat "$1/pid" 2>/dev/null) || return 1
    pid_is "$pid" moto_server || return 1
    echo "$pid"
}

# Every rig request goes straight to 127.0.0.1: no proxy, no ~/.aws, no AWS_* or MOTO_*
# from the caller (moto reads MOTO_* settings, e.g. MOTO_ACCOUNT_ID). Fills CLEAN_ENV with
# arguments for `env`.
clean_env_args() {
    local -a unset_args
    mapfile -t unset_args < <(env_unset_args AWS_; env_unset_args MOTO_)
    CLEAN_ENV=("${unset_args[@]}" -u HTTP_PROXY -u HTTPS_PROXY -u http_proxy -u https_proxy
        -u ALL_PROXY -u all_proxy -u INITIAL_NO_AUTH_ACTION_COUNT
        NO_PROXY='*' no_proxy='*' AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
        AWS_EC2_METADATA_DISABLED=true)
}

clean_env() {
    clean_env_args
    env "${CLEAN_ENV[@]}" "$@"
}

# rig_py MODE ARGS...: the botocore side of the rig (signing done by botocore itself).
rig_py() {
    clean_env "$MOTO_PY" - "$@" <<'PY'
import json, os, sys, time
import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError

CFG = Config(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=15)
REGION = "us-east-1"

def client(service, url, akid, secret, token=None):
    s = botocore.session.Session()
    return s.create_client(service, region_name=REGION, endpoint_url=url, config=CFG,
                           aws_access_key_id=akid, aws_secret_access_key=secret,
                           aws_session_token=token)

def allow_all(name):
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": name, "Effect": "Allow", "Action": "*", "Resource": "*"}]})

mode = sys.argv[1]
if mode == "bootstrap":
    url, out, n = sys.argv[2], sys.argv[3], int(sys.argv[4])
    # While INITIAL_NO_AUTH_ACTION_COUNT lasts, moto checks no signature: any key signs.
    iam = client("iam", url, "AKIARIGBOOTSTRAPXXXX", "bootstrap")
    calls = 0
    user = iam.create_user(UserName="rig-admin")["User"]; calls += 1
    iam.put_user_policy(UserName="rig-admin", PolicyName="rig-admin-all",
                        PolicyDocument=allow_all("RigAdminAll")); calls += 1
    key = iam.create_access_key(UserName="rig-admin")["AccessKey"]; calls += 1
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": user["Arn"]}, "Action": "sts:AssumeRole"}]})
    role = iam.create_role(RoleName="rig-role", AssumeRolePolicyDocument=trust,
                           MaxSessionDuration=43200)["Role"]; calls += 1
    iam.put_role_policy(RoleName="rig-role", PolicyName="rig-role-all",
                        PolicyDocument=allow_all("RigRoleAll")); calls += 1
    assert calls == n, f"bootstrap spent {calls} actions, the server allows {n}"
    account = user["Arn"].split(":")[4]
    # Auth must now be on: the admin key works and an unknown key is refused.
    ident = client("sts", url, key["AccessKeyId"], key["SecretAccessKey"]).get_caller_identity()
    assert ident["Arn"] == user["Arn"], ident
    try:
        client("sts", url, "AKIAUNKNOWNRIGKEY000", "nope").get_caller_identity()
        sys.exit("moto.sh: error: moto accepted an unknown key: authentication is not on")
    except ClientError as e:
        code = e.response["Error"]["Code"]
        if code != "InvalidClientTokenId":
            sys.exit(f"moto.sh: error: unknown key refused with {code}, expected InvalidClientTokenId")
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({"AccountId": account, "AccessKeyId": key["AccessKeyId"],
                   "SecretAccessKey": key["SecretAccessKey"], "RoleArn": role["Arn"]}, f)
elif mode == "assume-role":
    url, admin_file, duration, name, role = sys.argv[2:7]
    with open(admin_file) as f:
        admin = json.load(f)
    sts = client("sts", url, admin["AccessKeyId"], admin["SecretAccessKey"])
    arn = admin["RoleArn"] if not role else admin["RoleArn"].rsplit("/", 1)[0] + "/" + role
    c = sts.assume_role(RoleArn=arn, RoleSessionName=name,
                        DurationSeconds=int(duration))["Credentials"]
    print(f"AWS_ACCESS_KEY_ID={c['AccessKeyId']}")
    print(f"AWS_SECRET_ACCESS_KEY={c['SecretAccessKey']}")
    print(f"AWS_SESSION_TOKEN={c['SessionToken']}")
    print("AWS_CREDENTIAL_EXPIRATION=" + c["Expiration"].strftime("%Y-%m-%dT%H:%M:%SZ"))
elif mode == "create-role":
    url, admin_file, name, policy = sys.argv[2:6]
    with open(admin_file) as f:
        admin = json.load(f)
    iam = client("iam", url, admin["AccessKeyId"], admin["SecretAccessKey"])
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]})
    try:
        role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust,
                               MaxSessionDuration=43200)["Role"]
    except ClientError as e:
        if e.response["Error"]["Code"] != "EntityAlreadyExists":
            raise
        role = iam.get_role(RoleName=name)["Role"]
    if policy == "all":
        iam.put_role_policy(RoleName=name, PolicyName=name + "-all",
                            PolicyDocument=allow_all("All"))
    print(f"ROLE_ARN={role['Arn']}")
else:
    sys.exit(f"rig_py: unknown mode {mode}")
PY
}

print_env() {
    local inst=$1 pid=$2
    clean_env "$MOTO_PY" - "$inst" "$pid" <<'PY'
import json, sys
inst, pid = sys.argv[1:3]
url = open(f"{inst}/url").read().strip()
a = json.load(open(f"{inst}/admin.json"))
print(f"MOTO_URL={url}")
print(f"MOTO_PID={pid}")
print(f"MOTO_ACCOUNT_ID={a['AccountId']}")
print(f"MOTO_ACCESS_KEY_ID={a['AccessKeyId']}")
print(f"MOTO_SECRET_ACCESS_KEY={a['SecretAccessKey']}")
print(f"MOTO_ROLE_ARN={a['RoleArn']}")
PY
}

# start_on_port PORT: 0 = started, 2 = port already in use (caller may retry).
start_on_port() {
    local port=$1 inst url pid deadline
    inst=$(inst_dir "$port")
    url=http://127.0.0.1:$port
    mkdir -p "$inst/home"
    rm -f "$inst/pid" "$inst/admin.json"
    echo "$url" >"$inst/url"
    (
        cd "$inst"
        clean_env_args
        exec env "${CLEAN_ENV[@]}" HOME="$inst/home" INITIAL_NO_AUTH_ACTION_COUNT=$BOOTSTRAP_ACTIONS \
            "$MOTO_SERVER" -H 127.0.0.1 -p "$port"
    ) </dev/null >"$inst/moto.log" 2>&1 9>&- &
    pid=$!
    disown "$pid" 2>/dev/null || true
    echo "$pid" >"$inst/pid"

    # Readiness through /moto-api/, which does not spend an unauthenticated action.
    deadline=$(($(now_ms) + READY_TIMEOUT_S * 1000))
    while :; do
        if ! pid_alive "$pid"; then
            rm -f "$inst/pid"
            if grep -qi 'address already in use' "$inst/moto.log"; then
                return 2
            fi
            tail -n 20 "$inst/moto.log" >&2
            die "moto_server exited during startup (log: $inst/moto.log)"
        fi
        if clean_env curl -sf --max-time 1 -o /dev/null "$url/moto-api/"; then
            break
        fi
        if (($(now_ms) > deadline)); then
            stop_pid "$pid" moto_server
            rm -f "$inst/pid"
            tail -n 20 "$inst/moto.log" >&2
            die "moto_server did not answer on $url within $READY_TIMEOUT_S s"
        fi
        sleep 0.1
    done
    # botocore's own timeouts (2 s connect, 15 s read, one attempt) bound each call.
    if ! rig_py bootstrap "$url" "$inst/admin.json" "$BOOTSTRAP_ACTIONS" >&2; then
        stop_pid "$pid" moto_server
        rm -f "$inst/pid"
        die "bootstrapping the rig-admin user on $url failed (log: $inst/moto.log)"
    fi
    spawn_watchdog "$pid" moto_server
    print_env "$inst" "$pid"
}

cmd_start() {
    (($# == 0)) || usage
    cmd_install
    command -v curl >/dev/null 2>&1 || die "curl not found"
    local port rc attempt inst pid
    rig_lock moto
    if [[ -n ${MOTO_PORT:-} ]]; then
        port=$MOTO_PORT
        if ! [[ $port =~ ^[0-9]+$ ]] || ((port < 1 || port > 65535)); then die "bad MOTO_PORT '$port'"; fi
        inst=$(inst_dir "$port")
        if pid=$(inst_pid "$inst") && [[ -f $inst/admin.json ]]; then
            print_env "$inst" "$pid"
            return 0
        fi
        [[ -n ${pid:-} ]] && stop_pid "$pid" moto_server
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

cmd_assume_role() {
    (($# <= 4)) || usage
    local port=${1:-${MOTO_PORT:-}} duration=${2:-3600} name=${3:-rig-session} role=${4:-} inst
    [[ $port =~ ^[0-9]+$ ]] || die "assume-role: give a PORT or set MOTO_PORT"
    [[ $duration =~ ^[0-9]+$ ]] || die "assume-role: bad duration '$duration'"
    inst=$(inst_dir "$port")
    inst_pid "$inst" >/dev/null || die "no rig moto server on port $port"
    [[ -z $role || $role =~ ^[A-Za-z0-9+=,.@_-]+$ ]] || die "assume-role: bad role name '$role'"
    rig_py assume-role "$(cat "$inst/url")" "$inst/admin.json" "$duration" "$name" "$role"
}

cmd_create_role() {
    (($# == 3)) || usage
    local port=$1 name=$2 policy=$3 inst
    [[ $port =~ ^[0-9]+$ ]] || die "create-role: bad port '$port'"
    [[ $name =~ ^[A-Za-z0-9+=,.@_-]+$ ]] || die "create-role: bad role name '$name'"
    [[ $policy == all || $policy == none ]] || die "create-role: policy must be all or none"
    inst=$(inst_dir "$port")
    inst_pid "$inst" >/dev/null || die "no rig moto server on port $port"
    rig_py create-role "$(cat "$inst/url")" "$inst/admin.json" "$name" "$policy"
}

stop_inst() {
    local inst=$1 pid
    pid=$(cat "$inst/pid" 2>/dev/null) || return 0
    stop_pid "$pid" moto_server
    rm -f "$inst/pid"
}

cmd_stop() {
    (($# <= 1)) || usage
    local target=${1:-${MOTO_PORT:-}} inst
    if [[ -z $target ]]; then
        for inst in "$RIG_DIR"/moto/*/; do
            [[ -d $inst && -f $inst/url ]] && stop_inst "${inst%/}"
        done
        return 0
    fi
    [[ $target =~ ^[0-9]+$ ]] || die "stop: bad port '$target'"
    stop_inst "$(inst_dir "$target")"
}

case ${1:-} in
install) shift; cmd_install "$@" ;;
start) shift; cmd_start "$@" ;;
assume-role) shift; cmd_assume_role "$@" ;;
create-role) shift; cmd_create_role "$@" ;;
stop) shift; cmd_stop "$@" ;;
*) usage ;;
esac
