// System register access and barriers. Registers the assembler does not
// know by name with -march=armv8-a are spelled S<op0>_<op1>_C<n>_C<m>_<op2>
// (constants below, each with its architectural name).
#pragma once
#include "base.h"

#define MRS(reg)                                           \
    ({                                                     \
        u64 v__;                                           \
        asm volatile("mrs %0, " reg : "=r"(v__)::"memory"); \
        v__;                                               \
    })
#define MSR(reg, val) asm volatile("msr " reg ", %0" ::"r"(static_cast<u64>(val)) : "memory")

// GICv3 CPU interface.
#define ICC_PMR_EL1 "S3_0_C4_C6_0"
#define ICC_IAR1_EL1 "S3_0_C12_C12_0"
#define ICC_EOIR1_EL1 "S3_0_C12_C12_1"
#define ICC_BPR1_EL1 "S3_0_C12_C12_3"
#define ICC_CTLR_EL1 "S3_0_C12_C12_4"
#define ICC_SRE_EL1 "S3_0_C12_C12_5"
#define ICC_IGRPEN1_EL1 "S3_0_C12_C12_7"
#define ICC_SGI1R_EL1 "S3_0_C12_C11_5"
#define ICC_ASGI1R_EL1 "S3_0_C12_C11_6"
#define ICC_SGI0R_EL1 "S3_0_C12_C11_7"
// Feature ID registers newer than Armv8.0.
#define ID_AA64ZFR0_EL1 "S3_0_C0_C4_4"
#define ID_AA64SMFR0_EL1 "S3_0_C0_C4_5"
#define ID_AA64ISAR2_EL1 "S3_0_C0_C6_2"
#define ID_AA64MMFR2_EL1 "S3_0_C0_C7_2"
// SVE, SME, MTE, pointer authentication.
#define ZCR_EL1 "S3_0_C1_C2_0"
#define SMCR_EL1 "S3_0_C1_C2_6"
#define SMIDR_EL1 "S3_1_C0_C0_6"
#define TFSR_EL1 "S3_0_C5_C6_0"
#define GCR_EL1 "S3_0_C1_C0_6"
#define APIAKEYLO_EL1 "S3_0_C2_C1_0"
#define APIAKEYHI_EL1 "S3_0_C2_C1_1"
#define APIBKEYLO_EL1 "S3_0_C2_C1_2"
#define APIBKEYHI_EL1 "S3_0_C2_C1_3"
#define APDAKEYLO_EL1 "S3_0_C2_C2_0"
#define APDAKEYHI_EL1 "S3_0_C2_C2_1"
#define APDBKEYLO_EL1 "S3_0_C2_C2_2"
#define APDBKEYHI_EL1 "S3_0_C2_C2_3"
#define APGAKEYLO_EL1 "S3_0_C2_C3_0"
#define APGAKEYHI_EL1 "S3_0_C2_C3_1"

inline void isb() { asm volatile("isb" ::: "memory"); }
inline void dsb_sy() { asm volatile("dsb sy" ::: "memory"); }
inline void dsb_ish() { asm volatile("dsb ish" ::: "memory"); }
inline void wfi() { asm volatile("wfi" ::: "memory"); }
inline void irq_enable() { asm volatile("msr daifclr, #2" ::: "memory"); }
inline void irq_disable() { asm volatile("msr daifset, #2" ::: "memory"); }
inline u64 daif_save() { return MRS("daif"); }
inline void daif_restore(u64 d) { MSR("daif", d); }

// Counters: CNTPCT for measurements (what the guest's physical timer
// compares against), CNTVCT for the virtual timer.
inline u64 cntpct() { isb(); return MRS("cntpct_el0"); }
inline u64 cntvct() { isb(); return MRS("cntvct_el0"); }
inline u64 cntfrq() { return MRS("cntfrq_el0"); }
