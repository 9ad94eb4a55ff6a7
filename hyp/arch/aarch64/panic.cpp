// Hypervisor panics. The first pCPU to panic stops all the others (they may
// be spinning, interrupts masked, on a lock it holds), prints the report
// once (a message, the pCPU and vCPU, the exception syndrome registers, a
// frame-pointer backtrace), and powers QEMU off; the report's lines make
// scripts/run-qemu.sh exit 1. With debug=1 (make debug) every pCPU halts
// instead, so the debugger finds the machine as it was.
#include <cpu.h>
#include "console.h"
#include "core/format.h"
#include "firmware.h"
#include "frame.h"
#include "gic.h"
#include "hyp_stop.h"
#include "log.h"
#include "sysreg.h"
#include "vm/pcpu.h"
#include "vm/vcpu.h"
#include "vm/vm.h"

extern "C" char hyp_stacks[], hyp_stacks_end[];

u32 g_hyp_stop;

namespace {
constexpr u32 kNobody = ~0u;
u32 g_panic_owner = kNobody; // the pCPU that reports
u32 g_stopped;               // bit n: pCPU n parked
// How long the reporting pCPU waits for the others to park before it
// prints anyway (one stuck outside a lock or an interrupt path).
constexpr u64 kStopWaitMs = 2000;

u32 self_id() { return read_tpidr_el2() ? this_pcpu_id() : 0; }

// One line of the report (console.h: marked as the hypervisor's).
void out(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void out(const char* fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    fmt_vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    console_raw_line(buf);
}

bool on_stack(u64 fp)
{
    return fp >= reinterpret_cast<u64>(hyp_stacks) && fp + 16 <= reinterpret_cast<u64>(hyp_stacks_end) &&
           (fp & 7) == 0;
}

// The flag first, so that a pCPU spinning on a lock or about to wait sees
// it; then the kick, which takes one running a guest (IRQ exit) or asleep
// in WFI into handle_physical_irqs. Returns the pCPUs asked to stop.
u32 stop_others(u32 self)
{
    __atomic_store_n(&g_hyp_stop, 1, __ATOMIC_RELEASE);
    u32 asked = 0;
    for (u32 i = 0; i < kMaxPcpus; i++) {
        if (i == self || !(i == 0 || __atomic_load_n(&g_pcpus[i].online, __ATOMIC_ACQUIRE)))
            continue;
        asked |= 1u << i;
        gic::send_sgi(gic::kKickSgi, g_pcpus[i].mpidr);
    }
    cpu_send_event(); // lock waiters in WFE (on hardware; TCG's WFE never sleeps)
    const u64 end = read_cntpct_el0() + kStopWaitMs * read_cntfrq_el0() / 1000;
    while ((__atomic_load_n(&g_stopped, __ATOMIC_ACQUIRE) & asked) != asked && read_cntpct_el0() < end)
        cpu_relax();
    return asked;
}

void report_stopped(u32 asked)
{
    const u32 stopped = __atomic_load_n(&g_stopped, __ATOMIC_ACQUIRE) & asked;
    char line[96];
    int n = fmt_snprintf(line, sizeof line, "    other pCPUs stopped:");
    for (u32 i = 0; i < kMaxPcpus && n < static_cast<int>(sizeof line); i++)
        if (stopped & (1u << i))
            n += fmt_snprintf(line + n, sizeof line - static_cast<usize>(n), " %u", i);
    if (!stopped)
        fmt_snprintf(line + n, sizeof line - static_cast<usize>(n), " none");
    out("%s", line);
    for (u32 i = 0; i < kMaxPcpus; i++)
        if ((asked & ~stopped) & (1u << i))
            out("    pCPU %u did not stop within %llu ms", i, static_cast<unsigned long long>(kStopWaitMs));
}

// quiet: this pCPU faulted while reporting; say nothing more.
[[noreturn]] void finish(bool quiet)
{
    if (g_options.debug) {
        if (!quiet)
            out("*** halted (debug=1): every pCPU waits for the debugger");
        hyp_stop_park();
    }
    if (!quiet)
        out("*** powering off");
    firmware::system_off();
}

[[noreturn]] void dump(const char* what, u64 esr, u64 elr, u64 far, u64 spsr, u64 fp)
{
    const u32 self = self_id();
    u32 owner = kNobody;
    if (!__atomic_compare_exchange_n(&g_panic_owner, &owner, self, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        // Another pCPU reports, and stops this one with the rest; or this
        // one panicked again while reporting.
        if (owner == self)
            finish(true);
        hyp_stop_park();
    }
    const u32 asked = stop_others(self);
    const Vcpu* v = read_tpidr_el2() ? this_pcpu().vcpu : nullptr;
    char vcpu[16] = "no vCPU";
    if (v)
        fmt_snprintf(vcpu, sizeof vcpu, "vCPU %u", v->id);
    out("*** HYPERVISOR PANIC on pCPU %u, %s: %s", self, vcpu, what);
    out("    ESR_EL2=0x%016llx (EC=0x%02llx)  ELR_EL2=0x%016llx", static_cast<unsigned long long>(esr),
        static_cast<unsigned long long>(esr >> 26), static_cast<unsigned long long>(elr));
    out("    FAR_EL2=0x%016llx  SPSR_EL2=0x%016llx", static_cast<unsigned long long>(far),
        static_cast<unsigned long long>(spsr));
    out("    backtrace (addr2line -e build/hyp.elf ADDR):");
    for (int depth = 0; depth < 24 && on_stack(fp); depth++) {
        const u64* rec = reinterpret_cast<const u64*>(fp);
        if (rec[1] == 0)
            break;
        out("      #%d 0x%016llx", depth, static_cast<unsigned long long>(rec[1] - 4));
        if (rec[0] <= fp)
            break;
        fp = rec[0];
    }
    report_stopped(asked);
    finish(false);
}
} // namespace

void hyp_stop_park()
{
    // With group 1 off the CPU interface signals nothing, so WFI sleeps: a
    // pending interrupt, even masked, would end every WFI at once.
    write_icc_igrpen1_el1(0);
    isb();
    if (read_tpidr_el2())
        __atomic_fetch_or(&g_stopped, 1u << this_pcpu_id(), __ATOMIC_RELEASE);
    for (;;)
        __asm__ volatile("msr daifset, #0xf; wfi" ::: "memory");
}

void hyp_panic(const char* fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    fmt_vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    dump(msg, read_esr_el2(), read_elr_el2(), read_far_el2(), read_spsr_el2(),
         reinterpret_cast<u64>(__builtin_frame_address(0)));
}

extern "C" [[noreturn]] void handle_hyp_fault(u64 kind, HypFrame* f)
{
    static const char* const kNames[16] = {
        "sync exception at EL2 (SP_EL0)", "IRQ at EL2 (SP_EL0)", "FIQ at EL2 (SP_EL0)", "SError at EL2 (SP_EL0)",
        "sync exception at EL2",          "unexpected IRQ at EL2", "unexpected FIQ at EL2", "SError at EL2",
        "", "", "", "",
        "exception from AArch32 EL1/EL0", "IRQ from AArch32", "FIQ from AArch32", "SError from AArch32",
    };
    char msg[128];
    fmt_snprintf(msg, sizeof msg, "%s, PC 0x%llx LR 0x%llx", kNames[kind & 15],
                 static_cast<unsigned long long>(f->elr), static_cast<unsigned long long>(f->x[30]));
    // Start the backtrace at the faulting function's frame record.
    dump(msg, f->esr, f->elr, f->far, f->spsr, f->x[29]);
}

// Pure virtual calls cannot happen with constant-initialised objects, but the
// vtables still name this symbol.
extern "C" void __cxa_pure_virtual() { hyp_panic("pure virtual call"); }
