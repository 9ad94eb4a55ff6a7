#!/usr/bin/env python3
"""Give gdb the guest kernel's function names.

Debian's kernel package ships only a placeholder System.map (the real one,
with vmlinux, is in the large -dbg package). The running kernel has its
symbol table, though: this boots the guest once under the hypervisor with
nokaslr (as GDB=1 does, so addresses are the link addresses and the same
on every boot of this kernel), reads the text symbols from /proc/kallsyms
over the console (compressed), and writes

    BUILD/guest/kallsyms      the symbols, "address type name" per line
    BUILD/guest/kallsyms.elf  an ELF file with only a symbol table, for gdb:
                              (gdb) symbol-file build/guest/kallsyms.elf

Sizes are the distance to the next symbol, which is what gdb needs to know
which function an address is in. No types, no line numbers: there is no
debug information to be had without the -dbg package.

    scripts/guest-symbols.py --build build      (make guest-symbols)
"""
import argparse
import base64
import gzip
import os
import re
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))
from qemu_console import QemuConsole, ConsoleError  # noqa: E402

EM_AARCH64 = 183


def read_kallsyms(build, log):
    env = dict(os.environ, HYP=os.path.join(build, "hyp.elf"), KERNEL=os.path.join(build, "guest", "Image"),
               INITRD=os.path.join(build, "guest", "initramfs.cpio.gz"), MODE="multi", GDB="0",
               APPEND="console=ttyAMA0 nokaslr")
    con = QemuConsole([os.path.join(ROOT, "scripts", "run-qemu.sh")], log_path=log, env=env)
    try:
        con.expect(r"GUEST-BOOT-OK", timeout=300)
        con.expect(r"# ", timeout=30)
        # Kernel messages would land in the middle of the data: silence them.
        con.run("dmesg -n 1", timeout=60)
        rc, out = con.run("grep ' [tT] ' /proc/kallsyms | gzip -c | base64", timeout=900)
        con.send("poweroff -f")
        con.wait_exit(60)
    finally:
        con.kill()
    if rc != 0:
        raise SystemExit("guest-symbols: reading /proc/kallsyms in the guest failed (see %s)" % log)
    out = re.sub(r"\[\s*\d+\.\d+\] [^\n]*", "", out)  # one that got through anyway
    b64 = "".join(l.strip() for l in out.splitlines() if re.fullmatch(r"[A-Za-z0-9+/=]+", l.strip()))
    return gzip.decompress(base64.b64decode(b64)).decode()


def parse(text):
    syms = []
    for line in text.splitlines():
        f = line.split()
        if len(f) >= 3 and f[1] in "tT":
            syms.append((int(f[0], 16), f[1], f[2]))
    syms.sort()
    return syms


def write_elf(path, syms):
    """ELF64 with a NOBITS .text spanning the symbols, .symtab and .strtab."""
    lo = syms[0][0]
    hi = syms[-1][0] + 4
    strtab = bytearray(b"\0")
    symtab = bytearray(b"\0" * 24)
    locals_, globals_ = [], []
    for i, (addr, typ, name) in enumerate(syms):
        nxt = next((a for a, _, _ in syms[i + 1:] if a > addr), addr + 4)
        (globals_ if typ == "T" else locals_).append((addr, nxt - addr, name, typ == "T"))
    for addr, size, name, glob in locals_ + globals_:
        off = len(strtab)
        strtab += name.encode() + b"\0"
        info = ((1 if glob else 0) << 4) | 2  # STB_GLOBAL/LOCAL, STT_FUNC
        symtab += struct.pack("<IBBHQQ", off, info, 0, 1, addr, size)
    shstrtab = b"\0.text\0.symtab\0.strtab\0.shstrtab\0"
    ehsize, shentsize = 64, 64
    symtab_off = ehsize
    strtab_off = symtab_off + len(symtab)
    shstr_off = strtab_off + len(strtab)
    shoff = (shstr_off + len(shstrtab) + 7) & ~7
    sections = [
        b"\0" * 64,
        # name, type NOBITS, flags ALLOC|EXECINSTR, addr, offset, size, link, info, align, entsize
        struct.pack("<IIQQQQIIQQ", 1, 8, 6, lo, 0, hi - lo, 0, 0, 4, 0),
        struct.pack("<IIQQQQIIQQ", 7, 2, 0, 0, symtab_off, len(symtab), 3, 1 + len(locals_), 8, 24),
        struct.pack("<IIQQQQIIQQ", 15, 3, 0, 0, strtab_off, len(strtab), 0, 0, 1, 0),
        struct.pack("<IIQQQQIIQQ", 23, 3, 0, 0, shstr_off, len(shstrtab), 0, 0, 1, 0),
    ]
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + b"\0" * 8
    header = ident + struct.pack("<HHIQQQIHHHHHH", 2, EM_AARCH64, 1, 0, 0, shoff, 0, ehsize, 0, 0,
                                 shentsize, len(sections), 4)
    body = header + bytes(symtab) + bytes(strtab) + shstrtab
    body += b"\0" * (shoff - len(body))
    with open(path, "wb") as f:
        f.write(body + b"".join(sections))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    out_dir = os.path.join(build, "guest")
    text = read_kallsyms(build, os.path.join(out_dir, "guest-symbols.log"))
    syms = parse(text)
    if len(syms) < 1000:
        raise SystemExit("guest-symbols: only %d symbols read; see %s" % (len(syms), os.path.join(out_dir, "guest-symbols.log")))
    with open(os.path.join(out_dir, "kallsyms"), "w") as f:
        f.write(text)
    write_elf(os.path.join(out_dir, "kallsyms.elf"), syms)
    print("guest-symbols: %d text symbols -> %s (gdb: symbol-file %s)" % (
        len(syms), os.path.join(out_dir, "kallsyms.elf"), os.path.relpath(os.path.join(out_dir, "kallsyms.elf"))))


if __name__ == "__main__":
    sys.exit(main())
