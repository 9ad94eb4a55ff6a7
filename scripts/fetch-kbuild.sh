#!/usr/bin/env bash
# Fetch what building an out-of-tree module for the guest kernel needs, from
# Debian, and unpack it under BUILD_DIR/kbuild/ (never installed on the host):
#
#   linux-headers-<kver>:arm64      .config, Module.symvers, arch headers
#   linux-headers-<kver-common>     the common source headers (Architecture: all)
#   linux-kbuild-<x.y>:<host arch>  fixdep, modpost, genksyms built for this host
#
# all at exactly the version of the guest kernel package (BUILD_DIR/debs/
# linux-image-<kver>_*.deb, from scripts/fetch-arm64.sh). Then
#
#   make -C BUILD_DIR/kbuild/kdir M=DIR ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- modules
#
# builds DIR's module with Debian's cross gcc 12, the compiler the kernel was
# built with. Idempotent: once the stamp and kdir exist it returns at once.
#
# usage: scripts/fetch-kbuild.sh BUILD_DIR
set -euo pipefail

die() { echo "fetch-kbuild: ERROR: $*" >&2; exit 1; }
say() { echo "fetch-kbuild: $*"; }
# shellcheck source=lib/apt.sh
. "$(dirname "$0")/lib/apt.sh"

[ $# -eq 1 ] || die "usage: $0 BUILD_DIR"
B=$(cd "$1" && pwd) || die "no such BUILD_DIR: $1"
K="$B/kbuild"
STAMP="$B/.kbuild-fetched"

KVER=$(cat "$B/guest/kver" 2>/dev/null) || die "$B/guest/kver missing: run scripts/fetch-arm64.sh $1 first"
outputs_ok() {
  [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$KVER" ] && [ -f "$K/kdir/Makefile" ] &&
    [ -f "$K/kdir/Module.symvers" ] && [ -x "$K/kdir/scripts/mod/modpost" ]
}
outputs_ok && exit 0

exec 9>"$B/.kbuild-fetch.lock"
flock 9
outputs_ok && exit 0
rm -f "$STAMP"

# The guest kernel's exact package version: headers of another build of the
# same ABI would give a module with the wrong vermagic or symbol CRCs.
mapfile -t image_debs < <(ls "$B"/debs/linux-image-"$KVER"_*.deb 2>/dev/null)
[ ${#image_debs[@]} -eq 1 ] || die "no $B/debs/linux-image-${KVER}_*.deb: run scripts/fetch-arm64.sh $1 again"
VER=$(dpkg-deb -f "${image_debs[0]}" Version)
HOST_ARCH=$(dpkg --print-architecture)

DEBS="$K/debs"
mkdir -p "$DEBS"
export DEBIAN_FRONTEND=noninteractive
get() {   # apt-get download PKG=VERSION..., those not downloaded yet
  local missing=() p
  for p in "$@"; do
    local name=${p%%[:=]*} v=${p##*=}
    compgen -G "$DEBS/${name}_${v//:/%3a}_*.deb" >/dev/null || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "apt-get download ${missing[*]}"
  apt_download "$DEBS" "${missing[@]}"
}

get "linux-headers-$KVER:arm64=$VER"
HDR=$(ls "$DEBS"/linux-headers-"$KVER"_*_arm64.deb)
# Its Depends names the common headers and the kbuild package, e.g.
# "linux-headers-6.1.0-57-common (= 6.1.192-3), linux-kbuild-6.1 (>= ...), gcc-12".
deps=$(dpkg-deb -f "$HDR" Depends | tr ',' '\n' | awk '{print $1}')
COMMON=$(grep -x 'linux-headers-.*-common' <<<"$deps") || die "no -common headers in the Depends of $HDR"
KBUILD=$(grep -x 'linux-kbuild-.*' <<<"$deps") || die "no linux-kbuild in the Depends of $HDR"
get "$COMMON=$VER" "$KBUILD:$HOST_ARCH=$VER"

say "unpacking $KVER headers and $KBUILD ($HOST_ARCH) into $K/root"
rm -rf "$K/root" "$K/kdir"
mkdir -p "$K/root"
for f in "$HDR" "$DEBS/${COMMON}_${VER//:/%3a}_all.deb" "$DEBS/${KBUILD}_${VER//:/%3a}_${HOST_ARCH}.deb"; do
  [ -f "$f" ] || die "missing download $f"
  dpkg-deb -x "$f" "$K/root" || die "dpkg-deb -x failed on $f"
done
src="$K/root/usr/src/linux-headers-$KVER"
[ -f "$src/Makefile" ] || die "$HDR has no usr/src/linux-headers-$KVER/Makefile"
# The arch tree's Makefile includes the common one by its installed,
# absolute path; point it at the unpacked copy. Everything else is relative.
sed -i "s|^include /usr/src/|include $K/root/usr/src/|" "$src/Makefile"
grep -q "^include $K/root/usr/src/$COMMON/Makefile" "$src/Makefile" ||
  die "unexpected $src/Makefile: $(head -c 200 "$src/Makefile")"
ln -s "root/usr/src/linux-headers-$KVER" "$K/kdir"
[ -x "$K/kdir/scripts/mod/modpost" ] || die "$KBUILD gave no scripts/mod/modpost"

printf '%s\n' "$KVER" >"$STAMP"
outputs_ok || { rm -f "$STAMP"; die "outputs incomplete after fetch"; }
say "done: module build tree for $KVER ($VER) at $K/kdir"
