#!/usr/bin/env bash
# Boots the hypervisor and its guest in QEMU. The one place the QEMU command
# line lives: `make run`, `make test` and the system tests all come here.
#
# Environment: HYP KERNEL INITRD (paths), MODE (multi|single), MEM (each
# VM's RAM: 1024, 1024M or 1G; default 1024 for one VM, 512 for several),
# APPEND (guest kernel command line), CPU, DISK (raw image file behind VM
# 0's /dev/vda; none or empty = no disk), VMS (1-4 VMs from the default
# kernel and initramfs) or VMCONF (a VM description file: scripts/machine.py
# has the format). The image is opened by QEMU for a virtio-blk-device on
# one of virt's virtio-mmio transports, which only the hypervisor drives: the
# guest gets the hypervisor's emulated disk, never QEMU's device
# (hyp/vm/vm_disk.cpp). VMs other than the first have their console on a
# TCP port, 127.0.0.1:5550+N (make console VM=N).
# GDB=1 gives the hypervisor's guest gdb stub a channel: port 1 of a
# virtio-serial device (driven by the hypervisor at EL2, never seen by the
# guest) bound to a TCP server on 127.0.0.1:GUEST_GDBPORT (default 1235); the
# guest also gets nokaslr, so its symbols sit at their link addresses.
# TRACE=1 records the hypervisor's event trace (docs/tracing.md): another
# virtio-serial port, hyp.trace, bound to the file TRACE_FILE (default
# trace.bin), which receives the dump at power-off and on Ctrl-] t;
# TRACE_EVENTS (default all) picks the events. scripts/trace.py reads it.
# HYP_DEBUG=1 (make debug sets it) tells the hypervisor a debugger is
# attached: a panic then halts every pCPU instead of powering off.
# Extra arguments are passed to QEMU.
#
# Exit status: 2 for a bad variable or missing file (one line naming the
# fix); 1 when the hypervisor printed a FATAL line (it refused to boot) or a
# panic report; otherwise QEMU's own (0 after the guest's poweroff or Ctrl-A X).
# The console goes to this terminal as with -nographic and, to decide that,
# also to a temporary log that is removed at the end. A caller passing its
# own -serial (make debug) gets QEMU's status alone.
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
MEM=${MEM:-}
APPEND=${APPEND:-console=ttyAMA0}
CPU=${CPU:-cortex-a57}
DISK=${DISK:-none}
GDB=${GDB:-0}
GUEST_GDBPORT=${GUEST_GDBPORT:-1235}
TIMESLICE=${TIMESLICE:-}
HYP_DEBUG=${HYP_DEBUG:-0}
TRACE=${TRACE:-0}
TRACE_FILE=${TRACE_FILE:-trace.bin}
TRACE_EVENTS=${TRACE_EVENTS:-all}

case "$MODE" in multi|single) ;; *) die "MODE=$MODE is not a mode: use MODE=multi or MODE=single" ;; esac
case "$GDB" in 0|1) ;; *) die "GDB=$GDB: use GDB=1 for the guest gdb stub (GDB=0 for none)" ;; esac
case "$HYP_DEBUG" in 0|1) ;; *) die "HYP_DEBUG=$HYP_DEBUG: use HYP_DEBUG=1 when a debugger is attached (0 or unset otherwise)" ;; esac
hyp_debug=()
[[ $HYP_DEBUG == 1 ]] && hyp_debug=(debug=1)
case "$TRACE" in 0|1) ;; *) die "TRACE=$TRACE: use TRACE=1 to record the event trace (TRACE=0 for none)" ;; esac
[[ $TRACE_EVENTS =~ ^[A-Za-z]+(,[A-Za-z]+)*$ ]] ||
    die "TRACE_EVENTS=$TRACE_EVENTS: use all or comma-separated event names, e.g. TRACE_EVENTS=SwitchIn,SwitchOut,SgiSend (docs/tracing.md)"
# The trace's channel: the file is truncated now, then takes every dump.
hyp_trace=()
tracedev=()
if [[ $TRACE == 1 ]]; then
    [[ -d $(dirname "$TRACE_FILE") ]] || die "TRACE_FILE=$TRACE_FILE: its directory does not exist; create it or pick another path"
    : > "$TRACE_FILE" 2>/dev/null || die "TRACE_FILE=$TRACE_FILE is not writable: pick another path"
    hyp_trace=(trace=1 trace_events=$TRACE_EVENTS)
    tracedev=(-device virtio-serial-device,max_ports=2,id=hyptracebus
              -chardev "file,id=hyptrace,path=$TRACE_FILE"
              -device virtserialport,bus=hyptracebus.0,chardev=hyptrace,nr=1,name=hyp.trace)
    echo "run-qemu: event trace to $TRACE_FILE at power-off (and Ctrl-] t): python3 scripts/trace.py $TRACE_FILE (docs/tracing.md)" >&2
fi
# Single mode's time slice in ms (the hypervisor's timeslice_ms option;
# empty: its default, 10). Checked here too so a typo is not a guest panic.
hyp_slice=()
if [[ -n $TIMESLICE ]]; then
    [[ $TIMESLICE =~ ^[1-9][0-9]{0,3}$ ]] && (( TIMESLICE <= 1000 )) ||
        die "TIMESLICE=$TIMESLICE is not a time slice: use TIMESLICE=N, N in ms from 1 to 1000 (default 10)"
    hyp_slice=(timeslice_ms=$TIMESLICE)
fi
for f in "$HYP" "$KERNEL" "$INITRD"; do
    [[ -f $f ]] || die "missing file $f: run 'make' (or fix KERNEL=/INITRD=)"
done

# The guest gdb stub's channel. QEMU would only say "Address already in
# use" after starting; check first (with SO_REUSEADDR, as QEMU binds).
hyp_gdb=()
gdbstub=()
if [[ $GDB == 1 ]]; then
    [[ $GUEST_GDBPORT =~ ^[0-9]+$ ]] && (( GUEST_GDBPORT >= 1 && GUEST_GDBPORT <= 65535 )) ||
        die "GUEST_GDBPORT=$GUEST_GDBPORT is not a TCP port: use 1-65535 (default 1235)"
    python3 -c 'import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))' "$GUEST_GDBPORT" 2>/dev/null ||
        die "GUEST_GDBPORT=$GUEST_GDBPORT is in use on 127.0.0.1: pick a free one, e.g. make run GDB=1 GUEST_GDBPORT=$(( GUEST_GDBPORT + 1 ))"
    hyp_gdb=(gdb=1)
    # Its own bus: a port without bus= goes to the first virtio-serial bus
    # with room, which may be a VM console's (VMS=2), and collides there.
    gdbstub=(-device virtio-serial-device,max_ports=2,id=hypgdb
             -chardev "socket,id=gdbstub,host=127.0.0.1,port=$GUEST_GDBPORT,server=on,wait=off"
             -device virtserialport,bus=hypgdb.0,chardev=gdbstub,nr=1,name=hyp.gdb)
    [[ " $APPEND " == *" nokaslr "* ]] || APPEND="$APPEND nokaslr"
    echo "run-qemu: guest gdb stub on 127.0.0.1:$GUEST_GDBPORT: gdb-multiarch -ex 'target remote :$GUEST_GDBPORT' (docs/debugging.md)" >&2
fi

# The machine: its VMs (VMS=, or a VMCONF= file, else the one VM of
# MODE/MEM/KERNEL/INITRD/APPEND/DISK), laid out in host memory by
# scripts/machine.py, which writes the hypervisor's machine description and
# prints the QEMU arguments that go with it (-m, image loaders, disks,
# console ports). Its errors are one line and end the run.
case "$DISK" in
    none|'') ;;
    *)
        [[ -f $DISK ]] || die "missing disk image $DISK: create it (e.g. truncate -s 64M $DISK), or use DISK=none for no disk"
        [[ -r $DISK && -w $DISK ]] || die "disk image $DISK is not readable and writable: fix its permissions, or use DISK=none"
        ;;
esac
desc=$(mktemp "${TMPDIR:-/tmp}/hyp-machine.XXXXXX")
console_log=$(mktemp "${TMPDIR:-/tmp}/run-qemu-console.XXXXXX")
trap 'rm -f "$desc" "$console_log"' EXIT
if ! machine_out=$(MODE=$MODE MEM=$MEM KERNEL=$KERNEL INITRD=$INITRD APPEND=$APPEND DISK=$DISK \
        VMS=${VMS:-} VMCONF=${VMCONF:-} python3 "$(dirname "$0")/machine.py" --desc "$desc"); then
    exit 2
fi
mapfile -t machine_args <<<"$machine_out"

qemu=(qemu-system-aarch64
    -M virt,gic-version=3,virtualization=on -cpu "$CPU" -smp 4
    -nographic -nic none
    -global virtio-mmio.force-legacy=false
    -kernel "$HYP"
    "${machine_args[@]}"
    "${gdbstub[@]}"
    "${tracedev[@]}"
    -append "mode=$MODE ${hyp_slice[*]} ${hyp_gdb[*]} ${hyp_debug[*]} ${hyp_trace[*]}")

# A caller that puts the serial port somewhere else itself (make debug) gets
# QEMU as it is, and QEMU's exit status. QEMU reads the machine description
# while it starts; it is removed a while later.
for a in "$@"; do
    if [[ $a == -serial ]]; then
        trap - EXIT
        rm -f "$console_log"
        (sleep 60; rm -f "$desc") </dev/null >/dev/null 2>&1 &
        exec "${qemu[@]}" "$@"
    fi
done

# The console stays on this terminal, muxed with QEMU's monitor as
# -nographic would have it (Ctrl-A X quits, Ctrl-A C is the monitor;
# Ctrl-C goes to the guest), and QEMU also copies it to a log. QEMU's exit
# status is 0 after any PSCI SYSTEM_OFF, a clean guest poweroff or the
# hypervisor giving up; the log tells them apart: a hypervisor line (one
# that starts with RS, 0x1E, which the guest cannot print; see
# docs/architecture.md) saying FATAL or reporting a panic makes the status 1.
# In the background (stdin kept), so that a signal to this script reaches
# QEMU too instead of leaving it running.
"${qemu[@]}" -chardev "stdio,id=console,mux=on,signal=off,logfile=$console_log" \
    -serial chardev:console -mon chardev=console,mode=readline "$@" <&0 &
qemu_pid=$!
trap 'kill -TERM "$qemu_pid" 2>/dev/null || true' TERM INT HUP
rc=0
while :; do
    wait "$qemu_pid" && rc=0 || rc=$?
    kill -0 "$qemu_pid" 2>/dev/null || break  # wait returned for a trapped signal
done
wait "$qemu_pid" && rc=0 || rc=$?

rs=$'\x1e'
if grep -aqE "^$rs(\[p[0-9]+\] )?FATAL:|^$rs\*\*\* HYPERVISOR PANIC" "$console_log"; then
    echo "run-qemu: the hypervisor stopped with a FATAL error or a panic (above): exit status 1" >&2
    exit 1
fi
exit "$rc"
