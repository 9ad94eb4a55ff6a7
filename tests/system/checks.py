"""What the system tests share: the TAP-like check lines tests/run_all.py
counts, the log patterns that mean trouble, and reading a command's own
output line off a console where kernel messages interleave."""
import re

# Messages that must never appear: the kernel's stall and lockup detectors
# and the hypervisor's own panic.
BAD = re.compile(r"rcu_sched self-detected stall|rcu_preempt self-detected stall|rcu: INFO: .*detected stall"
                 r"|detected stalls on CPUs|soft lockup|hung_task|blocked for more than \d+ seconds"
                 r"|HYPERVISOR PANIC|Kernel panic|Internal error: Oops")


class Checks:
    def __init__(self, mode):
        self.mode = mode
        self.failed = 0
        self.passed = 0

    def check(self, name, cond, detail=""):
        if cond:
            self.passed += 1
            print("ok - [%s] %s" % (self.mode, name), flush=True)
        else:
            self.failed += 1
            print("not ok - [%s] %s%s" % (self.mode, name, (": " + detail) if detail else ""), flush=True)
        return cond


def last_line(out):
    """The command's own last line: kernel messages may be interleaved."""
    lines = [l for l in out.strip().splitlines() if l.strip() and not re.match(r"\[\s*\d+\.\d+\]", l)]
    return lines[-1].strip() if lines else ""
