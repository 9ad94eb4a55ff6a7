// The exit table printed when the guest shuts down: one column per vCPU,
// one row per exit reason, so the two scheduling modes can be compared.
#include "block.h"
#include "core/format.h"
#include "log.h"
#include "pcpu.h"
#include "sched.h"
#include "vm.h"

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
void stat_row(const char* label, F get)
{
    u64 v[kMaxVcpus];
    for (u32 i = 0; i < g_vm.nvcpus; i++)
        v[i] = get(g_vm.vcpus[i]);
    row(label, v, g_vm.nvcpus);
}
} // namespace

void print_exit_stats()
{
    char head[160];
    int len = fmt_snprintf(head, sizeof head, "  %-22s", "exits by reason");
    for (u32 i = 0; i < g_vm.nvcpus; i++)
        len += fmt_snprintf(head + len, sizeof head - static_cast<usize>(len), " %9s%u", "vCPU", i);
    hyp_log("exit statistics (%s mode)", mode_name(g_vm.opts.mode));
    hyp_log("%s", head);
    stat_row("ran on pCPU", [](const Vcpu& v) { return u64{v.pcpu}; });
    stat_row("scheduled", [](const Vcpu& v) { return v.stats.scheduled; });
    stat_row("preempted", [](const Vcpu& v) { return v.stats.preempted; });
    stat_row("blocked in WFI", [](const Vcpu& v) { return v.stats.wfi_blocked; });
    {
        char line[160];
        int l = fmt_snprintf(line, sizeof line, "  %-22s", "share of its pCPU");
        for (u32 i = 0; i < g_vm.nvcpus; i++) {
            const u64 pm = sched_share_permille(g_vm.vcpus[i]);
            l += fmt_snprintf(line + l, sizeof line - static_cast<usize>(l), " %7llu.%llu%%",
                              static_cast<unsigned long long>(pm / 10), static_cast<unsigned long long>(pm % 10));
        }
        hyp_log("%s", line);
    }
    stat_row("total exits", [](const Vcpu& v) { return v.stats.exits; });
    stat_row("HVC/SMC (PSCI)", [](const Vcpu& v) { return v.stats.hvc; });
    for (unsigned r = 0; r < g_vm.bus.count(); r++) {
        char label[32];
        fmt_snprintf(label, sizeof label, "MMIO %s", g_vm.bus.range(r).dev->name());
        u64 v[kMaxVcpus];
        for (u32 i = 0; i < g_vm.nvcpus; i++)
            v[i] = g_vm.vcpus[i].stats.mmio[r];
        row(label, v, g_vm.nvcpus);
    }
    stat_row("MMIO unhandled (abort)", [](const Vcpu& v) { return v.stats.mmio_unhandled; });
    stat_row("sysreg", [](const Vcpu& v) { return v.stats.sysreg; });
    stat_row("WFI", [](const Vcpu& v) { return v.stats.wfi; });
    stat_row("IRQ", [](const Vcpu& v) { return v.stats.irq; });
    stat_row("UNDEF injected", [](const Vcpu& v) { return v.stats.undef; });
    stat_row("SGIs sent", [](const Vcpu& v) { return u64{g_vm.vgic.sgi_sent(v.id)}; });
    stat_row("SGIs received", [](const Vcpu& v) { return u64{g_vm.vgic.sgi_received(v.id)}; });
    stat_row("kicks sent", [](const Vcpu& v) { return v.stats.kicks_sent; });
    u64 kicks[kMaxPcpus], ran[kMaxPcpus];
    for (u32 i = 0; i < kMaxPcpus; i++) {
        kicks[i] = g_pcpus[i].kicks_received;
        ran[i] = g_pcpus[i].ran_guest;
    }
    hyp_log("  %-22s %10s %10s %10s %10s", "per pCPU", "pCPU0", "pCPU1", "pCPU2", "pCPU3");
    row("ran guest code (1=yes)", ran, kMaxPcpus);
    row("kicks received", kicks, kMaxPcpus);
    block_print_stats();
}
