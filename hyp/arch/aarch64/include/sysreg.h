// Generated accessors for the system registers the hypervisor touches:
// SYSREG_RW(name) gives read_name()/write_name(). One macro, so adding a
// register is one line and every access is a single MRS/MSR.
#pragma once
#include "types.h"

#define SYSREG_RO(name)                                                                  \
    inline u64 read_##name()                                                             \
    {                                                                                    \
        u64 v;                                                                           \
        __asm__ volatile("mrs %0, " #name : "=r"(v));                                    \
        return v;                                                                        \
    }
#define SYSREG_WO(name)                                                                  \
    inline void write_##name(u64 v) { __asm__ volatile("msr " #name ", %0" ::"r"(v) : "memory"); }
#define SYSREG_RW(name) SYSREG_RO(name) SYSREG_WO(name)

// Identification
SYSREG_RO(mpidr_el1)
SYSREG_RO(midr_el1)
SYSREG_RO(id_aa64isar1_el1)
SYSREG_RO(id_aa64mmfr0_el1)
SYSREG_RO(currentel)
// EL2 control
SYSREG_RW(hcr_el2)
SYSREG_RW(sctlr_el2)
SYSREG_RW(tcr_el2)
SYSREG_RW(mair_el2)
SYSREG_RW(ttbr0_el2)
SYSREG_RW(vbar_el2)
SYSREG_RW(tpidr_el2)
SYSREG_RW(cptr_el2)
SYSREG_RW(mdcr_el2)
SYSREG_RW(vtcr_el2)
SYSREG_RW(vttbr_el2)
SYSREG_RW(vpidr_el2)
SYSREG_RW(vmpidr_el2)
SYSREG_RW(cnthctl_el2)
SYSREG_RW(cntvoff_el2)
SYSREG_RW(cnthp_ctl_el2)
SYSREG_RW(cnthp_cval_el2)
// Exception state at EL2
SYSREG_RW(esr_el2)
SYSREG_RW(elr_el2)
SYSREG_RW(spsr_el2)
SYSREG_RW(far_el2)
SYSREG_RW(hpfar_el2)
// Guest EL1 state the hypervisor edits (exception injection, vCPU reset)
SYSREG_RW(sctlr_el1)
SYSREG_RW(esr_el1)
SYSREG_RW(far_el1)
SYSREG_RW(elr_el1)
SYSREG_RW(spsr_el1)
SYSREG_RW(vbar_el1)
SYSREG_RW(cntv_ctl_el0)
// The rest of a vCPU's EL1 context, switched when vCPUs share a pCPU.
SYSREG_RW(cpacr_el1)
SYSREG_RW(ttbr0_el1)
SYSREG_RW(ttbr1_el1)
SYSREG_RW(tcr_el1)
SYSREG_RW(mair_el1)
SYSREG_RW(amair_el1)
SYSREG_RW(afsr0_el1)
SYSREG_RW(afsr1_el1)
SYSREG_RW(contextidr_el1)
SYSREG_RW(cntkctl_el1)
SYSREG_RW(par_el1)
SYSREG_RW(mdscr_el1)
SYSREG_RW(sp_el0)
SYSREG_RW(sp_el1)
SYSREG_RW(tpidr_el0)
SYSREG_RW(tpidrro_el0)
SYSREG_RW(tpidr_el1)
SYSREG_RW(csselr_el1)
SYSREG_RW(ich_ap0r0_el2)
SYSREG_RW(ich_ap1r0_el2)
SYSREG_RW(cntv_cval_el0)
SYSREG_RO(cntpct_el0)
SYSREG_RO(cntfrq_el0)
// GICv3 physical CPU interface (at EL2 the ICC_*_EL1 names reach the
// physical interface) and the virtual interface control registers.
SYSREG_RW(icc_sre_el2)
SYSREG_RW(icc_pmr_el1)
SYSREG_RW(icc_bpr1_el1)
SYSREG_RW(icc_ctlr_el1)
SYSREG_RW(icc_igrpen1_el1)
SYSREG_RO(icc_iar1_el1)
SYSREG_WO(icc_eoir1_el1)
SYSREG_WO(icc_dir_el1)
SYSREG_WO(icc_sgi1r_el1)
SYSREG_RW(ich_hcr_el2)
SYSREG_RO(ich_vtr_el2)
SYSREG_RW(ich_vmcr_el2)
SYSREG_RO(ich_misr_el2)
SYSREG_RO(ich_elrsr_el2)
SYSREG_RW(ich_lr0_el2)
SYSREG_RW(ich_lr1_el2)
SYSREG_RW(ich_lr2_el2)
SYSREG_RW(ich_lr3_el2)

// List registers are numbered in the instruction encoding, so indexed access
// needs a switch. QEMU implements 4 (ICH_VTR_EL2.ListRegs = 3).
constexpr unsigned kMaxHwListRegs = 4;
inline u64 read_ich_lr(unsigned n)
{
    switch (n) {
    case 0: return read_ich_lr0_el2();
    case 1: return read_ich_lr1_el2();
    case 2: return read_ich_lr2_el2();
    case 3: return read_ich_lr3_el2();
    default: return 0;
    }
}

inline void write_ich_lr(unsigned n, u64 v)
{
    switch (n) {
    case 0: write_ich_lr0_el2(v); break;
    case 1: write_ich_lr1_el2(v); break;
    case 2: write_ich_lr2_el2(v); break;
    case 3: write_ich_lr3_el2(v); break;
    default: break;
    }
}

#undef SYSREG_RO
#undef SYSREG_WO
#undef SYSREG_RW
