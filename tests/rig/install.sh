#!/usr/bin/env bash
# Installs the third-party stand-ins the freshcreds test rig runs on loopback:
#   - amazon-ec2-metadata-mock (AEMM) v1.13.0, built with `go install` into $RIG_DIR/bin
#   - chronyd and libfaketime.so.1 from Debian, unpacked into $RIG_DIR/deb/root
#   - moto[server] (PyPI) in a venv under $RIG_DIR/moto/venv (moto.sh install)
# Idempotent; prints nothing when everything is already in place (progress and
# errors go to stderr). State: $FRESHCREDS_RIG_DIR (default <repo>/target/rig).
#
# Why Debian's chrony is unpacked (`apt-get download` + `dpkg -x`) rather than
# installed with `apt-get install chrony`:
#   - the chrony package Conflicts with systemd-timesyncd, which this machine has:
#     installing it removes timesyncd (checked with `apt-get install -s chrony`);
#   - its maintainer scripts create the _chrony user and try to start the system
#     service. In this container only Docker's /usr/sbin/policy-rc.d (exit 101) keeps
#     invoke-rc.d from starting a root chronyd *with* clock control; without that file
#     a system chronyd would start, stay running and try to steer the host clock;
#   - `dpkg -x` needs no root, changes nothing outside $RIG_DIR and is trivially
#     undone (rm -rf). The rig runs chronyd itself: `chronyd -x -d -f conf` (never
#     touches the clock, stays in the foreground, config/pid/drift files in the rig).
# chronyd's shared libraries (libcap2 libedit2 libgnutls30 libnettle8 libseccomp2 and
# theirs) are part of the base Debian 12 image here; install.sh checks with ldd and
# installs only those library packages (no services) if one is missing.
# libfaketime is unpacked the same way for uniformity; `apt-get install faketime` would
# also be harmless, and faketime-lib.sh falls back to the system copy if present.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CHRONY_LIB_PACKAGES=(libcap2 libedit2 libgnutls30 libnettle8 libseccomp2)

rig_lock install 900
log_file=$RIG_DIR/install.log

# run_logged DESCRIPTION CMD...: run quietly, show the output only on failure.
run_logged() {
    local what=$1
    shift
    if ! "$@" >"$log_file" 2>&1; then
        cat "$log_file" >&2
        die "$what failed (command: $*)"
    fi
}

as_root() {
    if [[ $EUID -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n "$@"
    else
        die "need root for: $*"
    fi
}

apt_updated=0
apt_update_once() {
    ((apt_updated)) && return 0
    note "running apt-get update"
    run_logged "apt-get update" as_root apt-get update -q
    apt_updated=1
}

# ---- basic tools the rig scripts use ----------------------------------------------
need_pkgs=()
command -v python3 >/dev/null 2>&1 || need_pkgs+=(python3)
command -v curl >/dev/null 2>&1 || need_pkgs+=(curl)
command -v dpkg-deb >/dev/null 2>&1 || need_pkgs+=(dpkg)
if ((${#need_pkgs[@]})); then
    note "installing ${need_pkgs[*]}"
    apt_update_once
    run_logged "apt-get install ${need_pkgs[*]}" as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends "${need_pkgs[@]}"
fi

# ---- AEMM ---------------------------------------------------------------------------
aemm_ok() {
    [[ -x $AEMM_BIN ]] && [[ $("$AEMM_BIN" --version 2>/dev/null || true) == "$AEMM_VERSION" ]]
}
if ! aemm_ok; then
    go_bin=$(command -v go 2>/dev/null || true)
    [[ -n $go_bin ]] || { [[ -x /usr/local/go/bin/go ]] && go_bin=/usr/local/go/bin/go; }
    [[ -n $go_bin ]] || die "go not found (needed to build ec2-metadata-mock)"
    note "building ec2-metadata-mock $AEMM_VERSION (go install)"
    mkdir -p "$RIG_DIR/bin"
    run_logged "go install $AEMM_MODULE@$AEMM_VERSION" \
        env GOBIN="$RIG_DIR/bin" GOFLAGS=-buildvcs=false "$go_bin" install "$AEMM_MODULE@$AEMM_VERSION"
    aemm_ok || die "$AEMM_BIN does not report version $AEMM_VERSION"
fi

# ---- chrony + libfaketime (unpacked, see header) -------------------------------------
deb_ok() {
    [[ -x $CHRONYD ]] && rig_faketime_lib >/dev/null
}
if ! deb_ok; then
    note "unpacking Debian chrony and libfaketime into $DEB_ROOT"
    dl=$RIG_DIR/deb/download
    rm -rf "$dl" "$DEB_ROOT"
    mkdir -p "$dl" "$DEB_ROOT"
    download() {
        # Sandbox::User=root: the rig dir may not be readable by _apt (avoids a warning).
        (cd "$dl" && apt-get download -q -o APT::Sandbox::User=root chrony libfaketime)
    }
    if ! download >"$log_file" 2>&1; then
        # A fresh machine may have empty package lists.
        apt_update_once
        run_logged "apt-get download chrony libfaketime" download
    fi
    for deb in "$dl"/*.deb; do
        run_logged "dpkg -x $deb" dpkg-deb -x "$deb" "$DEB_ROOT"
    done
    deb_ok || die "chronyd or libfaketime.so.1 missing after unpacking (see $dl)"
fi

# chronyd's shared libraries must come from the system.
if ldd "$CHRONYD" 2>/dev/null | grep -q 'not found'; then
    note "installing chronyd's shared libraries: ${CHRONY_LIB_PACKAGES[*]}"
    apt_update_once
    run_logged "apt-get install ${CHRONY_LIB_PACKAGES[*]}" as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends "${CHRONY_LIB_PACKAGES[@]}"
    if ldd "$CHRONYD" | grep 'not found' >&2; then
        die "chronyd still has unresolved shared libraries (above)"
    fi
fi
"$CHRONYD" -v >/dev/null 2>&1 || die "$CHRONYD does not run"
rm -f "$log_file"

# ---- moto server (PyPI), in its own venv ---------------------------------------------
"$RIG_SCRIPTS_DIR/moto.sh" install >&2
