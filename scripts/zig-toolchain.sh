#!/usr/bin/env bash
# Installs the pinned zig toolchain the shipped JNI library is linked with, into a Python
# venv (PyPI: cargo-zigbuild and ziglang), and prints the venv's bin directory.
#
#   scripts/zig-toolchain.sh        install if needed, print e.g. /repo/target/tools/zig-venv/bin
#
# Why zig: the library must load on distributions older than the build machine. Linking
# with `cargo zigbuild --target x86_64-unknown-linux-gnu.2.17` pins the glibc symbol
# versions it needs to 2.17 (see DESIGN.md, Build notes). Idempotent: a marker file records
# the installed versions; nothing is downloaded when they match. Progress goes to stderr.
# State: $FRESHCREDS_TOOLS_DIR (default <repo>/target/tools).
set -euo pipefail
CARGO_ZIGBUILD_VERSION=0.24.0
ZIGLANG_VERSION=0.17.0

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tools=${FRESHCREDS_TOOLS_DIR:-$repo/target/tools}
venv=$tools/zig-venv
want="cargo-zigbuild==$CARGO_ZIGBUILD_VERSION ziglang==$ZIGLANG_VERSION"

if [[ $(cat "$venv/.installed" 2>/dev/null || true) != "$want" ]]; then
    echo "zig-toolchain: installing $want into $venv" >&2
    mkdir -p "$tools"
    exec 9>"$tools/.zig-venv.lock"
    flock -w 600 9
    if [[ $(cat "$venv/.installed" 2>/dev/null || true) != "$want" ]]; then
        rm -rf "$venv"
        python3 -m venv "$venv" >&2
        "$venv/bin/pip" install -q --disable-pip-version-check \
            "cargo-zigbuild==$CARGO_ZIGBUILD_VERSION" "ziglang==$ZIGLANG_VERSION" >&2
        echo "$want" >"$venv/.installed"
    fi
fi
echo "$venv/bin"
