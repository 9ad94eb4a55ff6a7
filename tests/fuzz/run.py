#!/usr/bin/env python3
"""Runs the libFuzzer targets built by mk/fuzz.mk (build/fuzz/<target>).

  run.py --build build --seconds 20 [target ...]   make fuzz: one line per target and a summary
  run.py --build build --smoke                      make test: the seed corpus plus a few seconds
                                                    each, as `ok - [fuzz] ...` / `not ok - ...` lines

A campaign grows build/fuzz/corpus/<target>/ (the committed seeds in
tests/fuzz/corpus/<target>/ are read, never written); a smoke run starts
from the seeds alone. A crash, an invariant violation or a sanitizer report
leaves its input in build/fuzz/crashes/<target>/ and makes the run fail.
"""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FUZZ_SRC = os.path.join(ROOT, "tests", "fuzz")


def targets():
    return sorted(os.path.basename(p)[len("fuzz_"):-len(".cpp")]
                  for p in glob.glob(os.path.join(FUZZ_SRC, "fuzz_*.cpp")))


def run_target(build, name, seconds, smoke):
    fdir = os.path.join(build, "fuzz")
    binary = os.path.join(fdir, name)
    seeds = os.path.join(FUZZ_SRC, "corpus", name)
    crashes = os.path.join(fdir, "crashes", name)
    work = os.path.join(fdir, "smoke-corpus" if smoke else "corpus", name)
    if smoke:
        shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work, exist_ok=True)
    os.makedirs(crashes, exist_ok=True)
    cmd = [binary, "-max_total_time=%d" % seconds, "-print_final_stats=1", "-timeout=10",
           "-rss_limit_mb=2048", "-artifact_prefix=" + crashes + os.sep]
    d = os.path.join(FUZZ_SRC, name + ".dict")
    if os.path.exists(d):
        cmd.append("-dict=" + d)
    cmd += [work] + ([seeds] if os.path.isdir(seeds) else [])
    # Separate logs: a smoke run may overlap a campaign of the same target.
    log = os.path.join(fdir, "smoke-corpus" if smoke else "", name + ".log")
    start = time.monotonic()
    with open(log, "w") as f:
        rc = subprocess.call(cmd, stdout=f, stderr=subprocess.STDOUT)
    took = time.monotonic() - start
    with open(log, errors="replace") as f:
        out = f.read()
    r = {"name": name, "rc": rc, "log": log, "seconds": took}
    m = re.search(r"stat::number_of_executed_units:\s*(\d+)", out)
    r["execs"] = int(m.group(1)) if m else 0
    m = re.search(r"stat::average_exec_per_sec:\s*(\d+)", out)
    r["rate"] = int(m.group(1)) if m else 0
    cov = re.findall(r"^#\d+\s+\w+\s+cov: (\d+) ft: (\d+) corp: (\d+)", out, re.M)
    r["cov"], r["ft"], r["corp"] = (int(x) for x in cov[-1]) if cov else (0, 0, 0)
    arts = re.findall(r"Test unit written to (\S+)", out)
    r["artifact"] = arts[-1] if arts else None
    r["crashed"] = rc != 0 or bool(arts)
    if r["crashed"]:
        why = None
        for pattern in (r"fuzz invariant violated: [^\n]*", r"PANIC: [^\n]*", r"runtime error: [^\n]*",
                        r"ERROR: \w+Sanitizer: [^\n]*", r"ERROR: libFuzzer: [^\n]*"):
            m = re.search(pattern, out)
            if m:
                why = m.group(0)
                break
        r["why"] = why or "exit status %d" % rc
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--smoke", action="store_true", help="seeds plus 3 s per target, TAP-style lines")
    ap.add_argument("names", nargs="*")
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    names = a.names or targets()
    unknown = [n for n in names if n not in targets()]
    if unknown:
        print("run.py: no fuzz target %s (there are: %s)" % (", ".join(unknown), " ".join(targets())))
        return 2
    missing = [n for n in names if not os.path.exists(os.path.join(build, "fuzz", n))]
    if missing:
        print("run.py: not built: %s (make fuzz-build)" % " ".join(missing))
        return 2
    seconds = 3 if a.smoke else a.seconds
    if not a.smoke:
        print("%-10s %6s %12s %9s %6s %7s %6s  %s" % ("target", "time", "execs", "exec/s", "cov", "ft", "corp", "result"),
              flush=True)
    results = []
    for n in names:
        r = run_target(build, n, seconds, a.smoke)
        results.append(r)
        verdict = ("CRASH: %s; input %s; log %s" % (r["why"], r["artifact"], r["log"])) if r["crashed"] else "no crash"
        if a.smoke:
            if r["crashed"]:
                print("not ok - [fuzz] %s: %s" % (n, verdict), flush=True)
            else:
                print("ok - [fuzz] %s: %d execs, no crash (cov %d, ft %d)" % (n, r["execs"], r["cov"], r["ft"]),
                      flush=True)
        else:
            print("%-10s %5.0fs %12d %9d %6d %7d %6d  %s" % (n, r["seconds"], r["execs"], r["rate"], r["cov"], r["ft"],
                                                           r["corp"], verdict), flush=True)
    bad = [r["name"] for r in results if r["crashed"]]
    if not a.smoke:
        total = sum(r["execs"] for r in results)
        if bad:
            print("fuzz: %d of %d targets crashed (%s): reproducers in %s" %
                  (len(bad), len(results), " ".join(bad), os.path.join(build, "fuzz", "crashes")))
        else:
            print("fuzz: %d targets, %d execs, no crash" % (len(results), total))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
