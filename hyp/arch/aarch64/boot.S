// EL2 entry for every pCPU. QEMU starts only the primary (x0 = 0, DTB at the
// base of RAM); the primary starts the others with PSCI CPU_ON, passing the
// pCPU index as context_id, which arrives in x0 at secondary_entry.
#include "frame.h"

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
    b       common_entry

    .global secondary_entry
secondary_entry:
    mov     x19, x0

common_entry:
    msr     daifset, #0xf
    // Per-pCPU stack: hyp_stacks + (index + 1) << STACK_SHIFT
    adrp    x1, hyp_stacks
    add     x1, x1, :lo12:hyp_stacks
    add     x2, x19, #1
    add     x1, x1, x2, lsl #STACK_SHIFT
    mov     sp, x1
    adrp    x1, hyp_vectors
    add     x1, x1, :lo12:hyp_vectors
    msr     vbar_el2, x1
    isb
    cbnz    x19, 2f
    // Primary: clear .bss before any C++ runs (stacks live in their own
    // NOLOAD section, so clearing does not race with secondaries).
    adrp    x1, __bss_start
    add     x1, x1, :lo12:__bss_start
    adrp    x2, __bss_end
    add     x2, x2, :lo12:__bss_end
1:  cmp     x1, x2
    b.hs    2f
    stp     xzr, xzr, [x1], #16
    b       1b
2:  mov     x0, x19
    mov     x29, #0
    mov     x30, #0
    bl      hyp_cpu_entry
3:  wfi
    b       3b
    .cfi_endproc

    .section .stacks, "aw", %nobits
    .balign 4096
    .global hyp_stacks
hyp_stacks:
    .space  (4 << STACK_SHIFT)
    .global hyp_stacks_end
hyp_stacks_end:
