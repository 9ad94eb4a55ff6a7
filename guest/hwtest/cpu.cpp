#include "cpu.h"

#include "atomic.h"
#include "console.h"
#include "hw.h"

constinit Cpu g_cpu[MAX_CPUS]{};

void cpu_init(u32 id)
{
    Cpu& c = g_cpu[id];
    c.id = id;
    MSR("tpidr_el1", addr_of(&c));
    isb();
}

void fault_reset()
{
    Cpu& c = this_cpu();
    c.nfaults = 0;
    c.faults_taken = 0;
}

bool take_fault(Fault& f)
{
    Cpu& c = this_cpu();
    if (c.faults_taken >= c.nfaults)
        return false;
    f = c.faults[c.faults_taken++];
    return true;
}

u32 faults_pending()
{
    const Cpu& c = this_cpu();
    return c.nfaults - c.faults_taken;
}

namespace {

const char* const kVectorNames[] = {
    "EL1t sync", "EL1t IRQ", "EL1t FIQ", "EL1t SError", "EL1h sync", "EL1h IRQ", "EL1h FIQ", "EL1h SError",
    "EL0 sync",  "EL0 IRQ",  "EL0 FIQ",  "EL0 SError",  "EL0/32 sync", "EL0/32 IRQ", "EL0/32 FIQ", "EL0/32 SError",
};

void sync_exception(Cpu& c, Frame& f)
{
    const u64 esr = MRS("esr_el1");
    const u64 far = MRS("far_el1");
    if (c.nfaults < kMaxFaults)
        c.faults[c.nfaults++] = Fault{esr, far, f.pc};
    const u64 ec = esr::ec(esr);
    if (ec == esr::kEcIabtCur || ec == esr::kEcIabtLow)
        f.pc = f.x[30]; // the PC itself faults: return to the BLR's caller
    else
        f.pc += 4;
}

// Level-sensitive sources are silenced at their origin before the EOI,
// as a driver would: otherwise the interrupt is taken again at once.
void silence(Cpu& c, u32 intid)
{
    switch (intid) {
    case hw::kVtimerPpi: {
        const u64 ctl = MRS("cntv_ctl_el0");
        c.timer_ctl_at_irq[0] = ctl;
        MSR("cntv_ctl_el0", ctl | 2); // IMASK
        break;
    }
    case hw::kPtimerPpi: {
        const u64 ctl = MRS("cntp_ctl_el0");
        c.timer_ctl_at_irq[1] = ctl;
        MSR("cntp_ctl_el0", ctl | 2);
        break;
    }
    case hw::kPmuPpi:
        MSR("pmovsclr_el0", 0xffffffffull);
        break;
    default:
        break;
    }
    isb();
}

void irq_exception(Cpu& c)
{
    for (;;) {
        const u32 intid = static_cast<u32>(MRS(ICC_IAR1_EL1) & 0xffffff);
        if (intid >= 1020 && intid <= 1023)
            return;
        if (intid < kMaxIntid) {
            silence(c, intid);
            c.irq_time[intid] = cntpct();
            __atomic_fetch_add(&c.irqs[intid], 1u, __ATOMIC_ACQ_REL);
        } else {
            c.other_irqs++;
        }
        MSR(ICC_EOIR1_EL1, intid);
        isb();
    }
}

} // namespace

extern "C" void exception_entry(u64 kind, Frame* f)
{
    Cpu& c = this_cpu();
    if (c.exc_depth++ > 0)
        fatal("vCPU%u: exception (%s) inside an exception handler, ESR_EL1=0x%lx ELR_EL1=0x%lx", c.id,
              kVectorNames[kind & 15], MRS("esr_el1"), MRS("elr_el1"));
    switch (kind) {
    case VEC_SPX_SYNC:
        sync_exception(c, *f);
        break;
    case VEC_SPX_IRQ:
        irq_exception(c);
        break;
    default:
        fatal("vCPU%u: unexpected exception (%s), ESR_EL1=0x%lx ELR_EL1=0x%lx FAR_EL1=0x%lx", c.id,
              kVectorNames[kind & 15], MRS("esr_el1"), f->pc, MRS("far_el1"));
    }
    c.exc_depth--;
}

// The vCPUs' stacks (start.S set_stack): one STACK_SIZE each, exceptions included.
extern "C" {
alignas(16) u8 g_stacks[MAX_CPUS][STACK_SIZE];
}
