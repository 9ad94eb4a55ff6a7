// Hypervisor panics: a message, the pCPU and vCPU, the exception syndrome
// registers and a frame-pointer backtrace, then the pCPU halts (in WFI, so a
// debugger can still attach and look around).
#include "console.h"
#include "core/format.h"
#include "frame.h"
#include "log.h"
#include "vm/pcpu.h"
#include "vm/vcpu.h"

extern "C" char hyp_stacks[], hyp_stacks_end[];

namespace {
int g_panicking;

void out(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void out(const char* fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    fmt_vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    console_raw_write(buf);
}

bool on_stack(u64 fp)
{
    return fp >= reinterpret_cast<u64>(hyp_stacks) && fp + 16 <= reinterpret_cast<u64>(hyp_stacks_end) &&
           (fp & 7) == 0;
}

[[noreturn]] void halt()
{
    for (;;)
        __asm__ volatile("msr daifset, #0xf; wfi");
}

[[noreturn]] void dump(const char* what, u64 esr, u64 elr, u64 far, u64 spsr, u64 fp)
{
    // Only the first pCPU to panic prints; the others would garble it.
    if (__atomic_exchange_n(&g_panicking, 1, __ATOMIC_ACQ_REL))
        halt();
    const u32 p = read_tpidr_el2() ? this_pcpu_id() : 0;
    const Vcpu* v = read_tpidr_el2() ? this_pcpu().vcpu : nullptr;
    out("\n*** HYPERVISOR PANIC on pCPU %u", p);
    if (v)
        out(", vCPU %u", v->id);
    else
        out(", no vCPU");
    out(": %s\n", what);
    out("    ESR_EL2=0x%016llx (EC=0x%02llx)  ELR_EL2=0x%016llx\n", static_cast<unsigned long long>(esr),
        static_cast<unsigned long long>(esr >> 26), static_cast<unsigned long long>(elr));
    out("    FAR_EL2=0x%016llx  SPSR_EL2=0x%016llx\n", static_cast<unsigned long long>(far),
        static_cast<unsigned long long>(spsr));
    out("    backtrace (addr2line -e build/hyp.elf ADDR):\n");
    for (int depth = 0; depth < 24 && on_stack(fp); depth++) {
        const u64* rec = reinterpret_cast<const u64*>(fp);
        if (rec[1] == 0)
            break;
        out("      #%d 0x%016llx\n", depth, static_cast<unsigned long long>(rec[1] - 4));
        if (rec[0] <= fp)
            break;
        fp = rec[0];
    }
    out("*** halted\n");
    halt();
}
} // namespace

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
