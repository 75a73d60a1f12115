#!/usr/bin/env bash
# Prints the absolute path of libfaketime.so.1, for LD_PRELOAD, e.g.
#   LD_PRELOAD=$(tests/rig/faketime-lib.sh) FAKETIME=-7m FAKETIME_DONT_FAKE_MONOTONIC=1 java ...
# Prefers the copy install.sh unpacked into $FRESHCREDS_RIG_DIR; falls back to a
# system-wide Debian libfaketime; otherwise runs install.sh first.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if lib=$(rig_faketime_lib); then
    echo "$lib"
    exit 0
fi
for lib in /usr/lib/*/faketime/libfaketime.so.1; do
    [[ -f $lib ]] && { echo "$lib"; exit 0; }
done
rig_ensure_installed
lib=$(rig_faketime_lib) || die "libfaketime.so.1 not found after install.sh"
echo "$lib"
