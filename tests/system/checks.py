"""What the system tests share: the TAP-like check lines tests/run_all.py
counts, telling the hypervisor's lines from the guest's, the log patterns
that mean trouble, reading a command's own output line off a console where
kernel messages interleave, a free local port for a gdb stub, the command
line of a boot without a disk and waiting for its shell."""
import argparse
import os
import re
import socket

from qemu_console import ConsoleEOF, ConsoleError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUN_QEMU = os.path.join(ROOT, "scripts", "run-qemu.sh")

# The hypervisor starts every line it prints (log lines, the exit table,
# panic reports, FATAL messages) with the ASCII record separator, which the
# guest can never print: the emulated UART turns it into '?'
# (hyp/arch/aarch64/include/console.h). So a line is the hypervisor's if and
# only if it starts with RS; match hypervisor output with hyp_re(), never
# on text alone, which the guest could print too.
RS = "\x1e"
_HYP_LINE = r"^\x1e(?:\[p\d+\] )?"


def hyp_re(pattern):
    """A compiled regex for a hypervisor line whose message (after the
    "[pN] " of a log line) starts with `pattern`. Groups are the pattern's."""
    return re.compile(_HYP_LINE + pattern, re.M)


def hyp_search(pattern, text):
    return hyp_re(pattern).search(text)


def hyp_lines(text):
    """The messages of all hypervisor lines in `text`, in order."""
    return [m.group(1) for m in re.finditer(_HYP_LINE + r"([^\r\n]*)", text, re.M)]


# A hypervisor panic report or refused boot (FATAL).
HYP_FAILURE = re.compile(_HYP_LINE + r"(?:\*\*\* HYPERVISOR PANIC|FATAL:)", re.M)

# Messages that must never appear: the kernel's stall and lockup detectors
# and the hypervisor's own panic.
BAD = re.compile(r"rcu_sched self-detected stall|rcu_preempt self-detected stall|rcu: INFO: .*detected stall"
                 r"|detected stalls on CPUs|soft lockup|hung_task|blocked for more than \d+ seconds"
                 r"|Kernel panic|Internal error: Oops|" + HYP_FAILURE.pattern, re.M)


def vm_ram(output, vm):
    """(IPA start, IPA end, host PA) of VM vm's RAM from the hypervisor's
    banner line, or None."""
    m = hyp_search(r"VM %d: .*RAM IPA 0x([0-9a-f]+)-0x([0-9a-f]+) \(\d+ MiB\) -> PA 0x([0-9a-f]+)" % vm, output)
    return tuple(int(g, 16) for g in m.groups()) if m else None


def host_steal_seconds():
    """Time the machine running these tests lost to its own hypervisor
    (the steal column of /proc/stat), in seconds per host CPU, or 0.0 where
    the kernel does not report it. On a shared cloud host this can be a
    third of every CPU: a wall-clock bound on the guest's latency must not
    count it, it is neither the guest's nor this hypervisor's time."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
        return int(fields[8]) / os.sysconf("SC_CLK_TCK") / (os.cpu_count() or 1)
    except (OSError, IndexError, ValueError):
        return 0.0


class Checks:
    """One "ok - [mode] topic: name" line per check; topic names the test."""

    def __init__(self, mode, topic=""):
        self.mode = mode
        self.prefix = topic + ": " if topic else ""
        self.failed = 0
        self.passed = 0

    def check(self, name, cond, detail=""):
        if cond:
            self.passed += 1
            print("ok - [%s] %s%s" % (self.mode, self.prefix, name), flush=True)
        else:
            self.failed += 1
            print("not ok - [%s] %s%s%s" % (self.mode, self.prefix, name, (": " + detail) if detail else ""),
                  flush=True)
        return cond


def run_qemu_env(build, **overrides):
    """The environment for scripts/run-qemu.sh: the build's hypervisor,
    kernel and initramfs, plus `overrides` (MODE=, DISK=, ...)."""
    env = dict(os.environ, HYP=os.path.join(build, "hyp.elf"), KERNEL=os.path.join(build, "guest", "Image"),
               INITRD=os.path.join(build, "guest", "initramfs.cpio.gz"))
    env.update(overrides)
    return env


def boot_args(description=None, with_mode=False):
    """The arguments of a test with one kind of boot: --build (made
    absolute), --boot-timeout and, with_mode, --mode multi|single."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--boot-timeout", type=int, default=300)
    if with_mode:
        ap.add_argument("--mode", default="multi", choices=["multi", "single"])
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    return args


def fresh_log(build, name):
    """build/test-logs/NAME, with its directory made and an old copy removed."""
    log = os.path.join(build, "test-logs", name)
    os.makedirs(os.path.dirname(log), exist_ok=True)
    if os.path.exists(log):
        os.remove(log)
    return log


def console_session(t, con, log, body):
    """Runs body(); a console error (a timeout, QEMU gone) is one failed
    check. Ends QEMU, names the log, and returns main()'s exit status."""
    try:
        body()
    except ConsoleError as e:
        t.check("console session completes", False, str(e)[-1500:])
    finally:
        con.kill()
    print("log: %s" % log)
    return 1 if t.failed else 0


def last_line(out):
    """The command's own last line: kernel messages may be interleaved."""
    lines = [l for l in out.strip().splitlines() if l.strip() and not re.match(r"\[\s*\d+\.\d+\]", l)]
    return lines[-1].strip() if lines else ""


def free_port():
    """A local TCP port nobody listens on now (for QEMU's or our gdb stub)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# The hypervisor's panic banner (hyp/arch/aarch64/panic.cpp): after it the
# guest never answers again, so a wait can stop at once.
PANIC = r"\*\*\* HYPERVISOR PANIC[^\r\n]*"
BOOT_MARKER = r"GUEST-BOOT-OK cpus=(\d+)"


def guest_command(root, build, mode, cpu="cortex-a57", append="console=ttyAMA0", qemu_args=()):
    """(command, environment) of a boot without a disk: "native" is QEMU
    booting the guest kernel itself (the reference: no hypervisor), "single"
    and "multi" the hypervisor through scripts/run-qemu.sh."""
    kernel = os.path.join(build, "guest", "Image")
    initrd = os.path.join(build, "guest", "initramfs.cpio.gz")
    if mode == "native":
        return (["qemu-system-aarch64", "-M", "virt,gic-version=3,virtualization=on", "-cpu", cpu, "-smp", "4",
                 "-m", "1024M", "-nographic", "-nic", "none", "-kernel", kernel, "-initrd", initrd,
                 "-append", append] + list(qemu_args), None)
    env = dict(os.environ, HYP=os.path.join(build, "hyp.elf"), KERNEL=kernel, INITRD=initrd, MODE=mode, CPU=cpu,
               APPEND=append, DISK="none")
    return [os.path.join(root, "scripts", "run-qemu.sh")] + list(qemu_args), env


def wait_for_shell(con, timeout):
    """Wait for the boot marker and the prompt; return the marker's CPU
    count. A timeout or a hypervisor panic raises ConsoleError with one line
    saying which, after how long, and the console's last line."""
    try:
        i, m = con.expect_any([BOOT_MARKER, PANIC], timeout)
    except ConsoleError as e:
        tail = con.output.replace("\r", "").rstrip().splitlines()[-1:] or [""]
        raise ConsoleError("no GUEST-BOOT-OK within %.0f s (%s); the console's last line: %r" % (
            con.elapsed, "QEMU exited" if isinstance(e, ConsoleEOF) else "timeout", tail[0][-160:]))
    if i:
        raise ConsoleError("hypervisor panic during boot after %.0f s: %s" % (con.elapsed, m.group(0)))
    con.expect(r"# ", timeout=60)
    return int(m.group(1))


def shutdown_checks(t, con, poweroff=True):
    """The end of a session: `poweroff -f` ends QEMU with status 0 (unless
    poweroff is False: the guest is known to be gone), and the log has none
    of BAD."""
    if poweroff:
        con.send("poweroff -f")
        code = con.wait_exit(timeout=120)
        t.check("poweroff -f makes QEMU exit 0", code == 0, "exit code %s" % code)
    bad = BAD.search(con.output)
    t.check("no panic, Oops, stall or lockup in the log", bad is None, bad.group(0) if bad else "")
