// Fill the FP/SIMD or SVE register file from memory, busy-wait on the
// virtual counter without touching it, and dump it back, so the caller can
// see whether anything else (another vCPU on the same pCPU) changed it.

    .arch_extension fp
    .arch_extension simd
    .arch_extension sve
    .text

// void fp_fill_wait_dump(const FpState* in, FpState* out, u64 until_cntvct)
// FpState: q0-q31 (512 bytes), fpcr, fpsr.
    .globl fp_fill_wait_dump
fp_fill_wait_dump:
    ldr     x3, [x0, #512]
    msr     fpcr, x3
    ldr     x3, [x0, #520]
    msr     fpsr, x3
    ldp     q0, q1, [x0, #0]
    ldp     q2, q3, [x0, #32]
    ldp     q4, q5, [x0, #64]
    ldp     q6, q7, [x0, #96]
    ldp     q8, q9, [x0, #128]
    ldp     q10, q11, [x0, #160]
    ldp     q12, q13, [x0, #192]
    ldp     q14, q15, [x0, #224]
    ldp     q16, q17, [x0, #256]
    ldp     q18, q19, [x0, #288]
    ldp     q20, q21, [x0, #320]
    ldp     q22, q23, [x0, #352]
    ldp     q24, q25, [x0, #384]
    ldp     q26, q27, [x0, #416]
    ldp     q28, q29, [x0, #448]
    ldp     q30, q31, [x0, #480]
1:  isb
    mrs     x3, cntvct_el0
    cmp     x3, x2
    b.lo    1b
    stp     q0, q1, [x1, #0]
    stp     q2, q3, [x1, #32]
    stp     q4, q5, [x1, #64]
    stp     q6, q7, [x1, #96]
    stp     q8, q9, [x1, #128]
    stp     q10, q11, [x1, #160]
    stp     q12, q13, [x1, #192]
    stp     q14, q15, [x1, #224]
    stp     q16, q17, [x1, #256]
    stp     q18, q19, [x1, #288]
    stp     q20, q21, [x1, #320]
    stp     q22, q23, [x1, #352]
    stp     q24, q25, [x1, #384]
    stp     q26, q27, [x1, #416]
    stp     q28, q29, [x1, #448]
    stp     q30, q31, [x1, #480]
    mrs     x3, fpcr
    str     x3, [x1, #512]
    mrs     x3, fpsr
    str     x3, [x1, #520]
    ret

// void sve_fill_wait_dump(const u8* z_in, const u8* p_in, u8* z_out, u8* p_out, u64 until_cntvct)
// z: z0-z31, VL bytes each. p: p0-p15 then FFR, VL/8 bytes each.
    .globl sve_fill_wait_dump
sve_fill_wait_dump:
    ldr     p0, [x1, #16, mul vl]
    wrffr   p0.b
    .irp n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
    ldr     z\n, [x0, #\n, mul vl]
    .endr
    .irp n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
    ldr     p\n, [x1, #\n, mul vl]
    .endr
1:  isb
    mrs     x5, cntvct_el0
    cmp     x5, x4
    b.lo    1b
    .irp n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
    str     z\n, [x2, #\n, mul vl]
    .endr
    .irp n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
    str     p\n, [x3, #\n, mul vl]
    .endr
    rdffr   p0.b
    str     p0, [x3, #16, mul vl]
    ret

// u64 sve_vl_bytes(void)
    .globl sve_vl_bytes
sve_vl_bytes:
    rdvl    x0, #1
    ret
