// Every system register the hypervisor reads or writes, once: name and the
// spelling the assembler takes (the generic S<op0>_<op1>_C<n>_C<m>_<op2>
// form for registers whose name the baseline -march does not know). The
// target expands the list into MRS/MSR accessors (sysreg.h); the host unit
// tests expand it into a fake register file (tests/unit/fake_arch).
//
//   RO(name, asm)  read_name()
//   WO(name, asm)  write_name(v)
//   RW(name, asm)  both
#pragma once

#define SYSREG_LIST(RO, WO, RW)                                                          \
    /* Identification */                                                                 \
    RO(mpidr_el1, mpidr_el1)                                                             \
    RO(midr_el1, midr_el1)                                                               \
    RO(currentel, currentel)                                                             \
    RO(id_aa64pfr0_el1, id_aa64pfr0_el1)                                                 \
    RO(id_aa64pfr1_el1, id_aa64pfr1_el1)                                                 \
    RO(id_aa64dfr0_el1, id_aa64dfr0_el1)                                                 \
    RO(id_aa64isar0_el1, id_aa64isar0_el1)                                               \
    RO(id_aa64isar1_el1, id_aa64isar1_el1)                                               \
    RO(id_aa64isar2_el1, s3_0_c0_c6_2)                                                   \
    RO(id_aa64mmfr0_el1, id_aa64mmfr0_el1)                                               \
    RO(id_aa64mmfr1_el1, id_aa64mmfr1_el1)                                               \
    RO(id_aa64mmfr2_el1, s3_0_c0_c7_2)                                                   \
    RO(id_aa64zfr0_el1, s3_0_c0_c4_4)                                                    \
    RO(id_aa64smfr0_el1, s3_0_c0_c4_5)                                                   \
    RO(revidr_el1, revidr_el1)                                                           \
    RO(aidr_el1, aidr_el1)                                                               \
    /* EL2 control */                                                                    \
    RW(hcr_el2, hcr_el2)                                                                 \
    RW(sctlr_el2, sctlr_el2)                                                             \
    RW(tcr_el2, tcr_el2)                                                                 \
    RW(mair_el2, mair_el2)                                                               \
    RW(ttbr0_el2, ttbr0_el2)                                                             \
    RW(vbar_el2, vbar_el2)                                                               \
    RW(tpidr_el2, tpidr_el2)                                                             \
    RW(cptr_el2, cptr_el2)                                                               \
    RW(mdcr_el2, mdcr_el2)                                                               \
    RW(vtcr_el2, vtcr_el2)                                                               \
    RW(vttbr_el2, vttbr_el2)                                                             \
    RW(vpidr_el2, vpidr_el2)                                                             \
    RW(vmpidr_el2, vmpidr_el2)                                                           \
    RW(cnthctl_el2, cnthctl_el2)                                                         \
    RW(cntvoff_el2, cntvoff_el2)                                                         \
    RW(cnthp_ctl_el2, cnthp_ctl_el2)                                                     \
    RW(cnthp_cval_el2, cnthp_cval_el2)                                                   \
    /* Exception state at EL2 */                                                         \
    RW(esr_el2, esr_el2)                                                                 \
    RW(elr_el2, elr_el2)                                                                 \
    RW(spsr_el2, spsr_el2)                                                               \
    RW(far_el2, far_el2)                                                                 \
    RW(hpfar_el2, hpfar_el2)                                                             \
    /* Guest EL1 state the hypervisor edits (injection, reset) or switches */            \
    RW(sctlr_el1, sctlr_el1)                                                             \
    RW(esr_el1, esr_el1)                                                                 \
    RW(far_el1, far_el1)                                                                 \
    RW(elr_el1, elr_el1)                                                                 \
    RW(spsr_el1, spsr_el1)                                                               \
    RW(vbar_el1, vbar_el1)                                                               \
    RW(cpacr_el1, cpacr_el1)                                                             \
    RW(ttbr0_el1, ttbr0_el1)                                                             \
    RW(ttbr1_el1, ttbr1_el1)                                                             \
    RW(tcr_el1, tcr_el1)                                                                 \
    RW(mair_el1, mair_el1)                                                               \
    RW(amair_el1, amair_el1)                                                             \
    RW(afsr0_el1, afsr0_el1)                                                             \
    RW(afsr1_el1, afsr1_el1)                                                             \
    RW(contextidr_el1, contextidr_el1)                                                   \
    RW(cntkctl_el1, cntkctl_el1)                                                         \
    RW(par_el1, par_el1)                                                                 \
    RW(mdscr_el1, mdscr_el1)                                                             \
    RO(oslsr_el1, oslsr_el1)                                                             \
    WO(oslar_el1, oslar_el1)                                                             \
    RW(sp_el0, sp_el0)                                                                   \
    RW(sp_el1, sp_el1)                                                                   \
    RW(tpidr_el0, tpidr_el0)                                                             \
    RW(tpidrro_el0, tpidrro_el0)                                                         \
    RW(tpidr_el1, tpidr_el1)                                                             \
    RW(csselr_el1, csselr_el1)                                                           \
    /* Pointer authentication keys (FEAT_PAuth), switched when present */                \
    RW(apiakeylo_el1, s3_0_c2_c1_0)                                                      \
    RW(apiakeyhi_el1, s3_0_c2_c1_1)                                                      \
    RW(apibkeylo_el1, s3_0_c2_c1_2)                                                      \
    RW(apibkeyhi_el1, s3_0_c2_c1_3)                                                      \
    RW(apdakeylo_el1, s3_0_c2_c2_0)                                                      \
    RW(apdakeyhi_el1, s3_0_c2_c2_1)                                                      \
    RW(apdbkeylo_el1, s3_0_c2_c2_2)                                                      \
    RW(apdbkeyhi_el1, s3_0_c2_c2_3)                                                      \
    RW(apgakeylo_el1, s3_0_c2_c3_0)                                                      \
    RW(apgakeyhi_el1, s3_0_c2_c3_1)                                                      \
    /* SVE vector length controls (FEAT_SVE) */                                          \
    RW(zcr_el1, s3_0_c1_c2_0)                                                            \
    RW(zcr_el2, s3_4_c1_c2_0)                                                            \
    /* PMUv3: the guest's, switched when vCPUs share a pCPU */                           \
    RW(pmcr_el0, pmcr_el0)                                                               \
    RW(pmcntenset_el0, pmcntenset_el0)                                                   \
    RW(pmcntenclr_el0, pmcntenclr_el0)                                                   \
    RW(pmintenset_el1, pmintenset_el1)                                                   \
    RW(pmintenclr_el1, pmintenclr_el1)                                                   \
    RW(pmovsset_el0, pmovsset_el0)                                                       \
    RW(pmovsclr_el0, pmovsclr_el0)                                                       \
    RW(pmselr_el0, pmselr_el0)                                                           \
    RW(pmuserenr_el0, pmuserenr_el0)                                                     \
    RW(pmccfiltr_el0, pmccfiltr_el0)                                                     \
    RW(pmccntr_el0, pmccntr_el0)                                                         \
    RW(pmxevcntr_el0, pmxevcntr_el0)                                                     \
    RW(pmxevtyper_el0, pmxevtyper_el0)                                                   \
    WO(pmswinc_el0, pmswinc_el0)                                                         \
    RO(pmceid0_el0, pmceid0_el0)                                                         \
    RO(pmceid1_el0, pmceid1_el0)                                                         \
    /* Generic timer */                                                                  \
    RW(cntv_ctl_el0, cntv_ctl_el0)                                                       \
    RW(cntv_cval_el0, cntv_cval_el0)                                                     \
    RW(cntp_ctl_el0, cntp_ctl_el0)                                                       \
    RW(cntp_cval_el0, cntp_cval_el0)                                                     \
    RO(cntpct_el0, cntpct_el0)                                                           \
    RO(cntfrq_el0, cntfrq_el0)                                                           \
    /* GICv3: at EL2 the ICC_*_EL1 names reach the physical CPU interface */             \
    RW(icc_sre_el2, icc_sre_el2)                                                         \
    RW(icc_pmr_el1, icc_pmr_el1)                                                         \
    RW(icc_bpr1_el1, icc_bpr1_el1)                                                       \
    RW(icc_ctlr_el1, icc_ctlr_el1)                                                       \
    RW(icc_igrpen1_el1, icc_igrpen1_el1)                                                 \
    RO(icc_iar1_el1, icc_iar1_el1)                                                       \
    WO(icc_eoir1_el1, icc_eoir1_el1)                                                     \
    WO(icc_dir_el1, icc_dir_el1)                                                         \
    WO(icc_sgi1r_el1, icc_sgi1r_el1)                                                     \
    /* GICv3 virtual interface control */                                                \
    RW(ich_hcr_el2, ich_hcr_el2)                                                         \
    RO(ich_vtr_el2, ich_vtr_el2)                                                         \
    RW(ich_vmcr_el2, ich_vmcr_el2)                                                       \
    RO(ich_misr_el2, ich_misr_el2)                                                       \
    RO(ich_elrsr_el2, ich_elrsr_el2)                                                     \
    RW(ich_ap0r0_el2, ich_ap0r0_el2)                                                     \
    RW(ich_ap1r0_el2, ich_ap1r0_el2)                                                     \
    RW(ich_lr0_el2, ich_lr0_el2)                                                         \
    RW(ich_lr1_el2, ich_lr1_el2)                                                         \
    RW(ich_lr2_el2, ich_lr2_el2)                                                         \
    RW(ich_lr3_el2, ich_lr3_el2)

// ICH_LR<n>_EL2 the accessors reach. QEMU implements 4 (ICH_VTR_EL2.ListRegs = 3).
constexpr unsigned kMaxHwListRegs = 4;
