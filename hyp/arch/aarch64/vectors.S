// EL2 exception vectors.
//
// Lower-EL entries are guest exits: SP_EL2 points at the running vCPU's
// GuestRegs, so the guest's registers are saved straight into its frame; then
// the pCPU stack is loaded from the frame and handle_guest_exit() runs. It
// returns the frame to resume (the same vCPU, or another one when the
// scheduler switched), and guest_enter restores it and ERETs.
//
// Current-EL entries mean the hypervisor itself faulted (it never unmasks
// interrupts at EL2): they build a HypFrame on the stack and panic.
#include "frame.h"

// x0/x1 are saved by the vector entry itself (it needs a register for the
// exit kind); this saves the rest into the frame at SP.
.macro save_x2_x30
    stp     x2, x3, [sp, #FRAME_X(2)]
    stp     x4, x5, [sp, #FRAME_X(4)]
    stp     x6, x7, [sp, #FRAME_X(6)]
    stp     x8, x9, [sp, #FRAME_X(8)]
    stp     x10, x11, [sp, #FRAME_X(10)]
    stp     x12, x13, [sp, #FRAME_X(12)]
    stp     x14, x15, [sp, #FRAME_X(14)]
    stp     x16, x17, [sp, #FRAME_X(16)]
    stp     x18, x19, [sp, #FRAME_X(18)]
    stp     x20, x21, [sp, #FRAME_X(20)]
    stp     x22, x23, [sp, #FRAME_X(22)]
    stp     x24, x25, [sp, #FRAME_X(24)]
    stp     x26, x27, [sp, #FRAME_X(26)]
    stp     x28, x29, [sp, #FRAME_X(28)]
    str     x30, [sp, #FRAME_X(30)]
.endm

.macro guest_exit kind
    .balign 0x80
    stp     x0, x1, [sp, #FRAME_X(0)]
    mov     x0, #\kind
    b       guest_exit_common
.endm

.macro hyp_fault kind
    .balign 0x80
    sub     sp, sp, #HFRAME_SIZE
    stp     x0, x1, [sp, #FRAME_X(0)]
    mov     x0, #\kind
    b       hyp_fault_common
.endm

    .section .text.vectors, "ax"
    .balign 0x800
    .global hyp_vectors
hyp_vectors:
    hyp_fault 0     // current EL, SP_EL0: sync
    hyp_fault 1     // irq
    hyp_fault 2     // fiq
    hyp_fault 3     // serror
    hyp_fault 4     // current EL, SP_ELx: sync
    hyp_fault 5     // irq
    hyp_fault 6     // fiq
    hyp_fault 7     // serror
    guest_exit EXIT_SYNC    // lower EL, AArch64
    guest_exit EXIT_IRQ
    guest_exit EXIT_FIQ
    guest_exit EXIT_SERROR
    hyp_fault 12    // lower EL, AArch32: never enabled (HCR_EL2.RW=1)
    hyp_fault 13
    hyp_fault 14
    hyp_fault 15

    // Call frame info for debuggers only (.debug_frame, not loaded): the
    // exit and fault paths are the outermost frames of a backtrace.
    .cfi_sections .debug_frame

    .text
guest_exit_common:
    .cfi_startproc
    .cfi_undefined x30
    save_x2_x30
    mrs     x2, elr_el2
    mrs     x3, spsr_el2
    stp     x2, x3, [sp, #FRAME_ELR]
    mov     x1, sp
    ldr     x2, [x1, #FRAME_HYP_SP]
    mov     sp, x2
    mov     x29, #0
    mov     x30, #0
    bl      handle_guest_exit
    .cfi_endproc
    // fall through with x0 = frame to run

    .global guest_enter
guest_enter:
    mov     sp, x0
    ldp     x2, x3, [sp, #FRAME_ELR]
    msr     elr_el2, x2
    msr     spsr_el2, x3
    ldp     x2, x3, [sp, #FRAME_X(2)]
    ldp     x4, x5, [sp, #FRAME_X(4)]
    ldp     x6, x7, [sp, #FRAME_X(6)]
    ldp     x8, x9, [sp, #FRAME_X(8)]
    ldp     x10, x11, [sp, #FRAME_X(10)]
    ldp     x12, x13, [sp, #FRAME_X(12)]
    ldp     x14, x15, [sp, #FRAME_X(14)]
    ldp     x16, x17, [sp, #FRAME_X(16)]
    ldp     x18, x19, [sp, #FRAME_X(18)]
    ldp     x20, x21, [sp, #FRAME_X(20)]
    ldp     x22, x23, [sp, #FRAME_X(22)]
    ldp     x24, x25, [sp, #FRAME_X(24)]
    ldp     x26, x27, [sp, #FRAME_X(26)]
    ldp     x28, x29, [sp, #FRAME_X(28)]
    ldr     x30, [sp, #FRAME_X(30)]
    ldp     x0, x1, [sp, #FRAME_X(0)]
    eret


hyp_fault_common:
    // For a debugger this is an exception frame: the frame it interrupted
    // has SP = CFA and PC = the saved ELR_EL2 (DWARF register 32), so `bt`
    // from handle_hyp_fault continues into the function that faulted.
    .cfi_startproc
    .cfi_def_cfa sp, HFRAME_SIZE
    .cfi_undefined 32
    save_x2_x30
    mrs     x2, esr_el2
    mrs     x3, elr_el2
    stp     x2, x3, [sp, #HFRAME_ESR]
    mrs     x2, far_el2
    mrs     x3, spsr_el2
    stp     x2, x3, [sp, #HFRAME_FAR]
    add     x2, sp, #HFRAME_SIZE
    str     x2, [sp, #HFRAME_SP]
    .cfi_offset 32, HFRAME_ELR - HFRAME_SIZE
    .cfi_offset x29, FRAME_X(29) - HFRAME_SIZE
    .cfi_offset x30, FRAME_X(30) - HFRAME_SIZE
    mov     x1, sp
    bl      handle_hyp_fault
1:  wfi
    b       1b
    .cfi_endproc
