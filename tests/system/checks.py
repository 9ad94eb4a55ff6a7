"""What the system tests share: the TAP-like check lines tests/run_all.py
counts, telling the hypervisor's lines from the guest's, the log patterns
that mean trouble, reading a command's own output line off a console where
kernel messages interleave, and a free local port for a gdb stub."""
import argparse
import os
import re
import socket

from qemu_console import ConsoleError

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


def boot_args():
    """The arguments of a test with one kind of boot: --build (made
    absolute) and --boot-timeout."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--boot-timeout", type=int, default=300)
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
