// SVE register file save and restore for vCPU switches (the guest sees SVE:
// core/cpu_features.h). Like fpsimd.S, the only code touching the guest's
// Z/P/FFR; it runs at EL2's vector length, which ZCR_EL2 caps at
// kSveMaxVq, so the layout of SveContext (context.h) fits any CPU.
    .arch_extension sve
    .text

// void sve_save(SveContext* c): z at 0, p at 2048, ffr at 2176
    .global sve_save
sve_save:
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    str     z\n, [x0, #\n, mul vl]
    .endr
    add     x1, x0, #2048
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    str     p\n, [x1, #\n, mul vl]
    .endr
    // FFR through P0, which is saved already.
    add     x1, x0, #2176
    rdffr   p0.b
    str     p0, [x1]
    ret

// void sve_restore(const SveContext* c). Must follow fpsimd_restore: a
// write to a V register zeroes the upper bits of its Z register.
    .global sve_restore
sve_restore:
    add     x1, x0, #2176
    ldr     p0, [x1]
    wrffr   p0.b
    add     x1, x0, #2048
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    ldr     p\n, [x1, #\n, mul vl]
    .endr
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    ldr     z\n, [x0, #\n, mul vl]
    .endr
    ret
