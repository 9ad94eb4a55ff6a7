#!/usr/bin/env python3
"""System test: debugging the hypervisor with gdb through QEMU's gdb stub
(`make debug`, scripts/debug.sh, the hv-* helpers in scripts/gdb/).

--mode M: one batch session, `make debug GDBCMDS=<script> MODE=M`, that
  - runs hv-pcpus at the reset vector,
  - breaks on the PSCI CPU_ON handler (psci::Psci::cpu_on) while the guest
    boots: at each hit `bt`, the guest's arguments from the caller's frame,
    `finish` (only this pCPU running), hv-vcpus,
  - lets the guest boot to its shell (hv-continue-until on the console log,
    which then stops every pCPU as a Ctrl-C would),
  - runs hv-pcpus, hv-vcpus, hv-vgic, hv-vms and hv-log,
and checks each output for real content: 3 hits, source lines in `bt`,
the started vCPU ON_PENDING at the guest's entry point, the placement of
the mode, 4 vCPUs with PCs inside the guest kernel, SPI 33 (UART) enabled
and routed, the banner in the log. The guest boots with nokaslr, so its
kernel text is at a known address.
--vms: a second batch session with two VMs (`make debug VMCONF=`: VM 0 of
  3 vCPUs on pCPUs 0-2, VM 1 of one on pCPU 3, so that what the helpers
  show tells the VMs apart) stopped at VM 0's shell, that runs hv-vms,
  hv-pcpus, hv-vcpus and hv-vgic for VM 1 (vm=1) and for a VM that does
  not exist, and checks that VM 1's vCPU and distributor are shown, not
  VM 0's.
--errors: `make debug` with a missing GDBCMDS file, a bad and a busy
  GDBPORT each fail with one line naming the fix (no boot).
--interactive: `make debug` on a terminal (a pty as controlling tty):
  guest console output reaches the terminal, a typed key reaches the
  hypervisor (Ctrl-] s), Ctrl-C stops the target, gdb gets the next
  command, `quit` ends gdb and QEMU.

Prints "ok - ..." / "not ok - ..." lines like test_boot.py.

    tests/system/test_gdb.py --mode multi --build build [--errors] [--interactive]
"""
import argparse
import os
import re
import socket
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import Checks, free_port, hyp_re  # noqa: E402
from qemu_console import QemuConsole, ConsoleError  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Kernel image base without KASLR (arm64, 48-bit VA: KIMAGE_VADDR).
KIMAGE_VADDR = 0xFFFF800008000000

SESSION = r"""
echo @@RESET@@\n
hv-pcpus
break psci::Psci::cpu_on
set $cpu_on_bp = $bpnum
set $hits = 0
hv-continue-until GUEST-BOOT-OK {timeout}
while $hv_until == 0
  set $hits = $hits + 1
  printf "@@HIT %d@@\n", $hits
  bt
  # The guest's arguments, from the calling vCPU's saved frame.
  set $v = ((Pcpu *)$TPIDR_EL2)->vcpu
  printf "@@ARGS caller=%d target=%#lx entry=%#lx context=%#lx@@\n", $v->id, $v->regs.x[1], $v->regs.x[2], $v->regs.x[3]
  # Run this pCPU alone until Psci::handle, which cpu_on is inlined into,
  # returns. gdb finishes an inlined frame by single-stepping, and with
  # QEMU 7.2's stub (gdb 13.1, single mode) that has twice stopped without
  # cpu_on having run (once at its breakpoint again, once at its call
  # site). Finishing handle's real frame is a continue to its return
  # address, with the breakpoint disabled so that nothing is stepped over;
  # once more if a stop still leaves the thread inside.
  disable $cpu_on_bp
  set scheduler-locking on
  set $tries = 0
  while $tries < 2 && $_caller_matches("^psci::Psci::(cpu_on|handle)$", 0)
    if $_caller_matches("^psci::Psci::cpu_on$", 0)
      up
    end
    finish
    set $tries = $tries + 1
  end
  set scheduler-locking off
  enable $cpu_on_bp
  echo @@VCPUS-AT-HIT@@\n
  hv-vcpus
  echo @@END-HIT@@\n
  hv-continue-until GUEST-BOOT-OK {timeout}
end
delete
hv-continue-until "guest:[^\r\n]*# " 60
echo @@PCPUS@@\n
hv-pcpus
echo @@VCPUS@@\n
hv-vcpus
echo @@VGIC@@\n
hv-vgic
echo @@VMS@@\n
hv-vms
echo @@LOG@@\n
hv-log
# Catch a pCPU entering the guest and step it (alone) through the ERET:
# then that vCPU's PC and PSTATE are live in the pCPU's registers.
break guest_enter
continue
delete
set scheduler-locking on
python
while (int(gdb.parse_and_eval("$cpsr")) >> 2) & 3 == 2:
    gdb.execute("stepi", to_string=True)
end
set scheduler-locking off
printf "@@LIVE thread=%d pc=%#lx@@\n", $_thread, $pc
hv-pcpus
hv-vcpus
echo @@DONE@@\n
"""

SESSION_VMS = r"""
hv-continue-until "guest:[^\r\n]*# " {timeout}
echo @@VMS@@\n
hv-vms
echo @@PCPUS@@\n
hv-pcpus
echo @@VCPUS1@@\n
hv-vcpus vm=1
echo @@VCPU0-1@@\n
hv-vcpus 1
echo @@VGIC1@@\n
hv-vgic vm=1
echo @@VCPUS0@@\n
hv-vcpus
echo @@NOVM@@\n
# An error would end the sourced script: print it instead.
python
try:
    gdb.execute("hv-vcpus vm=2")
except gdb.error as e:
    print("error: %s" % e)
end
echo @@DONE@@\n
"""


def port_in_use(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", port))
        return False
    except OSError:
        return True
    finally:
        s.close()


def make_debug(build, *assignments):
    return ["make", "-C", ROOT, "--no-print-directory", "-s", "debug", "BUILD=" + build] + list(assignments)


def debug_session(build, logdir, session, *assignments, timeout=900):
    """Runs `make debug GDBCMDS=<session>` in batch mode with the given
    variables on a free port; returns (gdb's output, exit status, port).
    The output is kept in logdir/gdb-output.log."""
    port = free_port()
    script = os.path.join(logdir, "session.gdb")
    with open(script, "w") as f:
        f.write(session)
    cmd = make_debug(build, *assignments, "GDBPORT=%d" % port, "GDBCMDS=" + script, "DEBUGDIR=" + logdir)
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)
        out, rc = p.stdout, p.returncode
    except subprocess.TimeoutExpired as e:
        out, rc = (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or ""), -1
    with open(os.path.join(logdir, "gdb-output.log"), "w") as f:
        f.write(out)
    return out, rc, port


def section(out, name):
    """Output between @@NAME@@ and the next @@ marker line."""
    m = re.search(r"^@@%s@@\n(.*?)(?=^@@)" % name, out, re.S | re.M)
    return m.group(1) if m else ""


def kernel_text_end(image):
    """End of the kernel image (VA, no KASLR): image_size from the Image header."""
    with open(image, "rb") as f:
        hdr = f.read(64)
    return KIMAGE_VADDR + struct.unpack_from("<Q", hdr, 16)[0]


# A user program's PC: below the top of the 48-bit lower half (TTBR0).
USER_VA_END = 1 << 48


def guest_pc_sane(block, kend):
    """Whether an hv-vcpus block's PC is where a Linux vCPU can be: at EL1
    in the kernel's text, or at EL0 in a user program. The stop comes as
    the shell prints its prompt, so on a VM still booting (or a shell not
    yet back in read()) a vCPU may be in user space."""
    m = re.search(r"^  PC (0x\w+)  PSTATE 0x\w+ EL([01])", block, re.M)
    if not m:
        return False
    pc = int(m.group(1), 16)
    if m.group(2) == "1":
        return KIMAGE_VADDR <= pc < kend
    return 0 < pc < USER_VA_END


def vcpu_on_and_sane(block, home, kend):
    """Whether an hv-vcpus block shows a powered-on vCPU with home pCPU
    `home`, a sane PC (guest_pc_sane) and its exit counters."""
    return (re.search(r"sched (Runnable|Blocked)  PSCI On  home pCPU %d\b" % home, block) is not None
            and guest_pc_sane(block, kend) and "stats: exits=" in block)


def expand(ranges):
    """"0-6 27" -> {0, ..., 6, 27}."""
    out = set()
    for r in ranges.split():
        lo, _, hi = r.partition("-")
        out.update(range(int(lo), int(hi or lo) + 1))
    return out


def vcpu_blocks(text):
    return {int(m.group(1)): m.group(0) for m in
            re.finditer(r"^vCPU (\d+): .*?(?=^vCPU \d+: |\Z)", text, re.S | re.M)}


def batch_session(c, build, mode, logdir):
    out, rc, port = debug_session(build, logdir, SESSION.format(timeout=300), "MODE=" + mode,
                                  "APPEND=console=ttyAMA0 nokaslr")
    tail = out[-1500:]

    c.check("make debug GDBCMDS= session completes", rc == 0 and "@@DONE@@" in out,
            "exit %d, output in %s/gdb-output.log:\n%s" % (rc, logdir, tail))
    c.check("QEMU is gone when gdb exits", not port_in_use(port), "port %d still bound" % port)
    errors = [l for l in out.splitlines() if re.search(r"hyp-gdb:|Python Exception|Traceback|Error in sourced", l)]
    c.check("no helper errors", not errors, "; ".join(errors[:3]))

    reset = section(out, "RESET")
    rows = re.findall(r"^\s+(\d) +\d+ +0x\w+ EL2h .*boot: before hyp_cpu_entry, at _start", reset, re.M)
    c.check("hv-pcpus at the reset vector: 4 pCPUs at _start", rows == ["0", "1", "2", "3"], reset[-600:])

    hits = re.split(r"^@@HIT \d+@@\n", out, flags=re.M)[1:]
    c.check("CPU_ON breakpoint hit once per secondary vCPU (3)", len(hits) == 3, "%d hits" % len(hits))
    targets = []
    for n, h in enumerate(hits, 1):
        bt = h.split("@@ARGS")[0]
        frames = re.findall(r"^#\d+ .*$", bt, re.M)
        ok = (frames and re.search(r"psci::Psci::cpu_on .* at hyp/psci/psci\.cpp:\d+", frames[0])
              and any(re.search(r"handle_guest_exit .* at hyp/arch/aarch64/run\.cpp:\d+", f) for f in frames)
              and re.search(r"guest_exit_common \(\) at hyp/arch/aarch64/vectors\.S:\d+", frames[-1])
              and "corrupt stack" not in bt)
        c.check("hit %d: bt shows source lines from cpu_on down to the exit vector" % n, ok, bt[-800:])
        a = re.search(r"@@ARGS caller=(\d+) target=(\w+) entry=(\w+) context=(\w+)@@", h)
        if not c.check("hit %d: the guest's CPU_ON arguments are readable" % n, a, h[:400]):
            continue
        target, entry = int(a.group(2), 16) & 0xFF, int(a.group(3), 16)
        targets.append(target)
        block = vcpu_blocks(section(h, "VCPUS-AT-HIT")).get(target, "")
        c.check("hit %d: hv-vcpus shows vCPU %d being started (ON_PENDING at entry %#x)" % (n, target, entry),
                re.search(r"PSCI OnPending \(CPU_ON entry %#x context" % entry, block) is not None
                and "starting: CPU_ON accepted" in block, block[:500] or h[-800:])
    c.check("CPU_ON started vCPUs 1, 2 and 3", sorted(targets) == [1, 2, 3], str(targets))

    pcpus = section(out, "PCPUS")
    rows = {int(m.group(1)): m.group(0) for m in re.finditer(r"^\s+(\d) +\d+ +0x\w+ .*$", pcpus, re.M)}
    if mode == "multi":
        ok = len(rows) == 4 and all(re.search(r"\bvCPU%d +%d +\d" % (p, p), rows.get(p, "")) and
                                    "parked" not in rows.get(p, "") for p in range(4))
        what = "vCPU n loaded and queued on pCPU n"
    else:
        ok = (len(rows) == 4 and re.search(r"\bvCPU\d +0 1 2 3 +\d", rows.get(0, "")) is not None
              and all(re.search(r" - +- +\d+ +\d+ +parked: no vCPU placed here", rows.get(p, "")) for p in (1, 2, 3)))
        what = "pCPU 0 runs vCPUs 0-3, pCPUs 1-3 parked"
    c.check("hv-pcpus after boot: 4 pCPUs, %s" % what, ok, pcpus[-900:])

    vcpus = section(out, "VCPUS")
    blocks = vcpu_blocks(vcpus)
    kend = kernel_text_end(os.path.join(build, "guest", "Image"))
    bad = []
    for v in range(4):
        b = blocks.get(v, "")
        home = v if mode == "multi" else 0
        if not vcpu_on_and_sane(b, home, kend):
            bad.append(b[:400] or "vCPU %d missing" % v)
    c.check("hv-vcpus after boot: 4 vCPUs on, PCs in the kernel's text (EL1) or a user program (EL0)",
            not bad and len(blocks) == 4,
            "kernel %#x-%#x; %s" % (KIMAGE_VADDR, kend, " | ".join(bad) or vcpus[-600:]))

    vgic = section(out, "VGIC")
    c.check("hv-vgic: SPI 33 (UART) enabled, level, routed to vCPU 0",
            re.search(r"^\s+33 yes .* level .* vCPU0 ", vgic, re.M) is not None, vgic[:900])
    enabled = [expand(m) for m in re.findall(r"^  vCPU\d: enabled ([-\d ]+);", vgic, re.M)]
    c.check("hv-vgic: the guest enabled its timer PPI 27 on every vCPU",
            len(enabled) == 4 and all(27 in e for e in enabled), vgic[-600:])

    live = re.search(r"^@@LIVE thread=(\d+) pc=(0x\w+)@@\n(.*?)^@@DONE", out, re.S | re.M)
    if c.check("a pCPU stepped through ERET into the guest", live, out[-800:]):
        thread, pc, text = int(live.group(1)), live.group(2), live.group(3)
        # EL1 or EL0: the exit the ERET returns from may have come from a user program.
        row = re.search(r"^\s+(\d) +%d +0x\w+ EL(?:1h|0t) .* in guest: vCPU (\d+), PC %s$" % (thread, pc), text, re.M)
        c.check("hv-pcpus shows that pCPU in the guest, with the vCPU and its PC", row, text[:900])
        if row:
            b = vcpu_blocks(text).get(int(row.group(2)), "")
            c.check("hv-vcpus shows that vCPU's PC live from the pCPU's registers",
                    re.search(r"^  PC %#018x  PSTATE 0x\w+ EL(?:1h|0t) .*\[live: \$pc/\$cpsr of thread %d, pCPU %s is in the "
                              r"guest\]" % (int(pc, 16), thread, row.group(1)), b, re.M) is not None, b[:600])

    vms = section(out, "VMS")
    placed = "0 1 2 3" if mode == "multi" else "0 0 0 0"
    rows = re.findall(r"^  vCPU (\d): pCPU (\d), (Runnable|Blocked), (?:loaded|not loaded), PC 0x[0-9a-f]+$", vms, re.M)
    c.check("hv-vms: 1 VM of 4 vCPUs on pCPUs %s, 1024 MiB, running, its console on stdio, not held by gdb" % placed,
            vms.lstrip().startswith("1 VM\n") and
            re.search(r"^VM 0: 4 vCPUs on pCPUs %s; RAM IPA 0x40000000-0x80000000 \(1024 MiB\) -> PA 0x[0-9a-f]+; "
                      r"Running; console uart \(stdio\); debugger: running$" % placed, vms, re.M) is not None and
            [(r[0], r[1]) for r in rows] == [(str(v), placed.split()[v]) for v in range(4)], vms[:900])

    log = section(out, "LOG")
    want = ["==== hyp: AArch64 type-1 hypervisor at EL2 ====", "mode: %s-pCPU" % mode, "pCPUs online: 4 of 4"]
    c.check("hv-log shows the hypervisor's banner", all(w in log for w in want), log[:800])


def error_paths(c, build):
    script = os.path.join(build, "test-logs", "gdb-empty.gdb")
    os.makedirs(os.path.dirname(script), exist_ok=True)
    with open(script, "w") as f:
        f.write("info threads\n")
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    busy = holder.getsockname()[1]
    cases = [
        ("missing GDBCMDS file", ["GDBCMDS=/nonexistent/cmds.gdb"], r"GDBCMDS=/nonexistent/cmds\.gdb: no such file"),
        ("bad GDBPORT", ["GDBPORT=12ab", "GDBCMDS=" + script], r"GDBPORT=12ab is not a TCP port"),
        ("busy GDBPORT", ["GDBPORT=%d" % busy, "GDBCMDS=" + script], r"GDBPORT=%d is in use.*GDBPORT=\d+" % busy),
    ]
    try:
        for name, args, want in cases:
            p = subprocess.run(make_debug(build, *args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, timeout=120)
            ours = [l for l in p.stderr.splitlines() if not l.startswith("make")]
            c.check("%s: one-line error naming the fix" % name,
                    p.returncode != 0 and len(ours) == 1 and re.search(want, ours[0]) is not None,
                    "exit %d, stderr %r" % (p.returncode, p.stderr))
    finally:
        holder.close()


SHAPE_CHECK = r"""
python
import gdb
from hypgdb import structs
vm = gdb.parse_and_eval("g_vms[0]")
def expect_error(what, f):
    try:
        f()
        print("@@NOERROR %s@@" % what)
    except gdb.GdbError as e:
        print("@@ERROR %s: %s@@" % (what, e))
expect_error("field", lambda: structs.field(vm, "no_such_field"))
expect_error("enum", lambda: structs.enum_names("RunState", ("Off", "Sleeping")))
expect_error("length", lambda: structs.elements(structs.field(vm, "vcpus"), at_least=99))
print("@@OK %s %s %d@@" % (structs.field(structs.field(vm, "vcpus")[0], "regs").type,
                           structs.enum_names("RunState", ("Off", "Runnable", "Blocked"))[2],
                           structs.array_len(structs.field(vm, "vcpus"))))
end
"""


def shape_errors(c, build):
    """The helpers' checked access fails loudly, naming what changed (no target needed)."""
    script = os.path.join(build, "test-logs", "gdb-shape-check.gdb")
    os.makedirs(os.path.dirname(script), exist_ok=True)
    with open(script, "w") as f:
        f.write(SHAPE_CHECK)
    p = subprocess.run(["gdb-multiarch", "-nx", "-batch", "-x", os.path.join(ROOT, "scripts", "gdb", "hyp.py"),
                        "-x", script, os.path.join(build, "hyp.elf")],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
    out = p.stdout
    c.check("helpers: a missing field is an error naming the struct and the field",
            re.search(r"@@ERROR field: hyp-gdb: Vm has no field 'no_such_field' \(it has: id, nvcpus.*"
                      r"update scripts/gdb/hypgdb/", out) is not None, out[-600:])
    c.check("helpers: a missing enumerator is an error",
            re.search(r"@@ERROR enum: hyp-gdb: enum RunState has no Sleeping", out) is not None, out[-600:])
    c.check("helpers: an array shorter than needed is an error",
            re.search(r"@@ERROR length: hyp-gdb: .* has 4 elements, the helper needs 99", out) is not None, out[-600:])
    c.check("helpers: well-formed accesses work",
            re.search(r"@@OK (struct )?GuestRegs Blocked 4@@", out) is not None, out[-600:])


def interactive(c, build, logdir):
    port = free_port()
    # A terminal as a user has it: the pty is the controlling tty (so Ctrl-C
    # is a signal) and in its normal cooked mode.
    shell = "stty sane; exec %s" % " ".join(
        "'%s'" % a for a in make_debug(build, "GDBPORT=%d" % port, "DEBUGDIR=" + logdir))
    os.makedirs(logdir, exist_ok=True)
    log = os.path.join(logdir, "terminal.log")
    if os.path.exists(log):
        os.remove(log)
    con = QemuConsole(["setsid", "-w", "-c", "sh", "-c", shell], log_path=log, eol="\n")
    try:
        con.expect(r"\(gdb\) ", 60)
        con.send("continue")
        con.expect(hyp_re(r"pCPUs online: 4 of 4"), 120)
        c.check("interactive: the guest console reaches the terminal while the target runs", True)
        con.send_raw(b"\x1ds")  # the hypervisor's debug key: exit statistics
        con.expect(hyp_re(r"exit statistics \(multi mode\)"), 60)
        c.check("interactive: typed keys reach the hypervisor's UART (Ctrl-] s)", True)
        con.send_raw(b"\x03")
        con.expect(r"received signal SIGINT", 30)
        con.expect(r"\(gdb\) ", 30)
        c.check("interactive: Ctrl-C stops the target and returns to gdb", True)
        con.send("print 6*7")
        con.expect(r"\$\d+ = 42", 30)
        c.check("interactive: gdb gets what is typed at its prompt", True)
        con.send("hv-pcpus")
        m = con.expect(r"(?s)pCPU thread .*?\(gdb\) ", 30)
        c.check("interactive: hv-pcpus works", len(re.findall(r"^\s+\d +\d+ +0x\w+ EL", m.group(0), re.M)) == 4,
                m.group(0)[-600:])
        con.send("quit")
        con.expect(r"\(y or n\)", 30)
        con.send("y")
        rc = con.wait_exit(60)
        c.check("interactive: quit ends gdb and QEMU", rc == 0 and not port_in_use(port),
                "exit %d, port %d %s" % (rc, port, "busy" if port_in_use(port) else "free"))
    except ConsoleError as e:
        c.check("interactive session completes", False, str(e)[-1500:])
    finally:
        con.kill()


def vms_session(c, build, logdir):
    """hv-vms, hv-pcpus, hv-vcpus vm=1 and hv-vgic vm=1 with two VMs."""
    os.makedirs(logdir, exist_ok=True)
    conf = os.path.join(logdir, "vms.conf")
    with open(conf, "w") as f:
        f.write("# tests/system/test_gdb.py --vms\n[vm0]\nvcpus = 3\npcpus = 0 1 2\nbootargs = console=ttyAMA0 nokaslr\n"
                "[vm1]\nvcpus = 1\npcpus = 3\nbootargs = console=ttyAMA0 nokaslr\n")
    out, rc, _ = debug_session(build, logdir, SESSION_VMS.format(timeout=300), "VMCONF=" + conf)
    c.check("2 VMs: make debug VMCONF= GDBCMDS= session completes", rc == 0 and "@@DONE@@" in out,
            "exit %d, output in %s/gdb-output.log:\n%s" % (rc, logdir, out[-1500:]))
    errors = [l for l in out.splitlines() if re.search(r"hyp-gdb:|Python Exception|Traceback|Error in sourced", l)]
    c.check("2 VMs: no helper errors", not errors, "; ".join(errors[:3]))

    vms = section(out, "VMS")
    c.check("2 VMs: hv-vms lists VM 0 on pCPUs 0 1 2 and VM 1 on pCPU 3",
            vms.lstrip().startswith("2 VMs\n") and re.search(r"^VM 0: 3 vCPUs on pCPUs 0 1 2;", vms, re.M)
            and re.search(r"^VM 1: 1 vCPUs? on pCPUs? 3;", vms, re.M), vms[:900])
    pcpus = section(out, "PCPUS")
    rows = {int(m.group(1)): m.group(0) for m in re.finditer(r"^\s+(\d) +\d+ +0x\w+ .*$", pcpus, re.M)}
    c.check("2 VMs: hv-pcpus: VM 0's vCPUs 0-2 on pCPUs 0-2, VM 1's 1:0 on pCPU 3",
            "4 vCPUs in 2 VMs" in pcpus and all(re.search(r"\bvCPU%s +%s +\d" % (v, v), rows.get(p, ""))
                                                for p, v in ((0, "0"), (1, "1"), (2, "2"), (3, "1:0"))),
            pcpus[-900:])

    kend = kernel_text_end(os.path.join(build, "guest", "Image"))
    vcpus1 = section(out, "VCPUS1")
    blocks = vcpu_blocks(vcpus1)
    b = blocks.get(0, "")
    # One vCPU whose home is pCPU 3: VM 0 has three, on pCPUs 0-2. VM 1 may
    # still be booting when VM 0's prompt stops the machine.
    c.check("2 VMs: hv-vcpus vm=1: VM 1's one vCPU, on, home pCPU 3, PC in the kernel's text (EL1) or a "
            "user program (EL0)",
            vcpus1.lstrip().startswith("VM 1 of 2: 1 vCPUs, mode multi") and list(blocks) == [0]
            and vcpu_on_and_sane(b, 3, kend), vcpus1[:600])
    one = vcpu_blocks(section(out, "VCPU0-1"))
    c.check("2 VMs: hv-vcpus 1 (no vm=) shows VM 0's vCPU 1 alone, home pCPU 1",
            list(one) == [1] and "home pCPU 1" in one[1], section(out, "VCPU0-1")[:400])
    vcpus0 = section(out, "VCPUS0")
    c.check("2 VMs: hv-vcpus without vm= is VM 0's (3 vCPUs, homes pCPUs 0 1 2)",
            vcpus0.lstrip().startswith("VM 0 of 2: 3 vCPUs") and
            [re.search(r"home pCPU (\d)", b).group(1) for b in vcpu_blocks(vcpus0).values()] == ["0", "1", "2"],
            vcpus0[:600])
    vgic = section(out, "VGIC1")
    enabled = [expand(m) for m in re.findall(r"^  vCPU\d: enabled ([-\d ]+);", vgic, re.M)]
    c.check("2 VMs: hv-vgic vm=1: VM 1's distributor, 1 vCPU, its timer PPI 27 enabled",
            vgic.lstrip().startswith("VM 1 of 2\n") and re.search(r", 1 vCPUs$", vgic, re.M) is not None
            and len(enabled) == 1 and 27 in enabled[0], vgic[:900])
    novm = section(out, "NOVM")
    c.check("2 VMs: hv-vcpus vm=2 says there is no VM 2 in one line",
            novm.strip() == "error: hv-vcpus: no VM 2 (there are 2: hv-vms lists them)", novm[:300])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mode", choices=["multi", "single"], required=True)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--errors", action="store_true", help="also check the error messages (no boot)")
    ap.add_argument("--interactive", action="store_true", help="also drive an interactive session")
    ap.add_argument("--vms", action="store_true", help="also a session with two VMs (VMCONF=, hv-* vm=1)")
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    logdir = os.path.join(build, "test-logs", "gdb-" + a.mode)
    os.makedirs(logdir, exist_ok=True)
    c = Checks(a.mode, "gdb")
    if a.errors:
        error_paths(c, build)
        shape_errors(c, build)
    batch_session(c, build, a.mode, logdir)
    if a.interactive:
        interactive(c, build, os.path.join(build, "test-logs", "gdb-interactive"))
    if a.vms:
        vms_session(c, build, os.path.join(build, "test-logs", "gdb-vms"))
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
