#!/usr/bin/env python3
"""System test: the guest's virtio-blk disk (/dev/vda), the hypervisor's
emulated device, backed by a virtio-blk device of QEMU's that only the
hypervisor drives, on a host image file.

Boot 1: /dev/vda has the image's size; the guest reaches the emulated
device and not QEMU's (its vendor ID is the hypervisor's, a load from the
real transport's address is a bus error, the device tree has one virtio
node); sequential O_DIRECT write and
read throughput (printed as "perf" lines); a 4 MiB random pattern written
with conv=fsync and read back; in multi mode the disk interrupt routed to
vCPU 2 (completions then reach it from pCPU 0 through a kick); four dd
writer/readers pinned to the four vCPUs for --stress-seconds (0: skip) on
disjoint 1 MiB regions; poweroff -f. The host then checks the image file
holds what the guest wrote, and the hypervisor's counters show FLUSHes
reached the backend. Boot 2 (same image): the pattern and the final
region contents read back with the right checksums; the driver unbinds
(device reset) and probes again.

Prints one TAP-like line per check ("ok - ..." / "not ok - ..."), like
test_boot.py. Exit status 1 on any failure.

    tests/system/test_disk.py --mode multi --build build [--stress-seconds 30]
"""
import argparse
import hashlib
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checks  # noqa: E402
from qemu_console import QemuConsole, ConsoleError  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

MiB = 1024 * 1024
DISK_BYTES = 64 * MiB
PATTERN_OFF, PATTERN_LEN = 1 * MiB, 4 * MiB          # dd bs=64k seek=16 count=64
STRESS_BASE, STRESS_STRIDE, STRESS_LEN = 8 * MiB, 2 * MiB, 1 * MiB
SEQ_OFF_MB, SEQ_MB, SEQ_REPS = 16, 48, 3            # throughput area [16, 64) MiB, 3 passes

# Beyond what every system test rejects: any sign of a failed request.
# (checks.BAD already has the hypervisor's FATAL lines.)
BAD = re.compile(checks.BAD.pattern + r"|I/O error|blk_update_request|virtio_blk.*(error|failed)", checks.BAD.flags)


def cmd_lines(out):
    """The command's own output lines, without interleaved kernel messages."""
    return [l.strip() for l in out.splitlines() if l.strip() and not re.match(r"\[\s*\d+\.\d+\]", l)]


def md5_of(out, path):
    for l in cmd_lines(out):
        f = l.split()
        if len(f) == 2 and f[1] == path and re.fullmatch(r"[0-9a-f]{32}", f[0]):
            return f[0]
    return None


def real_seconds(out):
    m = re.search(r"real\s+(\d+)m\s*([\d.]+)s", out)
    return int(m.group(1)) * 60 + float(m.group(2)) if m else None


def image_md5(path, off, length):
    with open(path, "rb") as f:
        f.seek(off)
        return hashlib.md5(f.read(length)).hexdigest()


def boot(args, image, log):
    env = dict(os.environ, HYP=os.path.join(args.build, "hyp.elf"),
               KERNEL=os.path.join(args.build, "guest", "Image"),
               INITRD=os.path.join(args.build, "guest", "initramfs.cpio.gz"), MODE=args.mode, DISK=image)
    con = QemuConsole([os.path.join(ROOT, "scripts", "run-qemu.sh")], log_path=log, env=env)
    con.expect(r"GUEST-BOOT-OK cpus=(\d+)", timeout=args.boot_timeout)
    con.expect(r"# ", timeout=30)
    return con


def poweroff(t, con, what):
    con.send("poweroff -f")
    code = con.wait_exit(timeout=120)
    t.check("%s: poweroff -f makes QEMU exit 0" % what, code == 0, "exit code %s" % code)


# The stress worker, written to /tmp/w.sh line by line (no single quotes).
# Worker $1 alternates two 1 MiB patterns on its own region: write with
# O_DIRECT and fsync (a FLUSH request), read back with O_DIRECT, compare.
WORKER = [
    "c=$1; off=$((%d + c * %d)); end=$(( $(date +%%s) + $2 )); n=0; bad=0; last=none" % (
        STRESS_BASE // 65536, STRESS_STRIDE // 65536),
    "while [ $(date +%s) -lt $end ]; do",
    "  for p in A B; do",
    "    dd if=/tmp/p$p$c of=/dev/vda bs=64k seek=$off count=16 oflag=direct conv=fsync 2>/dev/null || bad=$((bad+1))",
    "    dd if=/dev/vda of=/tmp/r$c bs=64k skip=$off count=16 iflag=direct 2>/dev/null || bad=$((bad+1))",
    "    cmp -s /tmp/p$p$c /tmp/r$c || bad=$((bad+1))",
    "    n=$((n+1)); last=$p",
    "  done",
    "done",
    "echo \"WORKER $c n=$n bad=$bad last=$last\"",
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", default="multi", choices=["multi", "single"])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--stress-seconds", type=int, default=30)
    ap.add_argument("--boot-timeout", type=int, default=300)
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)

    logdir = os.path.join(args.build, "test-logs")
    os.makedirs(logdir, exist_ok=True)
    image = os.path.join(logdir, "disk-%s.img" % args.mode)
    with open(image, "wb") as f:  # fresh, sparse
        f.truncate(DISK_BYTES)
    logs = [os.path.join(logdir, "disk-%s-boot%d.log" % (args.mode, i)) for i in (1, 2)]
    for l in logs:
        if os.path.exists(l):
            os.remove(l)

    t = checks.Checks(args.mode, "disk")
    stress = args.stress_seconds > 0
    pattern_md5 = None
    region_md5 = {}  # worker -> md5 of its last pattern
    output = ""
    con = None
    try:
        # ---- boot 1 ------------------------------------------------------
        con = boot(args, image, logs[0])
        t.check("hypervisor registers the disk (131072 sectors)",
                checks.hyp_search(r"VM 0 disk: virtio-blk .* 131072 sectors", con.output) is not None)
        rc, out = con.run("cat /sys/block/vda/size; blockdev --getsize64 /dev/vda", timeout=60)
        t.check("guest sees /dev/vda with the image's size (%d bytes)" % DISK_BYTES,
                rc == 0 and cmd_lines(out)[-2:] == [str(DISK_BYTES // 512), str(DISK_BYTES)], repr(out))

        # The guest has the emulated device only: one virtio node in its
        # device tree, and QEMU's transport (wherever the probe found it) is
        # not mapped for it.
        rc, out = con.run("ls /proc/device-tree | grep virtio", timeout=60)
        t.check("guest device tree has exactly one virtio node, the emulated disk",
                cmd_lines(out) == ["virtio_mmio@a000000"], repr(out))
        m = checks.hyp_search(r"VM 0 disk backend: QEMU virtio-blk at PA (0x[0-9a-f]+)", con.output)
        t.check("hypervisor drives QEMU's virtio-blk at a transport of its own", m is not None
                and int(m.group(1), 16) != 0x0a000000)
        if m:
            rc, out = con.run("devmem %s 32" % m.group(1), timeout=60)
            t.check("guest load from the real device's transport is a bus error", rc != 0 and "Bus error" in out,
                    repr(out))
        rc, out = con.run("cat /sys/bus/virtio/devices/virtio0/vendor", timeout=60)
        t.check("guest's virtio device is the hypervisor's (vendor HYPV, not QEMU)",
                cmd_lines(out)[-1:] == ["0x56505948"], repr(out))

        # Sequential throughput, O_DIRECT so the page cache is out of the way
        # (guest clock; the host's load moves these figures a lot).
        for what, cmd in [("write", "dd if=/dev/zero of=/dev/vda bs=1M seek=%d count=%d oflag=direct conv=fsync"),
                          ("read", "dd if=/dev/vda of=/dev/null bs=1M skip=%d count=%d iflag=direct")]:
            loop = "for i in %s; do %s 2>/dev/null || exit 1; done" % (
                " ".join(str(i) for i in range(SEQ_REPS)), cmd % (SEQ_OFF_MB, SEQ_MB))
            rc, out = con.run("time sh -c '%s'" % loop, timeout=900)
            secs = real_seconds(out)
            ok = rc == 0 and secs is not None and secs > 0
            total = SEQ_MB * SEQ_REPS
            t.check("sequential %s of %d x %d MiB completes" % (what, SEQ_REPS, SEQ_MB), ok, repr(out[-300:]))
            if ok:
                print("perf [%s] disk sequential %s: %.1f MB/s (%d MiB, bs=1M, O_DIRECT, %.2f s)"
                      % (args.mode, what, total * MiB / 1e6 / secs, total, secs), flush=True)

        # A 4 MiB random pattern, written with fsync, read back.
        rc, out = con.run("dd if=/dev/urandom of=/tmp/pat bs=64k count=64 2>/dev/null; md5sum /tmp/pat", timeout=120)
        pattern_md5 = md5_of(out, "/tmp/pat")
        rc, out = con.run("dd if=/tmp/pat of=/dev/vda bs=64k seek=16 conv=fsync 2>&1", timeout=300)
        t.check("dd writes a 4 MiB pattern with conv=fsync", rc == 0 and pattern_md5 is not None, repr(out[-300:]))
        rc, out = con.run("dd if=/dev/vda of=/tmp/back bs=64k skip=16 count=64 iflag=direct 2>/dev/null;"
                          " md5sum /tmp/back", timeout=300)
        t.check("pattern reads back in the same boot", md5_of(out, "/tmp/back") == pattern_md5, repr(out[-300:]))

        # The guest routes the disk interrupt to vCPU 2: completions are
        # handled on pCPU 0 and reach vCPU 2 on pCPU 2 through a kick.
        if args.mode == "multi":
            rc, out = con.run("grep virtio0 /proc/interrupts", timeout=60)
            irq = re.match(r"\s*(\d+):", cmd_lines(out)[-1]) if cmd_lines(out) else None
            if t.check("guest lists the disk interrupt", irq is not None, repr(out)):
                n = irq.group(1)
                rc, out = con.run("echo 4 > /proc/irq/%s/smp_affinity; grep virtio0 /proc/interrupts;"
                                  " dd if=/dev/vda of=/dev/null bs=4k count=256 iflag=direct 2>/dev/null;"
                                  " grep virtio0 /proc/interrupts; echo 1 > /proc/irq/%s/smp_affinity" % (n, n),
                                  timeout=120)
                rows = [l.split() for l in cmd_lines(out) if "virtio0" in l]
                before, after = (rows[0], rows[-1]) if len(rows) >= 2 else ([], [])
                got = int(after[3]) - int(before[3]) if before and after else -1
                t.check("disk completions reach vCPU 2 when the guest routes the interrupt there (%d)" % got,
                        got >= 64, repr(out))

        if stress:
            rc, out = con.run("for c in 0 1 2 3; do for p in A B; do dd if=/dev/urandom of=/tmp/p$p$c bs=64k"
                              " count=16 2>/dev/null; done; done; md5sum /tmp/p[AB][0-3]", timeout=120)
            sums = {p: md5_of(out, p) for p in ["/tmp/p%s%d" % (x, c) for x in "AB" for c in range(4)]}
            t.check("stress patterns generated", all(sums.values()), repr(out[-300:]))
            con.run("rm -f /tmp/w.sh", timeout=30)
            for line in WORKER:
                rc, out = con.run("printf '%%s\\n' '%s' >> /tmp/w.sh" % line, timeout=30)
            n = args.stress_seconds
            rc, out = con.run("for c in 0 1 2 3; do taskset -c $c sh /tmp/w.sh $c %d & done; wait; echo stress-done"
                              % n, timeout=n * 20 + 300)
            workers = {int(m.group(1)): (int(m.group(2)), int(m.group(3)), m.group(4))
                       for m in re.finditer(r"WORKER (\d) n=(\d+) bad=(\d+) last=(\w+)", out)}
            print("stress [%s] %d s, iterations per worker: %s" % (
                args.mode, n, [workers.get(c, (0,))[0] for c in range(4)]), flush=True)
            t.check("four pinned dd writer/readers ran %d s, every round trip matched" % n,
                    "stress-done" in out and sorted(workers) == [0, 1, 2, 3]
                    and all(w[0] > 0 and w[1] == 0 for w in workers.values()), repr(out[-600:]))
            rc, out = con.run("for c in 0 1 2 3; do dd if=/dev/vda of=/tmp/f$c bs=64k skip=$((%d + c * %d))"
                              " count=16 iflag=direct 2>/dev/null; done; md5sum /tmp/f[0-3]"
                              % (STRESS_BASE // 65536, STRESS_STRIDE // 65536), timeout=120)
            for c in range(4):
                last = workers.get(c, (0, 0, "none"))[2]
                region_md5[c] = sums.get("/tmp/p%s%d" % (last, c))
            t.check("after the stress each region holds its worker's last pattern",
                    all(region_md5[c] and md5_of(out, "/tmp/f%d" % c) == region_md5[c] for c in range(4)),
                    repr(out[-400:]))
        poweroff(t, con, "boot 1")
        output += con.output
        # dd conv=fsync sent FLUSHes; the backend (QEMU's device) got requests.
        fl = checks.hyp_search(r"VM 0 disk: \d+ reads .*?, (\d+) flushes, (\d+) errors", con.output)
        be = checks.hyp_search(r"VM 0 disk backend: (\d+) requests \((\d+) failed\)", con.output)
        t.check("guest FLUSHes and requests reached the backend, none failed",
                fl is not None and int(fl.group(1)) > 0 and int(fl.group(2)) == 0 and be is not None
                and int(be.group(1)) > 0 and int(be.group(2)) == 0, (fl.group(0) if fl else "") + " / "
                + (be.group(0) if be else ""))
        if args.mode == "single":
            kicks = checks.hyp_search(r"  kicks sent((?:\s+\d+){4})", con.output)
            t.check("single mode: disk completions need no kick SGI (kicks sent 0 0 0 0)",
                    kicks is not None and kicks.group(1).split() == ["0"] * 4, kicks.group(0) if kicks else "")
        con.kill()
        con = None

        # ---- the host file -----------------------------------------------
        t.check("the host image holds the pattern (written through to the file)",
                pattern_md5 is not None and image_md5(image, PATTERN_OFF, PATTERN_LEN) == pattern_md5)
        if stress:
            t.check("the host image holds each stress region's last pattern",
                    all(image_md5(image, STRESS_BASE + c * STRESS_STRIDE, STRESS_LEN) == region_md5[c]
                        for c in range(4)))
        t.check("image size unchanged", os.path.getsize(image) == DISK_BYTES, str(os.path.getsize(image)))

        # ---- boot 2 ------------------------------------------------------
        con = boot(args, image, logs[1])
        rc, out = con.run("dd if=/dev/vda bs=64k skip=16 count=64 2>/dev/null | md5sum", timeout=300)
        got = cmd_lines(out)[-1].split()[0] if cmd_lines(out) else ""
        t.check("second boot reads the pattern back (md5 %s)" % pattern_md5, got == pattern_md5, repr(out[-300:]))
        if stress:
            rc, out = con.run("for c in 0 1 2 3; do dd if=/dev/vda of=/tmp/f$c bs=64k skip=$((%d + c * %d))"
                              " count=16 2>/dev/null; done; md5sum /tmp/f[0-3]"
                              % (STRESS_BASE // 65536, STRESS_STRIDE // 65536), timeout=120)
            t.check("second boot reads every stress region back",
                    all(md5_of(out, "/tmp/f%d" % c) == region_md5[c] for c in range(4)), repr(out[-400:]))
        # The driver resets the device on unbind (Status = 0) and brings it up
        # again on probe.
        rc, out = con.run("rmmod virtio_blk && [ ! -e /dev/vda ] && insmod /lib/modules/$(uname -r)/kernel/drivers/"
                          "block/virtio_blk.ko && sleep 1 && dd if=/dev/vda bs=64k skip=16 count=64 2>/dev/null"
                          " | md5sum", timeout=300)
        got = cmd_lines(out)[-1].split()[0] if cmd_lines(out) else ""
        t.check("driver unbind (device reset) and re-probe, then the pattern reads back", rc == 0 and got == pattern_md5,
                repr(out[-300:]))
        poweroff(t, con, "boot 2")
        output += con.output
        bad = BAD.search(output)
        t.check("no I/O error, stall, panic or FATAL in either boot", bad is None, bad.group(0) if bad else "")
        for what in ("disk", "disk backend"):
            stats = checks.hyp_re(r"VM 0 (%s: \d+ (?:reads|requests) .*)" % what).findall(output)
            if stats:
                print("hyp [%s] boot 1 %s" % (args.mode, stats[0].strip()), flush=True)
    except ConsoleError as e:
        t.check("console session completes", False, str(e)[-1500:])
    finally:
        if con:
            con.kill()
    print("logs: %s" % " ".join(logs))
    if t.failed == 0:
        os.remove(image)
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main())
