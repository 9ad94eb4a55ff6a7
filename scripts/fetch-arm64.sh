#!/usr/bin/env bash
# Fetch the arm64 guest ingredients from Debian and lay them out at stable
# paths under BUILD_DIR (see guest/README.md). Idempotent: once the stamp
# and all outputs exist it returns at once, so a second `make` is a no-op.
#
# usage: scripts/fetch-arm64.sh BUILD_DIR
set -euo pipefail

die() { echo "fetch-arm64: ERROR: $*" >&2; exit 1; }
say() { echo "fetch-arm64: $*"; }

[ $# -eq 1 ] || die "usage: $0 BUILD_DIR"
mkdir -p "$1"
B=$(cd "$1" && pwd)
STAMP="$B/.arm64-fetched"
ROOT="$B/arm64-root"
DEBS="$B/debs"
GUEST="$B/guest"
FDT="$B/libfdt"

outputs_ok() {
  [ -f "$STAMP" ] && [ -s "$GUEST/Image" ] && [ -s "$GUEST/kver" ] &&
    [ -d "$GUEST/modules/" ] && [ -x "$ROOT/bin/busybox" ] &&
    [ -f "$FDT/lib/libfdt.a" ] && [ -f "$FDT/include/libfdt.h" ] &&
    [ -f "$FDT/include/fdt.h" ] && [ -f "$FDT/include/libfdt_env.h" ]
}

outputs_ok && exit 0

# Serialise concurrent invocations (e.g. parallel make targets).
exec 9>"$B/.arm64-fetch.lock"
flock 9
outputs_ok && exit 0
rm -f "$STAMP"

export DEBIAN_FRONTEND=noninteractive
updated=0
apt_update() {
  [ "$updated" -eq 0 ] || return 0
  [ "$(id -u)" -eq 0 ] || die "need root for apt-get update (or run it once by hand)"
  say "apt-get update"
  # Non-zero can come from an unrelated unreachable source; the look-ups
  # and downloads that follow are the real check.
  apt-get update -qq >/dev/null 2>&1 || say "warning: apt-get update reported errors"
  updated=1
}

if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  [ "$(id -u)" -eq 0 ] || die "need root for 'dpkg --add-architecture arm64'"
  say "dpkg --add-architecture arm64"
  dpkg --add-architecture arm64
  apt_update
fi

# The metapackage depends on the current ABI package, e.g.
# linux-image-6.1.0-56-cloud-arm64; that one carries the Image and modules.
resolve_kernel() {
  apt-cache depends linux-image-cloud-arm64:arm64 2>/dev/null |
    awk '$1 ~ /Depends:$/ && $2 ~ /^linux-image-/ { sub(/:arm64$/, "", $2); print $2; exit }'
}
KPKG=$(resolve_kernel || true)
if [ -z "$KPKG" ]; then
  apt_update
  KPKG=$(resolve_kernel || true)
fi
[ -n "$KPKG" ] || die "cannot resolve the kernel package behind linux-image-cloud-arm64:arm64"
say "kernel package: $KPKG"

PKGS=(busybox-static:arm64 libfdt-dev:arm64 "$KPKG:arm64")

# Download only what is not already present with the right size; apt's
# --print-uris gives the exact file name and size of the candidate.
mkdir -p "$DEBS"
download() {
  local uris want=() name size
  uris=$(apt-get download --print-uris "${PKGS[@]}" 2>/dev/null) || return 1
  [ -n "$uris" ] || return 1
  while read -r _ name size _; do
    if [ -f "$DEBS/$name" ] && [ "$(stat -c %s "$DEBS/$name")" = "$size" ]; then
      say "have $name"
    else
      want+=("$name")
    fi
  done <<<"$uris"
  # Drop stale debs (older versions) so only current ones get unpacked.
  local keep
  keep=$(awk '{print $2}' <<<"$uris")
  for f in "$DEBS"/*.deb; do
    [ -e "$f" ] || continue
    grep -qxF "$(basename "$f")" <<<"$keep" || rm -f "$f"
  done
  DEB_FILES=()
  while read -r name; do DEB_FILES+=("$DEBS/$name"); done <<<"$keep"
  [ ${#want[@]} -eq 0 ] && return 0
  say "apt-get download ${PKGS[*]}"
  (cd "$DEBS" && apt-get download -qq -o APT::Sandbox::User=root "${PKGS[@]}" >/dev/null)
}
if ! download; then
  apt_update
  download || die "apt-get download failed for: ${PKGS[*]}"
fi
for f in "${DEB_FILES[@]}"; do
  [ -s "$f" ] || die "missing download $f"
done

say "unpacking ${#DEB_FILES[@]} packages into $ROOT"
rm -rf "$ROOT"
mkdir -p "$ROOT"
for f in "${DEB_FILES[@]}"; do
  dpkg-deb -x "$f" "$ROOT" || die "dpkg-deb -x failed on $f"
done

# --- kernel -----------------------------------------------------------------
mapfile -t images < <(ls "$ROOT"/boot/vmlinuz-* 2>/dev/null)
[ ${#images[@]} -eq 1 ] || die "expected one $ROOT/boot/vmlinuz-*, found ${#images[@]}"
KIMG=${images[0]}
KVER=${KIMG##*/vmlinuz-}
# Debian's arm64 vmlinuz is a raw Image: "ARM\x64" at offset 56.
magic=$(od -An -tx1 -j56 -N4 "$KIMG" | tr -d ' \n')
[ "$magic" = "41524d64" ] ||
  die "$KIMG is not an uncompressed arm64 Image (magic@56=$magic, want 41524d64)"

mkdir -p "$GUEST"
cp -f "$KIMG" "$GUEST/Image"
# Its System.map is a one-line placeholder; the real one comes from the
# -dbg package (scripts/fetch-kernel-dbg.sh, make guest-symbols). One left
# from another kernel would mislead symbol look-ups.
rm -f "$GUEST/System.map" "$GUEST/System.map.elf" "$GUEST/vmlinux"
moddir=""
for d in "$ROOT/lib/modules/$KVER" "$ROOT/usr/lib/modules/$KVER"; do
  [ -d "$d" ] && { moddir=$d; break; }
done
[ -n "$moddir" ] || die "no lib/modules/$KVER in $KPKG"
rm -rf "$GUEST/modules"
ln -s "../${moddir#"$B"/}" "$GUEST/modules"
printf '%s\n' "$KVER" >"$GUEST/kver"

# --- busybox ----------------------------------------------------------------
[ -x "$ROOT/bin/busybox" ] || die "busybox-static did not provide $ROOT/bin/busybox"

# --- libfdt -----------------------------------------------------------------
fdt_a=$(ls "$ROOT"/usr/lib/aarch64-linux-gnu/libfdt.a 2>/dev/null || true)
[ -n "$fdt_a" ] || die "libfdt-dev:arm64 did not provide usr/lib/aarch64-linux-gnu/libfdt.a"
rm -rf "$FDT"
mkdir -p "$FDT/lib" "$FDT/include"
cp -f "$fdt_a" "$FDT/lib/libfdt.a"
for h in libfdt.h fdt.h libfdt_env.h; do
  [ -f "$ROOT/usr/include/$h" ] || die "libfdt-dev:arm64 lacks usr/include/$h"
  cp -f "$ROOT/usr/include/$h" "$FDT/include/$h"
done

outputs_ok_wo_stamp() { touch "$STAMP"; outputs_ok; }
outputs_ok_wo_stamp || { rm -f "$STAMP"; die "outputs incomplete after fetch"; }
say "done: $KPKG ($KVER), Image $(stat -c %s "$GUEST/Image") bytes"
