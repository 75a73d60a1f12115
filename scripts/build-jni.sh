#!/usr/bin/env bash
# Builds the JNI library as shipped in the jar, and its native.properties.
#
#   scripts/build-jni.sh OUTDIR
#
# Runs `cargo zigbuild --release --target x86_64-unknown-linux-gnu.2.17 -p freshcreds --lib`
# (glibc 2.17 baseline; the zig toolchain comes from scripts/zig-toolchain.sh), then writes
#   OUTDIR/dev/freshcreds/native/linux-x86_64/libfreshcreds.so
#   OUTDIR/dev/freshcreds/native/linux-x86_64/native.properties   (version, sha256, glibc)
# OUTDIR is a resource root of the freshcreds jar. The Maven build calls this; cargo keeps
# it incremental. CARGO_TARGET_DIR is honoured (default <repo>/target); FRESHCREDS_NATIVE_SRC
# builds the crate from another checkout of this repository (default: this one).
set -euo pipefail
(($# == 1)) || { echo "usage: $0 OUTDIR" >&2; exit 64; }
out=$1
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
triple=x86_64-unknown-linux-gnu
glibc=2.17
platform=linux-x86_64

zig_bin=$("$repo/scripts/zig-toolchain.sh")
export PATH="$zig_bin:$PATH"
target_dir=${CARGO_TARGET_DIR:-${FRESHCREDS_NATIVE_SRC:-$repo}/target}

cd "${FRESHCREDS_NATIVE_SRC:-$repo}"
cargo zigbuild --release -p freshcreds --lib --target "$triple.$glibc" >&2
lib=$target_dir/$triple/release/libfreshcreds.so
[[ -f $lib ]] || { echo "build-jni: $lib was not built" >&2; exit 1; }

dest=$out/dev/freshcreds/native/$platform
mkdir -p "$dest"
cp "$lib" "$dest/libfreshcreds.so.tmp"
mv -f "$dest/libfreshcreds.so.tmp" "$dest/libfreshcreds.so"
version=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' "$repo/Cargo.toml")
sha=$(sha256sum "$dest/libfreshcreds.so" | cut -d' ' -f1)
cat >"$dest/native.properties.tmp" <<PROPS
# The JNI library next to this file, as built by scripts/build-jni.sh.
version=$version
file=libfreshcreds.so
sha256=$sha
target=$triple
glibc=$glibc
PROPS
mv -f "$dest/native.properties.tmp" "$dest/native.properties"
