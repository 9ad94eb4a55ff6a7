/* struct a32_ctx: what a32test's runner hands an instruction case
 * (cases.S) and what the case leaves behind. Shared by the C runner and
 * the assembly, hence the offsets. */
#ifndef A32TEST_CTX_H
#define A32TEST_CTX_H

#define CTX_ID 0
#define CTX_W 4
#define CTX_IN 8
#define CTX_VAL 12
#define CTX_CNT 16
#define CTX_AUX 20
#define CTX_REGS 24
#define CTX_SIZE (CTX_REGS + 16 * 4)

#define SPIN_ITERS 30000000

#ifndef __ASSEMBLER__
typedef unsigned int u32;

struct a32_ctx {
    u32 id;       /* PL011 mapping + 0xfe0: the identification registers */
    u32 w;        /* PL011 mapping + 0x10: UARTILPR at +0x10, UARTIBRD at +0x14 */
    u32 in;       /* value a store case writes */
    u32 val;      /* r0 at the end */
    u32 cnt;      /* r5 at the end */
    u32 aux;      /* per case: a base's writeback, a second register */
    u32 regs[16]; /* the spin cases: registers after the loop */
};

_Static_assert(__builtin_offsetof(struct a32_ctx, id) == CTX_ID, "ctx layout");
_Static_assert(__builtin_offsetof(struct a32_ctx, w) == CTX_W, "ctx layout");
_Static_assert(__builtin_offsetof(struct a32_ctx, in) == CTX_IN, "ctx layout");
_Static_assert(__builtin_offsetof(struct a32_ctx, val) == CTX_VAL, "ctx layout");
_Static_assert(__builtin_offsetof(struct a32_ctx, cnt) == CTX_CNT, "ctx layout");
_Static_assert(__builtin_offsetof(struct a32_ctx, aux) == CTX_AUX, "ctx layout");
_Static_assert(__builtin_offsetof(struct a32_ctx, regs) == CTX_REGS, "ctx layout");
_Static_assert(sizeof(struct a32_ctx) == CTX_SIZE, "ctx layout");
#endif

#endif
