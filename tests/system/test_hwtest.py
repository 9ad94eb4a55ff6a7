#!/usr/bin/env python3
"""System test: boot the bare-metal test guest (guest/hwtest) under the
hypervisor in place of Linux and report each of its architectural tests.

The guest prints one line per test on the console (guest/hwtest/README.md):

    HWTEST ok - <name>
    HWTEST not ok - <name>: <detail>
    HWTEST skip - <name>: <reason>      (the CPU lacks the feature)
    HWTEST metric <name> <value>
    HWTEST done <passed> passed, <failed> failed

and powers the VM off with PSCI SYSTEM_OFF. This script turns each into
"ok - [mode cpu] hwtest: <name>" / "not ok - ..." (what tests/run_all.py
counts), prints skips and metrics as "# ..." lines, and fails if the image
header is wrong, the run does not reach "HWTEST done", the done line does
not match the results, QEMU does not exit 0 or the hypervisor panics.

    tests/system/test_hwtest.py --mode multi --cpu cortex-a57 [--build build]
    tests/system/test_hwtest.py --mode single --cpu max,pauth-impdef=on
    tests/system/test_hwtest.py --native --cpu max   # QEMU alone, no hypervisor

--native runs the same tests at EL1 on QEMU's own CPU model, without the
hypervisor: the reference for what "real hardware" gives. It is not part
of make test. Expected differences there: psci_smc_conduit (no EL3 behind
SMC), sme_hidden on max (QEMU's max has SME), and QEMU's own PSCI answers
racing CPU_ONs with more than one SUCCESS now and then.
"""
import argparse
import os
import re
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import PANIC, Checks  # noqa: E402
from qemu_console import QemuConsole, ConsoleError  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LINE = re.compile(r"HWTEST (ok|not ok|skip|metric|detail|done|fatal)\b ?-? ?([^\r\n]*)\r*\n")
DONE = re.compile(r"(\d+) passed, (\d+) failed")
DTB_SLOT = 0x07E00000  # hyp/include/config.h kGuestLayout.dtb_offset: the image must end below it


def image_header_problem(path):
    """What is wrong with the arm64 Image header, or None."""
    with open(path, "rb") as f:
        head = f.read(64)
    if len(head) < 64:
        return "shorter than the 64-byte header"
    code0, _code1, text_offset, image_size, flags = struct.unpack_from("<IIQQQ", head, 0)
    if head[56:60] != b"ARM\x64":
        return "magic at offset 56 is %r, want b'ARM\\x64'" % head[56:60]
    if code0 >> 26 != 0b000101:
        return "code0 0x%08x is not a branch" % code0
    if text_offset != 0:
        return "text_offset 0x%x, want 0" % text_offset
    if not os.path.getsize(path) <= image_size < DTB_SLOT:
        return "image_size 0x%x: want the file size (0x%x) or more, below the DTB slot 0x%x" % (
            image_size, os.path.getsize(path), DTB_SLOT)
    if flags & 1:
        return "flags 0x%x: big-endian" % flags
    return None


def command(args, build):
    if args.native:
        return [
            "qemu-system-aarch64", "-M", "virt,gic-version=3", "-cpu", args.cpu, "-smp", "4", "-m", "1G",
            "-nographic", "-nic", "none", "-kernel", os.path.join(build, "guest", "hwtest.elf"),
        ], None
    env = dict(os.environ, HYP=os.path.join(build, "hyp.elf"), KERNEL=os.path.join(build, "guest", "hwtest.bin"),
               INITRD=os.path.join(build, "guest", "initramfs.cpio.gz"), MODE=args.mode, CPU=args.cpu)
    for var in ("DISK", "VMS", "VMCONF", "MEM"):
        env.pop(var, None)  # one VM with the default RAM, no disk
    return [os.path.join(ROOT, "scripts", "run-qemu.sh")], env


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", default="multi", choices=["multi", "single"])
    ap.add_argument("--cpu", default="cortex-a57")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--native", action="store_true", help="QEMU alone, without the hypervisor (reference)")
    ap.add_argument("--timeout", type=int, default=180, help="seconds for the whole run")
    args = ap.parse_args()

    build = os.path.abspath(args.build)
    label = "%s %s" % ("native" if args.native else args.mode, args.cpu)
    t = Checks(label, "hwtest")
    image = os.path.join(build, "guest", "hwtest.bin")
    if not os.path.isfile(image):
        t.check("image exists", False, "no %s: run make hwtest" % image)
        return 1
    problem = image_header_problem(image)
    t.check("hwtest.bin has a valid arm64 Image header", problem is None, problem or "")

    log = os.path.join(build, "test-logs", "hwtest-%s.log" % re.sub(r"[^\w.-]+", "_", label))
    os.makedirs(os.path.dirname(log), exist_ok=True)
    if os.path.exists(log):
        os.remove(log)
    cmd, env = command(args, build)
    con = QemuConsole(cmd, log_path=log, env=env)
    results = {"ok": 0, "not ok": 0}
    done = None
    try:
        while True:
            left = args.timeout - con.elapsed
            i, m = con.expect_any([LINE, PANIC], timeout=max(left, 1))
            if i:  # the guest will not get further
                break
            kind, rest = m.groups()
            if kind in ("ok", "not ok"):
                name, _, detail = rest.partition(": ")
                results[kind] += 1
                t.check(name.strip(), kind == "ok", detail.strip())
            elif kind == "skip":
                print("# skip [%s] hwtest: %s" % (label, rest), flush=True)
            elif kind == "metric":
                print("# metric [%s] hwtest: %s" % (label, rest), flush=True)
            elif kind == "detail":
                print("#   %s" % rest, flush=True)
            elif kind == "fatal":
                t.check("guest runtime did not die", False, rest)
                break
            else:
                done = DONE.search(rest)
                break
        if not re.search(PANIC, con.output):
            code = con.wait_exit(timeout=30)
            print("hwtest-time [%s] %.1f s from QEMU start to exit" % (label, con.elapsed), flush=True)
            t.check("QEMU exits 0 after PSCI SYSTEM_OFF", code == 0, "exit code %s" % code)
    except ConsoleError as e:
        t.check("run completes", False, str(e)[-1500:])
    finally:
        con.kill()
    t.check("HWTEST done line reached", done is not None, "see %s" % log)
    if done:
        counted = (int(done.group(1)), int(done.group(2)))
        t.check("done line matches the results", counted == (results["ok"], results["not ok"]),
                "guest says %d passed, %d failed; lines say %d, %d" % (counted + (results["ok"], results["not ok"])))
    panic = re.search(PANIC, con.output)
    t.check("no hypervisor panic", panic is None, panic.group(0) if panic else "")
    print("log: %s" % log)
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main())
