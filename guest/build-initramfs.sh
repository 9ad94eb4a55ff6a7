#!/usr/bin/env bash
# Build the guest initramfs: static aarch64 BusyBox + guest/init.
# Output is deterministic (sorted entries, mtime 0, owner 0:0, no gzip
# timestamp), so rebuilding from the same inputs gives the same bytes.
#
# Two optional additions, both copied in after BusyBox (so they may replace
# an applet link):
#   BUILD_DIR/guest/extra/   every file under it lands at the same path in
#                            the archive root (extra/bin/hbench -> /bin/hbench);
#                            directories that are symlinks in the archive
#                            (/sbin, /usr/bin) are kept and written through.
#   guest/modules.list       kernel modules, one path per line relative to
#                            lib/modules/<kver>/kernel/ ('#' comments and blank
#                            lines ignored), copied from BUILD_DIR/guest/modules/
#                            to /lib/modules/<kver>/kernel/<path> in the archive,
#                            e.g. drivers/virtio/virtio.ko. No list, no modules.
#
# usage: guest/build-initramfs.sh BUILD_DIR OUT.cpio.gz
set -euo pipefail

die() { echo "build-initramfs: ERROR: $*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: $0 BUILD_DIR OUT.cpio.gz"
B=$(cd "$1" && pwd) || die "no such BUILD_DIR: $1"
OUT=$2
HERE=$(cd "$(dirname "$0")" && pwd)
BB="$B/arm64-root/bin/busybox"
INIT="$HERE/init"

[ -f "$BB" ] || die "$BB missing; run scripts/fetch-arm64.sh $1 first"
[ -f "$INIT" ] || die "$INIT missing"
command -v cpio >/dev/null || die "cpio not installed (scripts/setup-host.sh)"

# The aarch64 BusyBox cannot run here to list its applets. Its applet name
# table is one NUL-separated, sorted run starting "[\0[[\0"; read it out.
applets_from_binary() {
  command -v python3 >/dev/null || return 1
  python3 - "$BB" <<'PY'
import sys, re
d = open(sys.argv[1], 'rb').read()
i = d.find(b'[\x00[[\x00')
if i < 0:
    sys.exit(1)
names = []
for s in d[i:].split(b'\x00'):
    if not s:
        break
    names.append(s.decode('ascii'))
if len(names) < 50 or not all(re.fullmatch(r'[\[\]a-z0-9_.+-]+', n) for n in names):
    sys.exit(1)
print('\n'.join(names))
PY
}
FALLBACK_APPLETS="[ [[ sh ash ls cat echo printf mount umount mkdir rmdir grep egrep
dmesg poweroff reboot halt sleep usleep taskset devmem dd md5sum sha256sum time
timeout top ps kill killall uname head tail wc sync insmod rmmod lsmod modprobe
modinfo depmod setsid cttyhack hostname true false seq yes date free uptime
mknod chmod chown ln rm cp mv sed awk tr cut sort uniq xargs find stty env
nproc watch vi hexdump xxd od expr test tee touch stat readlink dirname
basename pwd which clear reset tty sysctl pidof nsenter unshare"

if applets=$(applets_from_binary); then
  src="busybox applet table"
else
  applets=$(tr ' ' '\n' <<<"$FALLBACK_APPLETS")
  src="built-in fallback list"
fi

STAGE="$B/initramfs-root"
rm -rf "$STAGE"
mkdir -p "$STAGE"/{bin,dev,proc,sys,tmp,root,etc,mnt}
ln -s bin "$STAGE/sbin"
mkdir -p "$STAGE/usr"
ln -s ../bin "$STAGE/usr/bin"
ln -s ../bin "$STAGE/usr/sbin"
install -m 0755 "$BB" "$STAGE/bin/busybox"
install -m 0755 "$INIT" "$STAGE/init"
chmod 1777 "$STAGE/tmp"
chmod 0700 "$STAGE/root"
echo 'root:x:0:0:root:/root:/bin/sh' >"$STAGE/etc/passwd"
echo 'root:x:0:' >"$STAGE/etc/group"

n=0
while read -r a; do
  case "$a" in ""|busybox|*/*) continue ;; esac
  ln -sf busybox "$STAGE/bin/$a"
  n=$((n + 1))
done <<<"$applets"

# Extra files (guest programs such as build/guest/extra/bin/hbench). tar,
# not cp: cp would write through an applet symlink into busybox itself.
EXTRA="$B/guest/extra"
nextra=0
if [ -d "$EXTRA" ]; then
  nextra=$(find "$EXTRA" -mindepth 1 ! -type d | wc -l)
  (cd "$EXTRA" && tar -cf - --sort=name .) |
    (cd "$STAGE" && tar -xf - --no-same-owner --no-overwrite-dir --keep-directory-symlink)
fi

# Kernel modules named in guest/modules.list.
MODLIST="$HERE/modules.list"
nmod=0
if [ -f "$MODLIST" ]; then
  KVER=$(cat "$B/guest/kver" 2>/dev/null) || die "$B/guest/kver missing; run scripts/fetch-arm64.sh $1 first"
  MODSRC="$B/guest/modules/kernel"
  while read -r m _; do
    case "$m" in ""|"#"*) continue ;; esac
    case "/$m/" in */../*) die "modules.list: '$m' leaves the module tree" ;; esac
    [ -f "$MODSRC/$m" ] || die "modules.list: no module $MODSRC/$m"
    install -D -m 0644 "$MODSRC/$m" "$STAGE/lib/modules/$KVER/kernel/$m"
    nmod=$((nmod + 1))
  done <"$MODLIST"
fi

# The kernel opens /dev/console before /init runs (devtmpfs is not mounted
# yet). mknod needs root; without it /init reopens the console itself.
if [ "$(id -u)" -eq 0 ]; then
  mknod -m 0600 "$STAGE/dev/console" c 5 1
  mknod -m 0666 "$STAGE/dev/null" c 1 3
else
  echo "build-initramfs: note: not root, archive has no /dev/console" >&2
fi

find "$STAGE" -exec touch -h -d @0 {} +

mkdir -p "$(dirname "$OUT")"
tmp="$OUT.tmp.$$"
trap 'rm -f "$tmp"' EXIT
(cd "$STAGE" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort |
  cpio -o -H newc -R 0:0 --reproducible --quiet) | gzip -9 -n >"$tmp"
mv -f "$tmp" "$OUT"
trap - EXIT
echo "build-initramfs: $OUT ($(stat -c %s "$OUT") bytes, $n applets from $src, $nextra extra files, $nmod modules)"
