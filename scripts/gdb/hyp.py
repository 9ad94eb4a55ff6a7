# gdb helpers for the hypervisor: source this file in gdb-multiarch
# (`make debug` does, through scripts/debug.sh). Commands:
#   hv-vms      each VM: vCPUs and pCPUs, RAM, state, console, debugger hold
#   hv-pcpus    each pCPU: exception level, vCPU it runs, what it is doing
#   hv-vcpus    each vCPU of a VM (vm=M, VM 0 by default): scheduler and
#               PSCI state, PC/PSTATE, LRs, pending/active virtual
#               interrupts, exit counts
#   hv-vgic     a VM's virtual distributor: enable, pending, routing per SPI
#   hv-log      the hypervisor's recent log (g_log_ring)
#   hv-continue-until REGEX [SECONDS]
#               continue until the guest console prints REGEX, then stop
# They read the hypervisor's own data structures by name (gdb's type
# information from build/hyp.elf), and stop with an error naming the
# structure when one has changed shape. docs/debugging.md has the details.
import os
import sys

import gdb

sys.dont_write_bytecode = True  # keep the source tree clean
_here = os.path.dirname(os.path.abspath(__file__))
if _here not in sys.path:
    sys.path.insert(0, _here)

import hypgdb  # noqa: E402

hypgdb.register()
import hyp_trace  # noqa: E402,F401  hv-trace, the event trace out of memory (scripts/gdb/hyp_trace.py)
