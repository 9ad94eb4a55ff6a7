#!/usr/bin/env bash
# The guest kernel's real symbols, from Debian's debug package for it.
#
# linux-image-<kver>_*.deb (the guest kernel, scripts/fetch-arm64.sh) ships
# a one-line placeholder System.map; the real one is in
# linux-image-<kver>-dbg, at exactly the same package version, beside a
# vmlinux with full DWARF. That package is large (260 MB download, 1.4 GB
# unpacked, nearly all of it module debug info), so only the files asked for
# are taken out of it and the .deb is deleted afterwards:
#
#   BUILD_DIR/guest/System.map   always (3.7 MB)
#   BUILD_DIR/guest/vmlinux      with --vmlinux (270 MB, for gdb's symbol-file)
#
# The guest runs with nokaslr under GDB=1, so these addresses are the ones
# the running kernel uses. Idempotent: files already there are kept.
#
# usage: scripts/fetch-kernel-dbg.sh BUILD_DIR [--vmlinux]
set -euo pipefail

die() { echo "fetch-kernel-dbg: ERROR: $*" >&2; exit 1; }
say() { echo "fetch-kernel-dbg: $*"; }
# shellcheck source=lib/apt.sh
. "$(dirname "$0")/lib/apt.sh"

[ $# -ge 1 ] && [ $# -le 2 ] || die "usage: $0 BUILD_DIR [--vmlinux]"
B=$(cd "$1" && pwd) || die "no such BUILD_DIR: $1"
WANT_VMLINUX=0
if [ $# -eq 2 ]; then
  [ "$2" = "--vmlinux" ] || die "unknown option $2 (usage: $0 BUILD_DIR [--vmlinux])"
  WANT_VMLINUX=1
fi
G="$B/guest"
KVER=$(cat "$G/kver" 2>/dev/null) || die "$G/kver missing: run scripts/fetch-arm64.sh $1 first"

# A System.map with one line is Debian's placeholder, not a symbol table.
map_ok() { [ -f "$G/System.map" ] && [ "$(head -c 4096 "$G/System.map" | wc -l)" -gt 10 ]; }
vmlinux_ok() { [ -f "$G/vmlinux" ] && [ "$(head -c 4 "$G/vmlinux" | od -An -tx1 | tr -d ' \n')" = "7f454c46" ]; }
done_ok() { map_ok && { [ $WANT_VMLINUX -eq 0 ] || vmlinux_ok; }; }
done_ok && exit 0

exec 9>"$B/.kernel-dbg-fetch.lock"
flock 9
done_ok && exit 0

mapfile -t image_debs < <(ls "$B"/debs/linux-image-"$KVER"_*.deb 2>/dev/null)
[ ${#image_debs[@]} -eq 1 ] || die "no $B/debs/linux-image-${KVER}_*.deb: run scripts/fetch-arm64.sh $1 again"
VER=$(dpkg-deb -f "${image_debs[0]}" Version)
PKG="linux-image-$KVER-dbg"

TMP=$(mktemp -d "$B/.kernel-dbg.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
export DEBIAN_FRONTEND=noninteractive
keep="System.map is"
[ $WANT_VMLINUX -eq 1 ] && keep="System.map and vmlinux are"
say "apt-get download $PKG:arm64=$VER (about 260 MB; only $keep kept)"
apt_download "$TMP" "$PKG:arm64=$VER"
deb=$(ls "$TMP"/"$PKG"_*.deb)

members=("./usr/lib/debug/boot/System.map-$KVER")
[ $WANT_VMLINUX -eq 1 ] && members+=("./usr/lib/debug/boot/vmlinux-$KVER")
say "unpacking ${members[*]##*/}"
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$TMP" "${members[@]}" ||
  die "$deb has no ${members[*]}"
mv -f "$TMP/usr/lib/debug/boot/System.map-$KVER" "$G/System.map"
[ $WANT_VMLINUX -eq 1 ] && mv -f "$TMP/usr/lib/debug/boot/vmlinux-$KVER" "$G/vmlinux"
done_ok || die "unpacked files are not a System.map$([ $WANT_VMLINUX -eq 1 ] && echo ' and an ELF vmlinux')"
say "done: $G/System.map ($(wc -l <"$G/System.map") symbols)$([ $WANT_VMLINUX -eq 1 ] && echo ", $G/vmlinux")"
