#!/usr/bin/env python3
"""Give gdb the guest kernel's function names without its 270 MB vmlinux.

Reads the real System.map (from Debian's linux-image-<kver>-dbg package,
scripts/fetch-kernel-dbg.sh) and writes

    BUILD/guest/System.map.elf   an ELF file with only a symbol table, for gdb:
                                 (gdb) symbol-file build/guest/System.map.elf

GDB=1 boots the guest with nokaslr, so the kernel runs at these, its link,
addresses. Sizes are the distance to the next symbol, which is what gdb
needs to know which function an address is in. No types or line numbers:
for those, `make guest-vmlinux` unpacks the vmlinux with DWARF.

    scripts/guest-symbols.py --build build      (make guest-symbols)
"""
import argparse
import os
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

EM_AARCH64 = 183


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
    out_dir = os.path.join(os.path.abspath(args.build), "guest")
    smap = os.path.join(out_dir, "System.map")
    try:
        with open(smap) as f:
            syms = parse(f.read())
    except OSError as e:
        raise SystemExit("guest-symbols: %s (make guest-symbols fetches it)" % e)
    if len(syms) < 1000:
        raise SystemExit("guest-symbols: only %d text symbols in %s: not a real System.map "
                         "(rm it and run make guest-symbols)" % (len(syms), smap))
    elf = os.path.join(out_dir, "System.map.elf")
    write_elf(elf, syms)
    print("guest-symbols: %d text symbols -> %s (gdb: symbol-file %s)" % (len(syms), elf, os.path.relpath(elf)))


if __name__ == "__main__":
    sys.exit(main())
