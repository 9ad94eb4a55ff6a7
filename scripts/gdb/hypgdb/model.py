"""The hypervisor's scheduling state as the helpers see it: one VM,
g_vms[m] (VM 0 unless a helper was given vm=M; the other VMs' vCPUs are
named, not modelled: hv-vms lists them), g_pcpus and the relations between
them (which vCPU a pCPU has loaded, which run queue a vCPU is on). Read
inside target.physical_memory()."""
import gdb

from .structs import ShapeError, boolean, elements, enum_names, enum_value, field, path, u, value

RUN_STATES = ("Off", "Runnable", "Blocked")          # RunState, vcpu.h
PSCI_STATES = ("On", "Off", "OnPending", "Claiming")  # psci::Psci::VState, psci.h
MODES = ("Multi", "Single")                          # Mode, core/options.h


class OtherVcpu(str):
    """A vCPU of another VM than the one modelled: "m:n" (VM m, vCPU n). The
    helpers' integers are the modelled VM's vCPUs (VM 0's by default)."""


def vm_count():
    return u(value("g_nvms"))


def check_vm(m, command):
    """Stops `command` with one line unless VM m exists."""
    nvms = vm_count()
    if not 0 <= m < nvms:
        raise gdb.GdbError("%s: no VM %d (there %s %d: hv-vms lists them)"
                           % (command, m, "is" if nvms == 1 else "are", nvms))


class Hyp:
    def __init__(self, vm=0):
        self.index = vm
        self.name = "g_vms[%d]" % vm
        self.vm = value(self.name)
        self.mode = enum_value(path(value("g_options"), "mode"), "Mode", MODES)
        self.nvcpus = u(field(self.vm, "nvcpus"))
        vcpus = field(self.vm, "vcpus")
        self.vcpus = elements(vcpus, self.nvcpus)
        self._vcpu_base = u(vcpus.address)
        self._vcpu_size = vcpus[0].type.sizeof
        # The other VMs' vCPUs (make run VMS=2...): named "m:n" where a pCPU
        # has one loaded or queued.
        self._other_vms = []
        nvms = vm_count()
        for m in range(nvms):
            if m == vm:
                continue
            other = value("g_vms[%d]" % m)  # one at a time: the array is larger than gdb's max-value-size
            arr = field(other, "vcpus")
            self._other_vms.append((m, u(arr.address), u(field(other, "nvcpus"))))
        self.nvms = nvms
        self.all_vcpus = self.nvcpus + sum(n for _, _, n in self._other_vms)
        self.pcpus = elements(value("g_pcpus"))
        # Set by the primary once every pCPU may enter its run loop.
        self.released = boolean(value("'(anonymous namespace)::g_release'"))

    def mode_text(self):
        return {"Multi": "multi-pCPU (vCPU n pinned on pCPU n)",
                "Single": "single-pCPU (all vCPUs time-shared on pCPU 0)"}[self.mode]

    def vcpu_of(self, ptr):
        """Index of the vCPU a Vcpu* points at, or None for nullptr."""
        a = u(ptr)
        if a == 0:
            return None
        off = a - self._vcpu_base
        for m, base, n in self._other_vms:
            o = a - base
            if 0 <= o < n * self._vcpu_size and o % self._vcpu_size == 0:
                return OtherVcpu("%d:%d" % (m, o // self._vcpu_size))
        if off < 0 or off % self._vcpu_size or off // self._vcpu_size >= len(self.vcpus):
            raise ShapeError("Vcpu pointer %#x is not inside %s.vcpus[0..%d]" % (a, self.name, len(self.vcpus) - 1))
        return off // self._vcpu_size

    def runq(self, p):
        """vCPU indices on pCPU p's run queue."""
        pc = self.pcpus[p]
        n = u(field(pc, "nrun"))
        return [self.vcpu_of(x) for x in elements(field(pc, "runq"), n)]

    def loaded(self, p):
        """The vCPU pCPU p has loaded (Pcpu::vcpu), or None."""
        return self.vcpu_of(field(self.pcpus[p], "vcpu"))

    def loaded_on(self, v):
        """The pCPU that has vCPU v loaded, or None."""
        for p in range(len(self.pcpus)):
            if self.loaded(p) == v:
                return p
        return None

    def home(self, v):
        for p in range(len(self.pcpus)):
            if v in self.runq(p):
                return p
        return None

    def run_state(self, v):
        return enum_value(field(self.vcpus[v], "state"), "RunState", RUN_STATES)

    def psci(self, v):
        """(state name, entry, context) of vCPU v in the PSCI state machine."""
        pv = elements(path(self.vm, "psci.vcpus_"), self.nvcpus)[v]
        names = enum_names("psci::Psci::VState", PSCI_STATES)
        s = u(field(pv, "state"))
        if s not in names:
            raise ShapeError("%s.psci.vcpus_[%d].state is %d, not a psci::Psci::VState" % (self.name, v, s))
        return names[s], u(field(pv, "entry")), u(field(pv, "context"))

    def mmio_ranges(self):
        """Names of the MMIO bus ranges, in VcpuStats::mmio order."""
        bus = field(self.vm, "bus")
        n = u(field(bus, "n_"))
        out = []
        for r in elements(field(bus, "ranges_"), n):
            dev = field(r, "dev")
            out.append(field(dev, "name_").string() if u(dev) else "?")
        return out
