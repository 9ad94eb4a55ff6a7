// EL2 entry for every pCPU. QEMU starts only the primary (x0 = 0, DTB at the
// base of RAM); the primary starts the others with PSCI CPU_ON, passing the
// pCPU index as context_id, which arrives in x0 at secondary_entry.
//
// The MMU and caches go on here, before C code runs on the pCPU (the
// primary's one exception: mmu_prepare_el2, which builds the tables), and a
// secondary turns them on before it stores anything at all: with the MMU
// off its stores would bypass the caches the other pCPUs already use.
#include "frame.h"
#include "mmu.h"

#define STACK_SHIFT 14   /* 16 KiB per pCPU */

    // Call frame info for debuggers only (.debug_frame, not loaded): this
    // is the outermost frame of every backtrace.
    .cfi_sections .debug_frame

    .section .text.boot, "ax"
    .global _start
_start:
    .cfi_startproc
    .cfi_undefined x30
    mov     x19, #0
    msr     daifset, #0xf
    bl      set_stack_and_vectors
    // Clear .bss (stacks live in their own NOLOAD section), build the EL2
    // tables and publish g_el2_mmu: all with the MMU off, so straight to
    // memory, where the secondaries will read g_el2_mmu with theirs off.
    adrp    x1, __bss_start
    add     x1, x1, :lo12:__bss_start
    adrp    x2, __bss_end
    add     x2, x2, :lo12:__bss_end
1:  cmp     x1, x2
    b.hs    2f
    stp     xzr, xzr, [x1], #16
    b       1b
2:  mov     x29, #0
    mov     x30, #0
    bl      mmu_prepare_el2
    // No stale cache line of the image may hide what was just written to
    // memory once the caches are on.
    adrp    x0, __hyp_start
    add     x0, x0, :lo12:__hyp_start
    adrp    x1, __hyp_end
    add     x1, x1, :lo12:__hyp_end
    bl      dcache_invalidate
    bl      el2_mmu_on
    b       enter_c

    .global secondary_entry
secondary_entry:
    mov     x19, x0
    msr     daifset, #0xf
    bl      el2_mmu_on
    bl      set_stack_and_vectors

enter_c:
    mov     x0, x19
    mov     x29, #0
    mov     x30, #0
    bl      hyp_cpu_entry
3:  wfi
    b       3b
    .cfi_endproc

// SP = hyp_stacks + (x19 + 1) << STACK_SHIFT; VBAR_EL2 = hyp_vectors.
// Registers only.
set_stack_and_vectors:
    adrp    x1, hyp_stacks
    add     x1, x1, :lo12:hyp_stacks
    add     x2, x19, #1
    add     x1, x1, x2, lsl #STACK_SHIFT
    mov     sp, x1
    adrp    x1, hyp_vectors
    add     x1, x1, :lo12:hyp_vectors
    msr     vbar_el2, x1
    isb
    ret

// Invalidate the data cache lines of [x0, x1) to the point of coherency.
// Registers only.
dcache_invalidate:
    mrs     x3, ctr_el0
    ubfx    x3, x3, #16, #4        // DminLine: log2 of the line size in words
    mov     x2, #4
    lsl     x2, x2, x3             // line size in bytes
    sub     x3, x2, #1
    bic     x0, x0, x3
1:  dc      ivac, x0
    add     x0, x0, x2
    cmp     x0, x1
    b.lo    1b
    dsb     sy
    ret

// This pCPU's EL2 MMU and caches on, with the values the primary published
// (mmu.h). Registers only; loads g_el2_mmu with the MMU still off.
el2_mmu_on:
    adrp    x0, g_el2_mmu
    add     x0, x0, :lo12:g_el2_mmu
    ldp     x1, x2, [x0, #EL2_MMU_MAIR]
    ldp     x3, x4, [x0, #EL2_MMU_TTBR0]
    msr     mair_el2, x1
    msr     tcr_el2, x2
    msr     ttbr0_el2, x3
    isb
    tlbi    alle2
    ic      iallu
    dsb     ish
    isb
    msr     sctlr_el2, x4
    isb
    ret

    .section .stacks, "aw", %nobits
    .balign 4096
    .global hyp_stacks
hyp_stacks:
    .space  (4 << STACK_SHIFT)
    .global hyp_stacks_end
hyp_stacks_end:
