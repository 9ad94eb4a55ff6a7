#!/usr/bin/env python3
"""Every file the project names exists: comments, docs, scripts and the
Makefile refer to each other by repository path (docs/tracing.md,
hyp/vm/sched.cpp, scripts/trace.py ...), and a reader who follows one to a
file that moved or was never written is misled (issue 12, defect 10).

A reference is a path under one of the project's top-level directories. A
stem that names a family of files (hyp/debug/gdb_stub for .h and .cpp)
counts when a file starting with it exists; examples that are placeholders
by design are listed below. No QEMU.

    tests/system/test_repo_refs.py
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import ROOT, Checks  # noqa: E402

TOP = ("docs", "hyp", "scripts", "tests", "guest", "mk")
REF_RE = re.compile(r"(?<![\w/.$-])((?:%s)/[\w./+-]*\w)" % "|".join(TOP))
# Names that stand for a file the reader writes (docs/extending.md's recipe)
# or for a family (test_*.cpp).
PLACEHOLDERS = {"hyp/devices/foo", "tests/unit/test_foo.cpp", "tests/unit/test_", "hyp/devices/virtio_",
                "tests/fuzz/fuzz_"}
SKIP_SUFFIXES = (".png", ".img", ".bin", ".json", ".gz", ".cpio")


def exists(ref):
    path = os.path.join(ROOT, ref)
    if os.path.exists(path):
        return True
    # A stem: hyp/debug/gdb_stub -> gdb_stub.h, gdb_stub.cpp.
    d, base = os.path.split(path)
    return os.path.isdir(d) and any(f.startswith(base + ".") for f in os.listdir(d))


def main():
    t = Checks("repo", "file references")
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    missing = {}
    scanned = 0
    for f in files:
        # Another tool's sources (libfdt's, the kernel's) are not ours.
        if f.endswith(SKIP_SUFFIXES) or f == "tests/system/test_repo_refs.py" or not os.path.isfile(os.path.join(ROOT, f)):
            continue
        try:
            text = open(os.path.join(ROOT, f), encoding="utf-8").read()
        except UnicodeDecodeError:
            continue
        scanned += 1
        for m in REF_RE.finditer(text):
            ref = m.group(1).rstrip(".")
            # Paths inside the build directory or another tree (scripts/mod
            # of a kernel build) are not the repository's.
            line = text[text.rfind("\n", 0, m.start()) + 1:text.find("\n", m.end())]
            if ref in PLACEHOLDERS or "build/" + ref in line or "kbuild" in line.lower() or "BUILD_DIR/" + ref in line:
                continue
            if not exists(ref):
                missing.setdefault(ref, set()).add(f)
    t.check("the scan read the tree (%d files)" % scanned, scanned > 100)
    detail = "; ".join("%s (in %s)" % (r, ", ".join(sorted(fs)[:3])) for r, fs in sorted(missing.items()))
    t.check("every repository path named in a comment, doc or script exists", not missing, detail)
    # The check itself: a name that does not exist is reported.
    t.check("a missing file is reported", not exists("docs/no-such-document.md") and exists("hyp/debug/gdb_stub"))
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main())
