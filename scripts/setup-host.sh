#!/usr/bin/env bash
# Install the host Debian packages this project needs (idempotent).
# Only missing packages are installed; apt-get update runs only then.
set -euo pipefail

PKGS=(
  qemu-system-arm        # provides qemu-system-aarch64
  ipxe-qemu              # efi-virtio.rom for virt's default NIC (a Recommends)
  gdb-multiarch
  device-tree-compiler
  cpio
  e2fsprogs              # mkfs.ext2: the default guest disk image (build/disk.img)
  libfdt-dev             # host libfdt, used by unit tests
  googletest
  libgtest-dev
  cmake
  python3
  gcc-aarch64-linux-gnu  # cross compiler for guest-side user programs (guest/bench)
  libc6-dev-arm64-cross  # its glibc headers and static libc (only a Recommends)
  gnuplot-nox            # make bench: the chart (pngcairo; no X11)
)

die() { echo "setup-host: ERROR: $*" >&2; exit 1; }

installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'
}

missing=()
for p in "${PKGS[@]}"; do
  installed "$p" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup-host: all ${#PKGS[@]} host packages already installed"
  exit 0
fi

[ "$(id -u)" -eq 0 ] || die "need root to install: ${missing[*]}"

export DEBIAN_FRONTEND=noninteractive
echo "setup-host: apt-get update"
# A stray unreachable third-party source makes update exit non-zero even
# though the Debian lists were refreshed; the install below is the real test.
apt-get update -qq >/dev/null 2>&1 || echo "setup-host: warning: apt-get update reported errors, trying install anyway"

echo "setup-host: installing ${missing[*]}"
log=$(mktemp)
if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$log" 2>&1; then
  tail -n 5 "$log" >&2
  rm -f "$log"
  die "apt-get install failed for: ${missing[*]}"
fi
rm -f "$log"

for p in "${missing[@]}"; do
  installed "$p" || die "package $p still not installed after apt-get install"
done
echo "setup-host: done"
