// featstress's register checks: each function loads a whole register file
// from memory, spins without touching memory or making system calls (so
// only interrupts, the guest kernel's context switches and a hypervisor's
// vCPU switches can disturb it), then stores the registers back. The caller
// compares. AAPCS64 keeps d8-d15 across calls, so they are saved here.
//
// u64 spin_loop(u64 n): n iterations of subs/b.ne (2n+1 instructions,
// featstress pmu counts them).

    .arch   armv8.2-a+sve
    .text

.macro SAVE_D8_D15
    stp     d8, d9, [sp, #-64]!
    stp     d10, d11, [sp, #16]
    stp     d12, d13, [sp, #32]
    stp     d14, d15, [sp, #48]
.endm

.macro RESTORE_D8_D15
    ldp     d10, d11, [sp, #16]
    ldp     d12, d13, [sp, #32]
    ldp     d14, d15, [sp, #48]
    ldp     d8, d9, [sp], #64
.endm

.macro SPIN reg
1:  subs    \reg, \reg, #1
    b.ne    1b
.endm

    .global spin_loop
    .type   spin_loop, %function
spin_loop:
    SPIN    x0
    ret
    .size   spin_loop, . - spin_loop

// void neon_check(const u8 in[512], u8 out[512], u64 spins,
//                 u64 fpcr_fpsr[2] /* in: values to set; out: values read */)
    .global neon_check
    .type   neon_check, %function
neon_check:
    SAVE_D8_D15
    mrs     x9, fpcr
    ldp     x10, x11, [x3]
    msr     fpcr, x10
    msr     fpsr, x11
    ld1     {v0.16b-v3.16b}, [x0], #64
    ld1     {v4.16b-v7.16b}, [x0], #64
    ld1     {v8.16b-v11.16b}, [x0], #64
    ld1     {v12.16b-v15.16b}, [x0], #64
    ld1     {v16.16b-v19.16b}, [x0], #64
    ld1     {v20.16b-v23.16b}, [x0], #64
    ld1     {v24.16b-v27.16b}, [x0], #64
    ld1     {v28.16b-v31.16b}, [x0], #64
    SPIN    x2
    st1     {v0.16b-v3.16b}, [x1], #64
    st1     {v4.16b-v7.16b}, [x1], #64
    st1     {v8.16b-v11.16b}, [x1], #64
    st1     {v12.16b-v15.16b}, [x1], #64
    st1     {v16.16b-v19.16b}, [x1], #64
    st1     {v20.16b-v23.16b}, [x1], #64
    st1     {v24.16b-v27.16b}, [x1], #64
    st1     {v28.16b-v31.16b}, [x1], #64
    mrs     x10, fpcr
    mrs     x11, fpsr
    stp     x10, x11, [x3]
    msr     fpcr, x9
    msr     fpsr, xzr
    RESTORE_D8_D15
    ret
    .size   neon_check, . - neon_check

// void sve_check(const u8 *zin /* 32 x VL */, const u8 *pin /* 16 x VL/8 */,
//                u64 ffr_active /* FFR = the first n byte elements */, u64 spins,
//                u8 *zout, u8 *pout, u8 *ffrout /* VL/8 */)
    .global sve_check
    .type   sve_check, %function
sve_check:
    SAVE_D8_D15
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    ldr     z\n, [x0, #\n, mul vl]
    .endr
    whilelo p15.b, xzr, x2
    wrffr   p15.b
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    ldr     p\n, [x1, #\n, mul vl]
    .endr
    SPIN    x3
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    str     z\n, [x4, #\n, mul vl]
    .endr
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    str     p\n, [x5, #\n, mul vl]
    .endr
    rdffr   p0.b
    str     p0, [x6]
    RESTORE_D8_D15
    ret
    .size   sve_check, . - sve_check

    .section .note.GNU-stack, "", %progbits
