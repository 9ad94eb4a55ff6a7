#!/usr/bin/env bash
# Boots the hypervisor and its guest in QEMU. The one place the QEMU command
# line lives: `make run`, `make test` and the system tests all come here.
#
# Environment: HYP KERNEL INITRD (paths), MODE (multi|single), MEM (guest
# RAM: 1024, 1024M or 1G), APPEND (guest kernel command line), CPU,
# DISK (host file backing the guest's virtio-blk /dev/vda; empty = no disk).
# A disk turns on QEMU semihosting, which the hypervisor uses to reach the
# file -- and which the guest kernel can use as well: only for trusted guests
# (see hyp/arch/aarch64/block.cpp).
# Extra arguments are passed to QEMU.
#
# virtio-mmio.force-legacy=false: QEMU's virt transports default to the
# legacy (version 1) registers; the hypervisor's virtio drivers speak only
# the modern (version 2) ones. The guest never sees these transports.
set -euo pipefail

die() { echo "run-qemu: $*" >&2; exit 2; }

: "${HYP:?HYP= path to hyp.elf}"
: "${KERNEL:?KERNEL= path to an arm64 Image}"
: "${INITRD:?INITRD= path to an initramfs}"
MODE=${MODE:-multi}
MEM=${MEM:-1024}
APPEND=${APPEND:-console=ttyAMA0}
CPU=${CPU:-cortex-a57}
DISK=${DISK:-}

case "$MODE" in multi|single) ;; *) die "MODE=$MODE is not a mode: use MODE=multi or MODE=single" ;; esac
case "$MEM" in
    *[!0-9MG]*|''|[MG]*) die "MEM=$MEM is not a size: use MiB (MEM=1024) or a suffix (MEM=512M, MEM=2G)" ;;
    *G) mem_mib=$(( ${MEM%G} * 1024 )) ;;
    *M) mem_mib=${MEM%M} ;;
    *) mem_mib=$MEM ;;
esac
[[ $mem_mib =~ ^[0-9]+$ ]] || die "MEM=$MEM is not a size: use MiB (MEM=1024) or a suffix (MEM=512M, MEM=2G)"
(( mem_mib >= 256 && mem_mib <= 3008 )) || die "MEM=$MEM out of range: guest RAM must be 256 MiB to 3008 MiB"
for f in "$HYP" "$KERNEL" "$INITRD"; do
    [[ -f $f ]] || die "missing file $f: run 'make' (or fix KERNEL=/INITRD=)"
done

# Must match hyp/include/config.h: guest RAM starts 64 MiB into host RAM
# (kHypReserved) at 0x44000000; the kernel sits at its start and the initrd
# 128 MiB in (kGuestLayout.kernel_offset / initrd_offset).
guest_pa=$(( 0x40000000 + 64 * 1024 * 1024 ))
kernel_pa=$(printf '0x%x' $(( guest_pa + 0 )))
initrd_pa=$(printf '0x%x' $(( guest_pa + 0x08000000 )))
initrd_size=$(stat -c %s "$INITRD")

# The disk: the hypervisor opens it through semihosting (QEMU resolves the
# path from its own working directory, hence absolute), and takes the path
# as a blank-separated option.
hyp_disk=()
semihosting=()
if [[ -n $DISK ]]; then
    [[ -f $DISK ]] || die "missing disk image $DISK: create it (e.g. truncate -s 64M $DISK) or set DISK= for none"
    DISK=$(realpath "$DISK")
    [[ $DISK != *[[:space:]]* ]] || die "DISK=$DISK: the path must not contain blanks"
    hyp_disk=("disk=$DISK")
    semihosting=(-semihosting-config enable=on,target=native)
fi

exec qemu-system-aarch64 \
    -M virt,gic-version=3,virtualization=on -cpu "$CPU" -smp 4 -m $(( mem_mib + 64 ))M \
    -nographic -nic none \
    -global virtio-mmio.force-legacy=false \
    -kernel "$HYP" \
    -device loader,file="$KERNEL",addr="$kernel_pa",force-raw=on \
    -device loader,file="$INITRD",addr="$initrd_pa",force-raw=on \
    "${semihosting[@]}" \
    -append "mode=$MODE initrd_size=$initrd_size ${hyp_disk[*]} -- $APPEND" \
    "$@"
