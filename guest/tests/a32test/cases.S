// a32test's instruction cases: each one runs a trapped (or trapping)
// instruction in one instruction set, then a chain of instructions with a
// visible effect, and leaves what happened in a struct a32_ctx.
//
// void case(struct a32_ctx *c), called in a child process:
//   c->id    r4: the PL011 mapping + 0xfe0 (PeriphID0 at +0x00 = 0x11,
//                PCellID0 +0x10 = 0x0d, PCellID1 +0x14 = 0xf0, PCellID3 +0x1c = 0xb1)
//   c->w     r6: the PL011 mapping + 0x10 (UARTILPR at +0x10, UARTIBRD at +0x14)
//   c->in    r1: a value to store
//   out: c->val (r0 at the end), c->cnt (r5), c->aux, c->regs[] per case
//
// The chain after the instruction under test is FOLLOW: r5 += 1, 2, 4 in
// three separate instructions, so r5 == 7 says each ran exactly once: a
// 16-bit instruction resumed at +4 skips the "+1" (r5 == 6), one resumed
// at +2 after a 32-bit instruction executes its second halfword. r0, r2,
// r3 and r7 start as 0xdeadbeef so a stray instruction shows.
#include "ctx.h"

    .syntax unified

.macro ENTER
    push    {r4-r11, lr}
    mov     r11, r0
    ldr     r4, [r11, #CTX_ID]
    ldr     r6, [r11, #CTX_W]
    ldr     r1, [r11, #CTX_IN]
    movw    r0, #0xbeef
    movt    r0, #0xdead
    mov     r2, r0
    mov     r3, r0
    mov     r7, r0
    movs    r5, #0
.endm

.macro LEAVE
    str     r0, [r11, #CTX_VAL]
    str     r5, [r11, #CTX_CNT]
    pop     {r4-r11, pc}
.endm

.macro FOLLOW
    adds    r5, r5, #1
    adds    r5, r5, #2
    adds    r5, r5, #4
.endm

// CASE name, arm|thumb: a global function in that instruction set.
.macro CASE name, isa
    .text
    .balign 4
    .global \name
    .type   \name, %function
    .ifc \isa, arm
    .arm
    .else
    .thumb
    .thumb_func
    .endif
\name:
    ENTER
.endm

.macro END name
    LEAVE
    .ltorg
    .size   \name, . - \name
.endm

// A case that is one instruction and FOLLOW.
.macro ONE name, isa, insn:vararg
    CASE    \name, \isa
    \insn
    FOLLOW
    END     \name
.endm

// A store to UARTILPR (c->w + 0x10), FOLLOW, and the register read back
// into r0 (with a 32-bit load, whose completion is not what is tested).
.macro STORE name, isa, insn:vararg
    CASE    \name, \isa
    \insn
    FOLLOW
    .ifc \isa, arm
    ldr     r0, [r6, #0x10]
    .else
    ldr.w   r0, [r6, #0x10]
    .endif
    END     \name
.endm

// Store the base's change (writeback) in c->aux.
.macro WB_AUX reg
    sub     r2, \reg, r4
    str     r2, [r11, #CTX_AUX]
.endm

// ---- A32 ---------------------------------------------------------------

ONE a32_ldr, arm, ldr r0, [r4, #0x10]

CASE a32_ldr_r12, arm
    ldr     r12, [r4, #0x1c]
    FOLLOW
    mov     r0, r12
END a32_ldr_r12

CASE a32_ldr_lr, arm
    ldr     lr, [r4, #0x14]
    FOLLOW
    mov     r0, lr
END a32_ldr_lr

ONE a32_ldrh, arm, ldrh r0, [r4, #0x14]
ONE a32_ldrb, arm, ldrb r0, [r4, #0x1c]
ONE a32_ldrsb, arm, ldrsb r0, [r4, #0x1c]
ONE a32_ldrsh, arm, ldrsh r0, [r6, #0x14]

// A conditional load that passes, then one that fails (it must not load:
// r2 keeps its poison, c->aux).
CASE a32_ldr_cond, arm
    cmp     r0, r0
    ldreq   r0, [r4, #0x10]
    ldrne   r2, [r4, #0x14]
    FOLLOW
    str     r2, [r11, #CTX_AUX]
END a32_ldr_cond

STORE a32_str, arm, str r1, [r6, #0x10]
STORE a32_strh, arm, strh r1, [r6, #0x10]
STORE a32_strb, arm, strb r1, [r6, #0x10]

// Writeback: no instruction syndrome (ESR ISV=0), so a hypervisor either
// decodes the instruction or gives the guest an abort (SIGBUS).
CASE a32_ldr_post, arm
    mov     r8, r4
    ldr     r0, [r8], #0x10
    FOLLOW
    WB_AUX  r8
END a32_ldr_post

// Two registers: no instruction syndrome either.
CASE a32_ldrd, arm
    ldrd    r0, r1, [r4, #0x10]
    FOLLOW
    str     r1, [r11, #CTX_AUX]
END a32_ldrd

ONE a32_wfi, arm, wfi
ONE a32_wfe, arm, wfe

// UNDEFINED at EL0: Linux's EL1 must see them (SIGILL), never EL2.
    .arch_extension sec
    .arch_extension virt
ONE a32_smc, arm, smc #0
ONE a32_hvc, arm, hvc #0

// ---- T32 (32-bit Thumb encodings) ---------------------------------------

ONE t32_ldr, thumb, ldr.w r0, [r4, #0x10]

CASE t32_ldr_r9, thumb
    ldr.w   r9, [r4, #0x1c]
    FOLLOW
    mov     r0, r9
END t32_ldr_r9

ONE t32_ldrh, thumb, ldrh.w r0, [r4, #0x14]
ONE t32_ldrsb, thumb, ldrsb.w r0, [r4, #0x1c]
ONE t32_ldrsh, thumb, ldrsh.w r0, [r6, #0x14]
STORE t32_str, thumb, str.w r1, [r6, #0x10]
STORE t32_strb, thumb, strb.w r1, [r6, #0x10]

// The only slot of an IT block: after the load the block is over, so
// "movs" sets the flags (Z=0) and "addne" runs. Had the IT state not
// advanced, "movs" would be a conditional MOV that leaves Z=1.
CASE t32_ldr_it, thumb
    cmp     r0, r0
    it      eq
    ldreq.w r0, [r4, #0x10]
    movs    r3, #1
    ite     ne
    addne   r5, #1
    addeq   r5, #8
    adds    r5, r5, #2
    adds    r5, r5, #4
END t32_ldr_it

CASE t32_ldr_pre, thumb
    mov     r8, r4
    ldr     r0, [r8, #0x10]!
    FOLLOW
    WB_AUX  r8
END t32_ldr_pre

ONE t32_wfi, thumb, wfi.w
ONE t32_wfe, thumb, wfe.w
ONE t32_hvc, thumb, hvc #0

// ---- T16 (16-bit Thumb encodings) ---------------------------------------

ONE t16_ldr, thumb, ldr r0, [r4, #0x10]

CASE t16_ldr_reg, thumb
    movs    r1, #0x1c
    ldr     r0, [r4, r1]
    FOLLOW
END t16_ldr_reg

ONE t16_ldrh, thumb, ldrh r0, [r4, #0x14]
ONE t16_ldrb, thumb, ldrb r0, [r4, #0x1c]

CASE t16_ldrsb, thumb
    movs    r1, #0x1c
    ldrsb   r0, [r4, r1]
    FOLLOW
END t16_ldrsb

CASE t16_ldrsh, thumb
    movs    r1, #0x14
    ldrsh   r0, [r6, r1]
    FOLLOW
END t16_ldrsh

STORE t16_str, thumb, str r1, [r6, #0x10]
STORE t16_strh, thumb, strh r1, [r6, #0x10]
STORE t16_strb, thumb, strb r1, [r6, #0x10]

// A 16-bit load followed by a 32-bit instruction: resuming at +4 lands in
// the middle of it.
CASE t16_ldr_then_t32, thumb
    ldr     r0, [r4, #0x10]
    add.w   r5, r5, #1
    adds    r5, r5, #2
    adds    r5, r5, #4
END t16_ldr_then_t32

// First slot of ITE EQ with Z=1: the load runs, "addne" must not.
CASE t16_ldr_it_else, thumb
    cmp     r0, r0
    ite     eq
    ldreq   r0, [r4, #0x10]
    addne   r5, #8
    FOLLOW
END t16_ldr_it_else

// Middle slot of ITTE EQ.
CASE t16_ldr_it_mid, thumb
    cmp     r0, r0
    itte    eq
    addeq   r5, #1
    ldreq   r0, [r4, #0x10]
    addne   r5, #8
    adds    r5, r5, #2
    adds    r5, r5, #4
END t16_ldr_it_mid

// Last (only) slot: see t32_ldr_it.
CASE t16_ldr_it_last, thumb
    cmp     r0, r0
    it      eq
    ldreq   r0, [r4, #0x10]
    movs    r3, #1
    ite     ne
    addne   r5, #1
    addeq   r5, #8
    adds    r5, r5, #2
    adds    r5, r5, #4
END t16_ldr_it_last

CASE t16_str_it_else, thumb
    cmp     r0, r0
    ite     eq
    streq   r1, [r6, #0x10]
    addne   r5, #8
    FOLLOW
    ldr.w   r0, [r6, #0x10]
END t16_str_it_else

// LDM of one register with writeback: no instruction syndrome.
CASE t16_ldm, thumb
    mov     r3, r4
    adds    r3, #0x10
    ldm     r3!, {r0}
    FOLLOW
    WB_AUX  r3
END t16_ldm

ONE t16_wfi, thumb, wfi

CASE t16_wfi_it_else, thumb
    cmp     r0, r0
    ite     eq
    wfieq
    addne   r5, #8
    FOLLOW
END t16_wfi_it_else

ONE t16_wfe, thumb, wfe

// ---- system registers EL0 may name ---------------------------------------
// CNTVCT: EL0 may read it (Linux sets CNTKCTL_EL1.EL0VCTEN); c->aux = the
// high word. PMCCNTR: Linux leaves PMUSERENR_EL0 clear, so EL1 traps it.

CASE a32_mrrc_cntvct, arm
    mrrc    p15, 1, r0, r1, c14
    FOLLOW
    str     r1, [r11, #CTX_AUX]
END a32_mrrc_cntvct

CASE t32_mrrc_cntvct, thumb
    mrrc    p15, 1, r0, r1, c14
    FOLLOW
    str     r1, [r11, #CTX_AUX]
END t32_mrrc_cntvct

ONE a32_mrc_pmccntr, arm, mrc p15, 0, r0, c9, c13, 0

// ---- interrupts while AArch32 EL0 runs -----------------------------------
// SPIN_ITERS iterations of a counting loop with r0-r3, r6-r10 and r12 set
// to known values; c->cnt is the count, c->regs[] the registers after it.
// Timer interrupts (exits to EL2 in a guest) come many times meanwhile.
.macro SPIN_BODY
    ldr     r2, =SPIN_ITERS
    movw    r0, #0x1100
    movw    r1, #0x1101
    movw    r3, #0x1103
    movw    r6, #0x1106
    movw    r7, #0x1107
    movw    r8, #0x1108
    movw    r9, #0x1109
    movw    r10, #0x110a
    movw    r12, #0x110c
1:  adds    r5, r5, #1
    subs    r2, r2, #1
    bne     1b
    str     r1, [r11, #CTX_REGS + 4]
    str     r2, [r11, #CTX_REGS + 8]
    str     r3, [r11, #CTX_REGS + 12]
    str     r6, [r11, #CTX_REGS + 24]
    str     r7, [r11, #CTX_REGS + 28]
    str     r8, [r11, #CTX_REGS + 32]
    str     r9, [r11, #CTX_REGS + 36]
    str     r10, [r11, #CTX_REGS + 40]
    str     r12, [r11, #CTX_REGS + 48]
.endm

CASE a32_spin, arm
    SPIN_BODY
END a32_spin

CASE thumb_spin, thumb
    SPIN_BODY
END thumb_spin

    .section .note.GNU-stack, "", %progbits
