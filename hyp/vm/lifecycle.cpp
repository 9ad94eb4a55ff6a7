#include "vm/lifecycle.h"

#include "config.h"
#include "log.h"
#include "trace/trace.h"
#include "vm/arch.h"
#include "vm/pcpu.h"
#include "vm/sched.h"
#include "vm/stats.h"
#include "vm/vm.h"
#include "vm/vm_disk.h"
#include "vm/vm_setup.h"

namespace {

VmState load(const Vm& vm) { return static_cast<VmState>(__atomic_load_n(&vm.life, __ATOMIC_ACQUIRE)); }
void store(Vm& vm, VmState s)
{
    __atomic_store_n(&vm.life, static_cast<u32>(s), __ATOMIC_RELEASE);
    if (trace::on(TraceType::VmState))
        trace::emit(TraceType::VmState, nullptr, static_cast<u32>(s), 0, 0, static_cast<u8>(vm.id));
}

// Every pCPU that runs vCPUs of `vm` looks at its run queue again.
void kick_all(const Vm& vm)
{
    u32 pcpus = 0;
    for (u32 i = 0; i < vm.nvcpus; i++)
        pcpus |= static_cast<u32>(bit(vm.vcpus[i].pcpu));
    const u32 self = this_pcpu_id();
    for (u32 p = 0; p < kMaxPcpus; p++)
        if ((pcpus & bit(p)) && p != self)
            arch::kick_pcpu(p);
}

void finish_stop(Vm& vm)
{
    store(vm, VmState::Stopped);
    hyp_log("VM %u stopped (SYSTEM_OFF)", vm.id);
    print_vm_exit_stats(vm);
    for (u32 m = 0; m < g_nvms; m++)
        if (load(g_vms[m]) != VmState::Stopped)
            return;
    hyp_log("all VMs stopped: powering off");
    print_machine_stats();
    arch::trace_dump("power-off");
    arch::machine_off();
}

// Power-on again, from the pristine images. Every vCPU of the VM is down:
// nothing of it runs or is loaded anywhere but as stale hardware state of
// the pCPUs, which vcpu_start overwrites.
void finish_reset(Vm& vm)
{
    if (!vm_reload_images(vm)) {
        // Loaded in place at boot (no machine description): only a reset
        // of the whole machine brings its images back.
        hyp_log("VM %u: SYSTEM_RESET without pristine images: restarting the machine", vm.id);
        print_exit_stats();
        arch::machine_reset();
    }
    vm.resets++;
    vm.uart.reset();
    vm_disk_reset(vm);
    vm.vgic.reset();
    vm.psci.reset();
    // Its old translations (stage 1 and 2, any ASID) must not outlive it,
    // nor old instructions its new kernel's.
    arch::vm_reset_caches(vm);
    vm.cntvoff = arch::now();
    hyp_log("VM %u reset (SYSTEM_RESET #%llu): rebooting from its pristine images", vm.id,
            static_cast<unsigned long long>(vm.resets));
    __atomic_store_n(&vm.down, 0u, __ATOMIC_RELAXED);
    store(vm, VmState::Running);
    // Every pCPU of the VM, this one included, starts its vCPUs at its next pass.
    kick_all(vm);
    arch::kick_pcpu(this_pcpu_id());
}

} // namespace

VmState vm_state(const Vm& vm) { return load(vm); }

void vm_request(Vm& vm, VmRequest r)
{
    u32 expected = static_cast<u32>(VmState::Running);
    const VmState to = r == VmRequest::Stop ? VmState::Stopping : VmState::Resetting;
    // A second request while one is under way joins it.
    if (!__atomic_compare_exchange_n(&vm.life, &expected, static_cast<u32>(to), false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE))
        return;
    if (trace::on(TraceType::VmState))
        trace::emit(TraceType::VmState, nullptr, static_cast<u32>(to), 0, 0, static_cast<u8>(vm.id));
    hyp_log("VM %u requested %s", vm.id, r == VmRequest::Stop ? "SYSTEM_OFF" : "SYSTEM_RESET");
    kick_all(vm);
}

bool vm_vcpu_may_run(Pcpu& p, Vcpu& v)
{
    Vm& vm = *v.vm;
    const VmState s = load(vm);
    if (s == VmState::Running) {
        if (!v.down)
            return true;
        // Back from a reset: the boot vCPU starts at its kernel, the others
        // wait, powered off, for the guest's CPU_ON.
        v.down = false;
        if (vm.psci.state(v.id) == psci::PowerState::On)
            vcpu_start(p, v, vm.ram_ipa + kGuestLayout.kernel_offset, vm.ram_ipa + kGuestLayout.dtb_offset);
        else
            v.state = RunState::Off;
        return true;
    }
    if (s == VmState::Stopped || v.down)
        return false;
    v.down = true;
    v.state = RunState::Off;
    const u32 all = static_cast<u32>(mask(vm.nvcpus));
    const u32 down = __atomic_or_fetch(&vm.down, static_cast<u32>(bit(v.id)), __ATOMIC_ACQ_REL);
    if (down == all) {
        if (s == VmState::Stopping)
            finish_stop(vm);
        else
            finish_reset(vm);
    }
    return false;
}
