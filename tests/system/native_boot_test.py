#!/usr/bin/env python3
"""Native reference boot (no hypervisor): the guest kernel and initramfs
run directly on QEMU's virt machine. Checks the boot marker, a shell
command, and that `poweroff -f` ends QEMU with status 0.

usage: native_boot_test.py IMAGE INITRAMFS [--smp N] [--cpu C] [--log FILE]
Exits non-zero on failure.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qemu_console import QemuConsole, ConsoleError  # noqa: E402

PROMPT = r"guest:[^\r\n]*# "


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("image")
    ap.add_argument("initramfs")
    ap.add_argument("--smp", type=int, default=4)
    ap.add_argument("--cpu", default="cortex-a57")
    ap.add_argument("--log", default=None,
                    help="console log (default: native-boot.log next to IMAGE)")
    ap.add_argument("--boot-timeout", type=float, default=120)
    a = ap.parse_args()

    for f in (a.image, a.initramfs):
        if not os.path.isfile(f):
            print("FAIL: no such file: %s" % f)
            return 1
    log = a.log or os.path.join(os.path.dirname(os.path.abspath(a.image)),
                                "native-boot.log")
    cmd = ["qemu-system-aarch64",
           "-M", "virt,gic-version=3,virtualization=on", "-cpu", a.cpu,
           "-smp", str(a.smp), "-m", "1G", "-nographic",
           "-kernel", a.image, "-initrd", a.initramfs,
           "-append", "console=ttyAMA0 earlycon=pl011,0x9000000 panic=-1",
           "-no-reboot"]

    con = QemuConsole(cmd, log_path=log)
    try:
        m = con.expect(r"GUEST-BOOT-OK cpus=(\d+)", a.boot_timeout)
        boot_s = con.elapsed
        cpus = int(m.group(1))
        print("boot marker after %.2f s: %s" % (boot_s, m.group(0)))
        if cpus != a.smp:
            raise ConsoleError("marker reports cpus=%d, want %d" % (cpus, a.smp))

        con.expect(PROMPT, 30)
        rc, out = con.run("cat /proc/cpuinfo | grep -c processor")
        if rc != 0 or out.strip() != str(a.smp):
            raise ConsoleError("grep -c processor: rc=%d output=%r" % (rc, out))
        print("guest shell: /proc/cpuinfo has %s processors" % out.strip())

        # Ctrl-C must reach a foreground job (job control on ttyAMA0).
        # The job announces itself first: a ^C sent before the shell has
        # made it the foreground job would only reach the shell.
        con.expect(PROMPT, 10)
        con.send("sh -c 'echo \"SLEEP\"\"ING\"; exec sleep 1000'")
        con.expect(r"SLEEPING", 10)
        con.sendcontrol("c")
        con.expect(PROMPT, 10)
        rc, out = con.run("echo alive")
        if rc != 0 or out.strip() != "alive":
            raise ConsoleError("shell unusable after Ctrl-C: %r" % out)
        print("Ctrl-C interrupted a foreground job")

        con.send("poweroff -f")
        code = con.wait_exit(30)
        if code != 0:
            raise ConsoleError("qemu exit status %d after poweroff" % code)
        print("poweroff -f: qemu exited 0 after %.2f s total" % con.elapsed)
    except ConsoleError as e:
        print("FAIL: %s" % e)
        print("(console log: %s)" % log)
        return 1
    finally:
        con.kill()
    print("PASS native boot: %.2f s to marker" % boot_s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
