#!/usr/bin/env python3
"""System test: two VMs on one machine (make run VMS=2), driven through
both consoles: VM 0 on QEMU's stdio, VM 1 on its console port
(scripts/console.py). Each VM boots to its own shell with its own CPUs and
memory, in the placement the mode's preset gives; VM 1's Linux gets bus
errors, not data, from /dev/mem at VM 0's host RAM and past its own RAM;
VM 1 reboots alone
(SYSTEM_RESET) and powers off alone (SYSTEM_OFF) while VM 0 runs on; the
machine powers off with the last VM, printing each VM's exit table.

    tests/system/test_vms.py --mode multi|single --build build
"""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import (BAD, ROOT, Checks, boot_args, fresh_log, hyp_lines, hyp_search, run_qemu_env,  # noqa: E402
                    vm_ram)
from qemu_console import ConsoleError, QemuConsole  # noqa: E402

CONSOLE = os.path.join(ROOT, "scripts", "console.py")


def cpu_count(con):
    rc, out = con.run("grep -c processor /proc/cpuinfo", timeout=60)
    return out.strip().splitlines()[-1] if out.strip() else ""


def mem_mib(con):
    rc, out = con.run("grep MemTotal /proc/meminfo", timeout=60)
    m = re.search(r"MemTotal:\s+(\d+) kB", out)
    return int(m.group(1)) // 1024 if m else -1


def exit_row(output, vm, label):
    """Values of one row of VM vm's exit table."""
    head = hyp_search(r"exit statistics of VM %d " % vm, output)
    if not head:
        return []
    m = re.search(r"\]   %s +([\d .%%]+?)[ \r]*\n" % re.escape(label), output[head.end():])
    return m.group(1).split() if m else []


def devmem_probes(t, con0, con1):
    """VM 1's Linux reads and writes, through /dev/mem, IPAs past its own
    RAM: the end of VM 0's host-physical RAM used as an IPA, and the
    window VM 0's RAM would occupy if the two were laid out one after the
    other. Each must come back as a bus error, never data, and VM 1's
    shell must survive. (Its own RAM is what Debian's STRICT_DEVMEM kernel
    refuses; these addresses are not RAM to VM 1, so the kernel lets the
    access through to the hypervisor.)"""
    ram = {vm: vm_ram(con0.output, vm) for vm in (0, 1)}
    if not t.check("the banner gives both VMs' RAM (IPA range and host PA)", all(ram.values()), str(ram)):
        return
    ipa0, end0, pa0 = ram[0]
    ipa1, end1, _ = ram[1]
    probes = [a for a in (pa0 + (end0 - ipa0) - (1 << 20), end1, end1 + (end0 - ipa0) - 8)
              if not ipa1 <= a < end1]
    bad = []
    for a in probes:
        for cmd in ("devmem %#x 64" % a, "devmem %#x 32 0x5a5a5a5a" % a):
            rc, out = con1.run(cmd, timeout=60)
            if rc == 0 or "Bus error" not in out or re.search(r"^0x[0-9A-Fa-f]+$", out, re.M):
                bad.append("%s -> rc %d %r" % (cmd, rc, out.strip()[-120:]))
    rc, out = con1.run("echo vm1-alive", timeout=60)
    t.check("VM 1's /dev/mem loads and stores at %s (VM 0's host RAM as IPAs, the window past VM 1's RAM) "
            "give bus errors, not data" % " ".join("%#x" % a for a in probes),
            len(probes) == 3 and not bad and out.strip().endswith("vm1-alive"), "; ".join(bad[:3]) or repr(out))


def main():
    args = boot_args(__doc__, with_mode=True)
    log0 = fresh_log(args.build, "vms-%s-vm0.log" % args.mode)
    log1 = fresh_log(args.build, "vms-%s-vm1.log" % args.mode)
    t = Checks(args.mode, "2 VMs")
    env = run_qemu_env(args.build, MODE=args.mode, DISK="none", VMS="2")
    con0 = QemuConsole([os.path.join(ROOT, "scripts", "run-qemu.sh")], log_path=log0, env=env)
    con1 = None
    want_pcpus = (["0", "1"], ["2", "3"]) if args.mode == "multi" else (["0", "0"], ["0", "0"])
    try:
        con1 = QemuConsole([sys.executable, CONSOLE, "1", "--wait", "120"], log_path=log1)
        m0 = con0.expect(r"GUEST-BOOT-OK cpus=(\d+)", timeout=args.boot_timeout)
        m1 = con1.expect(r"GUEST-BOOT-OK cpus=(\d+)", timeout=args.boot_timeout)
        t.check("both VMs boot to their shells with 2 CPUs each", (m0.group(1), m1.group(1)) == ("2", "2"),
                "VM0 %s, VM1 %s" % (m0.group(1), m1.group(1)))
        for vm, pcpus in enumerate(want_pcpus):
            t.check("banner: VM %d's vCPUs on pCPUs %s" % (vm, " ".join(pcpus)),
                    hyp_search(r"VM %d: 2 vCPUs on pCPUs %s," % (vm, " ".join(pcpus)), con0.output) is not None)
        con0.expect(r"# ", timeout=30)
        con1.expect(r"# ", timeout=30)
        for vm, con in enumerate((con0, con1)):
            t.check("VM %d's shell answers and counts its own 2 CPUs" % vm, cpu_count(con) == "2")
            mib = mem_mib(con)
            t.check("VM %d sees its own 512 MiB of RAM (%d MiB usable)" % (vm, mib), 400 <= mib <= 512, str(mib))
        con0.run("echo vm0-only > /tmp/mark", timeout=60)
        rc, out = con1.run("cat /tmp/mark 2>&1", timeout=60)
        t.check("VM 1 does not see VM 0's files", rc != 0 and "vm0-only" not in out, repr(out))
        devmem_probes(t, con0, con1)

        # VM 1 reboots alone while VM 0 keeps answering.
        con1.send("reboot -f")
        con0.expect(r"VM 1 requested SYSTEM_RESET", timeout=60)
        rc, out = con0.run("echo alive-during-reset", timeout=60)
        t.check("VM 0 answers while VM 1 reboots", out.strip().endswith("alive-during-reset"), repr(out))
        m = con1.expect(r"GUEST-BOOT-OK cpus=(\d+)", timeout=args.boot_timeout)
        con1.expect(r"# ", timeout=30)
        t.check("VM 1 comes back to its shell after SYSTEM_RESET, with 2 CPUs", m.group(1) == "2")
        t.check("the hypervisor reset VM 1 alone from its pristine images",
                hyp_search(r"VM 1 reset \(SYSTEM_RESET #1\)", con0.output) is not None
                and hyp_search(r"VM 0 reset", con0.output) is None)
        rc, out = con1.run("cat /tmp/mark 2>&1; uptime", timeout=60)
        t.check("VM 1 after its reset answers", "load average" in out, repr(out))

        # VM 1 powers off alone; the machine stays on for VM 0.
        con1.send("poweroff -f")
        con0.expect(r"VM 1 stopped \(SYSTEM_OFF\)", timeout=60)
        time.sleep(1)
        rc, out = con0.run("echo alive-after-vm1-off", timeout=60)
        t.check("VM 1 powers off and VM 0 keeps running",
                out.strip().endswith("alive-after-vm1-off") and con0.proc.poll() is None, repr(out))
        t.check("VM 1's exit table is printed when it stops",
                hyp_search(r"exit statistics of VM 1 \(%s mode\)" % args.mode, con0.output) is not None)
        ran1 = exit_row(con0.output, 1, "ran on pCPU")
        t.check("VM 1's vCPUs ran on pCPUs %s" % " ".join(want_pcpus[1]), ran1 == want_pcpus[1], str(ran1))

        # The last VM off powers the machine off.
        con0.send("poweroff -f")
        code = con0.wait_exit(timeout=120)
        t.check("the last VM's SYSTEM_OFF powers the machine off, exit status 0", code == 0, "exit %s" % code)
        t.check("the machine says all VMs stopped",
                hyp_search(r"all VMs stopped: powering off", con0.output) is not None)
        ran0 = exit_row(con0.output, 0, "ran on pCPU")
        t.check("VM 0's vCPUs ran on pCPUs %s" % " ".join(want_pcpus[0]), ran0 == want_pcpus[0], str(ran0))
        lines = [l for l in hyp_lines(con0.output) if l.startswith("VM ")]
        t.check("hypervisor lines about a VM name it", len(lines) >= 6, repr(lines[:8]))
        bad = BAD.search(con0.output + (con1.output if con1 else ""))
        t.check("no RCU stall, soft lockup, hung task or panic in either VM", bad is None,
                bad.group(0) if bad else "")
    except ConsoleError as e:
        t.check("console sessions complete", False, str(e)[-1500:])
    finally:
        if con1:
            con1.kill()
        con0.kill()
    print("logs: %s %s" % (log0, log1))
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main())
