// The exit table printed when a guest shuts down (and on Ctrl-] s): per VM,
// one column per vCPU and one row per exit reason, so the scheduling modes
// and placements can be compared.
#include "vm/stats.h"

#include "core/format.h"
#include "log.h"
#include "psci/function_ids.h"
#include "vm/pcpu.h"
#include "vm/sched.h"
#include "vm/vm.h"
#include "vm/vm_disk.h"

namespace {
void row(const char* label, const u64* values, u32 n)
{
    char line[160];
    int len = fmt_snprintf(line, sizeof line, "  %-22s", label);
    for (u32 i = 0; i < n && len < static_cast<int>(sizeof line); i++)
        len += fmt_snprintf(line + len, sizeof line - static_cast<usize>(len), " %10llu",
                            static_cast<unsigned long long>(values[i]));
    hyp_log("%s", line);
}

template <typename F>
void stat_row(const Vm& vm, const char* label, F get)
{
    u64 v[kMaxVcpus];
    for (u32 i = 0; i < vm.nvcpus; i++)
        v[i] = get(vm.vcpus[i]);
    row(label, v, vm.nvcpus);
}

// The VM's PSCI calls by function (the HVC/SMC row splits into these), on
// one line: which power operations the guest used, and how often.
void print_psci_calls(const Vm& vm)
{
    char line[256];
    int len = fmt_snprintf(line, sizeof line, "  %-22s", "PSCI calls");
    bool any = false;
    for (u32 n = 0; n < psci::kRangeSize; n++) {
        const u64 c = vm.psci.call_count(psci::kSmc32Base + n);
        if (!c || len >= static_cast<int>(sizeof line))
            continue;
        const char* name = psci::function_name(n);
        len += name ? fmt_snprintf(line + len, sizeof line - static_cast<usize>(len), " %s=%llu", name,
                                   static_cast<unsigned long long>(c))
                    : fmt_snprintf(line + len, sizeof line - static_cast<usize>(len), " fn%u=%llu", n,
                                   static_cast<unsigned long long>(c));
        any = true;
    }
    const u64 other = vm.psci.foreign_count();
    if (other && len < static_cast<int>(sizeof line))
        len += fmt_snprintf(line + len, sizeof line - static_cast<usize>(len), " other-SMCCC=%llu",
                            static_cast<unsigned long long>(other));
    if (!any && !other && len < static_cast<int>(sizeof line))
        fmt_snprintf(line + len, sizeof line - static_cast<usize>(len), " none");
    hyp_log("%s", line);
}

void print_vm(const Vm& vm)
{
    char head[160];
    int len = fmt_snprintf(head, sizeof head, "  %-22s", "exits by reason");
    for (u32 i = 0; i < vm.nvcpus; i++)
        len += fmt_snprintf(head + len, sizeof head - static_cast<usize>(len), " %9s%u", "vCPU", i);
    if (g_nvms > 1)
        hyp_log("exit statistics of VM %u (%s mode)", vm.id, mode_name(g_options.mode));
    else
        hyp_log("exit statistics (%s mode)", mode_name(g_options.mode));
    hyp_log("%s", head);
    stat_row(vm, "ran on pCPU", [](const Vcpu& v) { return u64{v.pcpu}; });
    stat_row(vm, "scheduled", [](const Vcpu& v) { return v.stats.scheduled; });
    stat_row(vm, "preempted", [](const Vcpu& v) { return v.stats.preempted; });
    stat_row(vm, "blocked in WFI", [](const Vcpu& v) { return v.stats.wfi_blocked; });
    {
        char line[160];
        int l = fmt_snprintf(line, sizeof line, "  %-22s", "share of its pCPU");
        for (u32 i = 0; i < vm.nvcpus; i++) {
            const u64 pm = sched_share_permille(vm.vcpus[i]);
            l += fmt_snprintf(line + l, sizeof line - static_cast<usize>(l), " %7llu.%llu%%",
                              static_cast<unsigned long long>(pm / 10), static_cast<unsigned long long>(pm % 10));
        }
        hyp_log("%s", line);
    }
    stat_row(vm, "total exits", [](const Vcpu& v) { return v.stats.exits; });
    stat_row(vm, "HVC/SMC (PSCI)", [](const Vcpu& v) { return v.stats.hvc; });
    for (unsigned r = 0; r < vm.bus.count(); r++) {
        char label[32];
        fmt_snprintf(label, sizeof label, "MMIO %s", vm.bus.range(r).dev->name());
        stat_row(vm, label, [r](const Vcpu& v) { return v.stats.mmio[r]; });
    }
    stat_row(vm, "MMIO unhandled (abort)", [](const Vcpu& v) { return v.stats.mmio_unhandled; });
    stat_row(vm, "sysreg", [](const Vcpu& v) { return v.stats.sysreg; });
    stat_row(vm, "WFI", [](const Vcpu& v) { return v.stats.wfi; });
    stat_row(vm, "IRQ", [](const Vcpu& v) { return v.stats.irq; });
    stat_row(vm, "UNDEF injected", [](const Vcpu& v) { return v.stats.undef; });
    stat_row(vm, "SGIs sent", [&vm](const Vcpu& v) { return u64{vm.vgic.sgi_sent(v.id)}; });
    stat_row(vm, "SGIs received", [&vm](const Vcpu& v) { return u64{vm.vgic.sgi_received(v.id)}; });
    stat_row(vm, "kicks sent", [](const Vcpu& v) { return v.stats.kicks_sent; });
    print_psci_calls(vm);
}
} // namespace

void print_vm_exit_stats(const Vm& vm) { print_vm(vm); }

void print_exit_stats()
{
    for (u32 m = 0; m < g_nvms; m++)
        print_vm(g_vms[m]);
    print_machine_stats();
}

void print_machine_stats()
{
    u64 kicks[kMaxPcpus], ran[kMaxPcpus];
    for (u32 i = 0; i < kMaxPcpus; i++) {
        kicks[i] = g_pcpus[i].kicks_received;
        ran[i] = g_pcpus[i].ran_guest;
    }
    hyp_log("  %-22s %10s %10s %10s %10s", "per pCPU", "pCPU0", "pCPU1", "pCPU2", "pCPU3");
    row("ran guest code (1=yes)", ran, kMaxPcpus);
    row("kicks received", kicks, kMaxPcpus);
    for (u32 m = 0; m < g_nvms; m++)
        vm_disk_print_stats(g_vms[m]);
}
