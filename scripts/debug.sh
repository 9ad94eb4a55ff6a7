#!/usr/bin/env bash
# `make debug`: QEMU halted at the first instruction with its gdb stub on
# 127.0.0.1:GDBPORT, and gdb-multiarch attached with the hypervisor's symbols
# and the hv-* helpers (scripts/gdb/) loaded. QEMU is started through
# scripts/run-qemu.sh, so every variable of `make run` applies unchanged.
#
# Environment: everything run-qemu.sh takes (HYP KERNEL INITRD MODE MEM CPU
# APPEND DISK), plus
#   GDBPORT    TCP port of QEMU's gdb stub (default 1234)
#   GDBCMDS    gdb command file: run gdb in batch mode with it, then stop QEMU
#   DEBUG_DIR  where the guest console log and QEMU's own messages go
#              (default build/debug: console.log, qemu.log)
#
# Interactive: the guest console stays on this terminal while the target
# runs (the gdb helpers bridge it through a socket, and copy it to
# console.log); at the gdb prompt the keyboard is gdb's. Batch (GDBCMDS):
# the guest console goes to console.log only, so gdb's output stays readable.
# Either way QEMU is killed when gdb exits.
set -euo pipefail

die() { echo "debug: $*" >&2; exit 2; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
: "${HYP:?HYP= path to hyp.elf}"
GDBPORT=${GDBPORT:-1234}
GDBCMDS=${GDBCMDS:-}
DEBUG_DIR=${DEBUG_DIR:-build/debug}

[[ $GDBPORT =~ ^[0-9]+$ ]] && (( GDBPORT >= 1 && GDBPORT <= 65535 )) ||
    die "GDBPORT=$GDBPORT is not a TCP port: use a number from 1 to 65535 (default 1234)"
[[ -z $GDBCMDS || -f $GDBCMDS ]] ||
    die "GDBCMDS=$GDBCMDS: no such file: give a gdb command file, or no GDBCMDS= for an interactive session"
[[ -f $HYP ]] || die "missing file $HYP: run 'make'"
command -v gdb-multiarch >/dev/null || die "gdb-multiarch is not installed: run 'make setup'"

# Free if we can bind it the way QEMU will (SO_REUSEADDR: a closed
# connection in TIME_WAIT does not count). Never connect to probe: a
# connection to another session's stub would resume its halted QEMU.
port_free() {
    python3 - "$1" <<'EOF'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
EOF
}
port_free "$GDBPORT" ||
    die "GDBPORT=$GDBPORT is in use (another debug session or QEMU?): pick a free port, e.g. make debug GDBPORT=$(( GDBPORT % 65535 + 1 ))"

mkdir -p "$DEBUG_DIR"
console_log=$(realpath "$DEBUG_DIR")/console.log
qemu_log=$(realpath "$DEBUG_DIR")/qemu.log
: > "$console_log"
if [[ -n $GDBCMDS ]]; then
    serial=(-serial "file:$console_log")
    export HYP_GDB_CONSOLE_SOCK=
else
    sock=$(realpath "$DEBUG_DIR")/console.sock
    rm -f "$sock"
    serial=(-chardev "socket,id=hvcon,path=$sock,server=on,wait=off" -serial chardev:hvcon)
    export HYP_GDB_CONSOLE_SOCK=$sock
fi
export HYP_GDB_CONSOLE_LOG=$console_log

# Own session: a Ctrl-C typed for gdb must not reach QEMU. The monitor is
# off (it would claim stdio); gdb's `monitor CMD` reaches it anyway.
# HYP_DEBUG=1: a hypervisor panic halts every pCPU for gdb instead of
# powering QEMU off.
HYP_DEBUG=1 setsid "$ROOT/scripts/run-qemu.sh" -S -gdb "tcp:127.0.0.1:$GDBPORT" "${serial[@]}" -monitor none \
    </dev/null >"$qemu_log" 2>&1 &
qemu_pid=$!
export HYP_GDB_QEMU_PID=$qemu_pid  # the console bridge ends it if the terminal goes away
gdb_pid=
cleanup() {
    # A batch gdb cannot quit cleanly while the target runs: no last words.
    [[ -z $gdb_pid ]] || kill -KILL "$gdb_pid" 2>/dev/null || true
    kill "$qemu_pid" 2>/dev/null || true
    wait "$qemu_pid" 2>/dev/null || true
}
trap cleanup EXIT
# Killed (make interrupted, terminal closed): take QEMU and gdb along.
trap 'exit 143' TERM
trap 'exit 129' HUP

# Wait until QEMU listens; if it exits instead, show why.
for (( i = 0; i < 100; i++ )); do
    if ! kill -0 "$qemu_pid" 2>/dev/null; then
        wait "$qemu_pid" 2>/dev/null || true
        # run-qemu.sh's own one-line messages (bad MEM=, missing file) as they are.
        if head -n 1 "$qemu_log" | grep -q '^run-qemu: '; then
            cat "$qemu_log" >&2
        else
            echo "debug: QEMU exited before its gdb stub came up ($qemu_log):" >&2
            sed 's/^/  /' "$qemu_log" >&2
        fi
        exit 2
    fi
    port_free "$GDBPORT" || break
    sleep 0.1
done
port_free "$GDBPORT" && die "QEMU's gdb stub did not open port $GDBPORT within 10 s (see $qemu_log)"

# Physical memory accesses: `print g_vms[0]` is right whichever pCPU is
# selected, including one that is in the guest (hv-memory in docs/debugging.md).
gdb_args=(-q -x "$ROOT/scripts/gdb/hyp.py" -ex "target remote 127.0.0.1:$GDBPORT" -ex "hv-memory physical")
rc=0
if [[ -n $GDBCMDS ]]; then
    echo "debug: batch gdb session with $GDBCMDS; guest console in $console_log"
    # -nx: the user's ~/.gdbinit must not change a scripted session. In the
    # background, so that the traps above run at once when make is
    # interrupted (a foreground child would delay them until it exits).
    gdb-multiarch -nx -batch "${gdb_args[@]}" -x "$GDBCMDS" "$HYP" </dev/null &
    gdb_pid=$!
    while :; do
        wait "$gdb_pid" && rc=0 || rc=$?
        kill -0 "$gdb_pid" 2>/dev/null || break   # wait returned early for a trapped signal
    done
    gdb_pid=
else
    echo "debug: QEMU halted at the hypervisor's first instruction, gdb stub on 127.0.0.1:$GDBPORT"
    echo "debug: 'continue' runs it; the guest console is this terminal while it runs (copy in $console_log);"
    echo "debug: Ctrl-C stops all pCPUs and returns to gdb; hv-vms, hv-pcpus, hv-vcpus, hv-vgic, hv-log; 'quit' ends QEMU"
    # Job control gives gdb a process group of its own as the terminal's
    # foreground: Ctrl-C then reaches gdb alone, not make or this shell.
    [[ -t 0 ]] && set -m
    gdb-multiarch "${gdb_args[@]}" "$HYP" || rc=$?
    set +m
fi
exit "$rc"
