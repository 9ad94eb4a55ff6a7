// Entry points, the EL1 vector table and the static stage-1 tables.
//
// The image is a raw arm64 Image (Linux Documentation/arm64/booting.rst
// layout): the hypervisor loads it at the base of guest RAM, IPA
// 0x40000000, and enters primary_entry at EL1 with x0 = the DTB. Secondary
// vCPUs enter secondary_entry through PSCI CPU_ON with x0 = context.

#include "layout.h"

// Stage-1 translation (4 KiB granule, 39-bit VA, start at level 1).
#define MAIR_VALUE ((MAIR_DEVICE_nGnRnE << 0) | (MAIR_DEVICE_nGnRE << 8) | (MAIR_NORMAL_WB << 16))
#define TCR_VALUE (25 | (1 << 8) | (1 << 10) | (3 << 12) | (25 << 16) | TCR_EPD1 | (1 << 24) | (1 << 26) | \
                   (3 << 28) | (2 << 30) | (2 << 32))
// M C SA SA0 I, nTWI nTWE, and the Armv8.0 RES1 bits 11 20 22 23 28 29.
#define SCTLR_VALUE 0x30d5181d

    .section .text.head, "ax"
    .globl _start
_start:
    b       primary_entry           // code0
    .long   0                       // code1
    .quad   0                       // text_offset
    .quad   __image_size            // image_size (little endian)
    .quad   0x2                     // flags: LE, 4 KiB pages
    .quad   0, 0, 0                 // res2-res4
    .ascii  "ARM\x64"               // magic
    .long   0                       // res5

    .text
primary_entry:
    mov     x19, x0
    bl      el1_setup
    adrp    x0, __bss_start
    add     x0, x0, :lo12:__bss_start
    adrp    x1, __bss_end
    add     x1, x1, :lo12:__bss_end
1:  cmp     x0, x1
    b.hs    2f
    stp     xzr, xzr, [x0], #16
    b       1b
2:  mov     x0, #0
    bl      set_stack
    mov     x0, x19
    bl      primary_main
    b       .

    .globl secondary_entry
secondary_entry:
    mov     x19, x0
    bl      el1_setup
    mrs     x0, mpidr_el1
    and     x0, x0, #0xff
    cmp     x0, #MAX_CPUS
    b.hs    .                       // not a vCPU this guest knows: stay here
    bl      set_stack
    mov     x0, x19
    bl      secondary_main
    b       .

// sp = top of cpu x0's stack. Keeps x19.
set_stack:
    adrp    x1, g_stacks
    add     x1, x1, :lo12:g_stacks
    add     x0, x0, #1
    mov     x2, #STACK_SIZE
    madd    x1, x0, x2, x1
    mov     sp, x1
    ret

// MMU on with the static tables, vectors, FP/SIMD enabled. Uses x0 only.
el1_setup:
    msr     daifset, #0xf
    ldr     x0, =MAIR_VALUE
    msr     mair_el1, x0
    ldr     x0, =TCR_VALUE
    msr     tcr_el1, x0
    adrp    x0, pt_l1
    msr     ttbr0_el1, x0
    msr     ttbr1_el1, xzr
    isb
    tlbi    vmalle1
    dsb     nsh
    isb
    ldr     x0, =SCTLR_VALUE
    msr     sctlr_el1, x0
    isb
    adrp    x0, vectors
    add     x0, x0, :lo12:vectors
    msr     vbar_el1, x0
    mov     x0, #(3 << 20)          // CPACR_EL1.FPEN: no FP/SIMD traps
    msr     cpacr_el1, x0
    isb
    ret

// ---------------------------------------------------------------------------
// Vectors. Every entry saves a full Frame (layout.h) and calls
// exception_entry(kind, frame); the handler may change the frame's PC.

.macro VENTRY kind
    .balign 0x80
    sub     sp, sp, #FRAME_SIZE
    stp     x0, x1, [sp, #0]
    mov     x0, #\kind
    b       exception_common
.endm

    .balign 0x800
    .globl vectors
vectors:
    VENTRY  VEC_SP0_SYNC
    VENTRY  VEC_SP0_IRQ
    VENTRY  VEC_SP0_FIQ
    VENTRY  VEC_SP0_SERROR
    VENTRY  VEC_SPX_SYNC
    VENTRY  VEC_SPX_IRQ
    VENTRY  VEC_SPX_FIQ
    VENTRY  VEC_SPX_SERROR
    VENTRY  VEC_LOWER_SYNC
    VENTRY  VEC_LOWER_IRQ
    VENTRY  VEC_LOWER_FIQ
    VENTRY  VEC_LOWER_SERROR
    VENTRY  VEC_LOWER32_SYNC
    VENTRY  VEC_LOWER32_IRQ
    VENTRY  VEC_LOWER32_FIQ
    VENTRY  VEC_LOWER32_SERROR

exception_common:
    stp     x2, x3, [sp, #16]
    stp     x4, x5, [sp, #32]
    stp     x6, x7, [sp, #48]
    stp     x8, x9, [sp, #64]
    stp     x10, x11, [sp, #80]
    stp     x12, x13, [sp, #96]
    stp     x14, x15, [sp, #112]
    stp     x16, x17, [sp, #128]
    stp     x18, x19, [sp, #144]
    stp     x20, x21, [sp, #160]
    stp     x22, x23, [sp, #176]
    stp     x24, x25, [sp, #192]
    stp     x26, x27, [sp, #208]
    stp     x28, x29, [sp, #224]
    mrs     x1, elr_el1
    mrs     x2, spsr_el1
    stp     x30, x1, [sp, #FRAME_X30]
    str     x2, [sp, #FRAME_SPSR]
    mov     x1, sp
    bl      exception_entry
    ldp     x30, x1, [sp, #FRAME_X30]
    ldr     x2, [sp, #FRAME_SPSR]
    msr     elr_el1, x1
    msr     spsr_el1, x2
    ldp     x2, x3, [sp, #16]
    ldp     x4, x5, [sp, #32]
    ldp     x6, x7, [sp, #48]
    ldp     x8, x9, [sp, #64]
    ldp     x10, x11, [sp, #80]
    ldp     x12, x13, [sp, #96]
    ldp     x14, x15, [sp, #112]
    ldp     x16, x17, [sp, #128]
    ldp     x18, x19, [sp, #144]
    ldp     x20, x21, [sp, #160]
    ldp     x22, x23, [sp, #176]
    ldp     x24, x25, [sp, #192]
    ldp     x26, x27, [sp, #208]
    ldp     x28, x29, [sp, #224]
    ldp     x0, x1, [sp, #0]
    add     sp, sp, #FRAME_SIZE
    eret

// ---------------------------------------------------------------------------
// Identity map for the platform plus the abort probes (hw.h):
//   L1[0] VA 0-1 GiB       block, Device-nGnRE, XN       (GIC, UART, 0x0a100000)
//   L1[1] VA 1-2 GiB       block, Normal WB               (guest RAM)
//   L1[2] VA 2-3 GiB       table pt_l2_probe
//         L2[0] 0x80000000 table pt_l3_probe: page 0x80100000 -> IPA 0x0a100000, Normal, executable
//         L2[1] 0x80200000 table at IPA 0x0a200000, which nothing backs (walk abort, level 3)
//         L2[2] 0x80400000 2 MiB block the isolation probes point at any IPA (modes.h probe_window)
//   L1[3] VA 3-4 GiB       table at IPA 0x0a300000, which nothing backs (walk abort, level 2)
#define DESC_AF (1 << 10)
#define DESC_SH_INNER (3 << 8)
#define DESC_XN ((1 << 53) | (1 << 54))
#define DESC_DEVICE (0x1 | (1 << 2) | DESC_AF | DESC_XN)
#define DESC_NORMAL_BLOCK (0x1 | (2 << 2) | DESC_SH_INNER | DESC_AF | (1 << 54))
#define DESC_NORMAL_PAGE (0x3 | (2 << 2) | DESC_SH_INNER | DESC_AF | (1 << 54))
#define DESC_TABLE 0x3

    .section .data.pagetables, "aw"
    .balign 4096
pt_l1:
    .quad   0x00000000 | DESC_DEVICE
    .quad   0x40000000 | DESC_NORMAL_BLOCK
    .quad   pt_l2_probe + DESC_TABLE
    .quad   WALK_L2_TABLE_IPA | DESC_TABLE
    .fill   508, 8, 0
    .globl  pt_l2_probe
pt_l2_probe:
    .quad   pt_l3_probe + DESC_TABLE
    .quad   WALK_L3_TABLE_IPA | DESC_TABLE
    .fill   510, 8, 0
pt_l3_probe:
    .fill   256, 8, 0
    .quad   UNBACKED_IPA | DESC_NORMAL_PAGE
    .fill   255, 8, 0
