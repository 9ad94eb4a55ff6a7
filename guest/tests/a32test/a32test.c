/*
 * a32test: a static 32-bit ARM Linux program (no libc: raw system calls)
 * that checks how instructions a 32-bit EL0 program traps with are
 * completed: the loaded value, and that the instructions after the trapped
 * one run exactly once, in A32, T32 (32-bit Thumb) and T16 (16-bit Thumb),
 * inside IT blocks, with sign extension and writeback. Under a hypervisor
 * the loads and stores are emulated MMIO (stage-2 data aborts of the
 * PL011 at 0x09000000, through /dev/mem), so the hypervisor must advance
 * the PC by the instruction's length (ESR_EL2.IL) and the IT state.
 *
 *   a32test            run every case; exit status = number of failures
 *   a32test NAME...    run the named cases only
 *   a32test --list     print the case names
 *
 * Output, one line per case:
 *   A32TEST ok - NAME
 *   A32TEST ok - NAME (note)
 *   A32TEST not ok - NAME: detail
 * and last "A32TEST done: N cases, F failed".
 *
 * Each case runs in a child process (fork), so one that crashes or hangs
 * (killed after 10 s) is reported and the others still run.
 *
 * /dev/mem must allow the PL011: Debian's kernel has IO_STRICT_DEVMEM, so
 * boot with iomem=relaxed.
 */
#include "ctx.h"

typedef unsigned long ulong;

/* ---- system calls (ARM EABI: number in r7, svc #0) ----------------------- */

#define NR_exit_group 248
#define NR_fork 2
#define NR_write 4
#define NR_open 5
#define NR_close 6
#define NR_kill 37
#define NR_wait4 114
#define NR_mmap2 192
#define NR_nanosleep 162

static long sys6(long nr, long a, long b, long c, long d, long e, long f)
{
    register long r0 __asm__("r0") = a;
    register long r1 __asm__("r1") = b;
    register long r2 __asm__("r2") = c;
    register long r3 __asm__("r3") = d;
    register long r4 __asm__("r4") = e;
    register long r5 __asm__("r5") = f;
    register long r7 __asm__("r7") = nr;
    __asm__ volatile("svc #0"
                     : "+r"(r0)
                     : "r"(r1), "r"(r2), "r"(r3), "r"(r4), "r"(r5), "r"(r7)
                     : "memory");
    return r0;
}
#define sys3(nr, a, b, c) sys6(nr, (long)(a), (long)(b), (long)(c), 0, 0, 0)

static __attribute__((noreturn)) void exit_group(int status)
{
    for (;;)
        sys3(NR_exit_group, status, 0, 0);
}

/* ---- output ------------------------------------------------------------- */

static char obuf[512];
static int olen;

static void flush(void)
{
    int off = 0;
    while (off < olen) {
        long r = sys3(NR_write, 1, obuf + off, olen - off);
        if (r <= 0)
            break;
        off += (int)r;
    }
    olen = 0;
}

static void puts_(const char *s)
{
    while (*s) {
        if (olen == (int)sizeof obuf)
            flush();
        obuf[olen++] = *s++;
    }
}

static void hex(u32 v)
{
    char b[11] = "0x";
    for (int i = 0; i < 8; i++)
        b[2 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 15];
    b[10] = 0;
    puts_(b);
}

static void dec(u32 v)
{
    static const u32 pow10[] = {1000000000, 100000000, 10000000, 1000000, 100000, 10000, 1000, 100, 10, 1};
    char b[11];
    int n = 0;
    for (unsigned i = 0; i < sizeof pow10 / sizeof pow10[0]; i++) {
        char d = '0';
        while (v >= pow10[i]) {
            v -= pow10[i];
            d++;
        }
        if (d != '0' || n || pow10[i] == 1)
            b[n++] = d;
    }
    b[n] = 0;
    puts_(b);
}

static int streq(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

/* ---- the cases ---------------------------------------------------------- */

typedef void case_fn(struct a32_ctx *);
extern case_fn a32_ldr, a32_ldr_r12, a32_ldr_lr, a32_ldrh, a32_ldrb, a32_ldrsb, a32_ldrsh, a32_ldr_cond, a32_str,
    a32_strh, a32_strb, a32_ldr_post, a32_ldrd, a32_wfi, a32_wfe, a32_smc, a32_hvc, t32_ldr, t32_ldr_r9, t32_ldrh,
    t32_ldrsb, t32_ldrsh, t32_str, t32_strb, t32_ldr_it, t32_ldr_pre, t32_wfi, t32_wfe, t32_hvc, t16_ldr,
    t16_ldr_reg, t16_ldrh, t16_ldrb, t16_ldrsb, t16_ldrsh, t16_str, t16_strh, t16_strb, t16_ldr_then_t32,
    t16_ldr_it_else, t16_ldr_it_mid, t16_ldr_it_last, t16_str_it_else, t16_ldm, t16_wfi, t16_wfi_it_else, t16_wfe,
    a32_mrrc_cntvct, t32_mrrc_cntvct, a32_mrc_pmccntr, a32_spin, thumb_spin;

/* What the PL011 identification registers hold (PrimeCell ID and part
 * number 0x011 from ARM; the same on QEMU's model and the hypervisor's). */
#define PERIPHID0 0x11u
#define PCELLID0 0x0du
#define PCELLID1 0xf0u
#define PCELLID3 0xb1u
#define IBRD_VALUE 0x8123u /* bit 15 set: LDRSH must sign-extend it */

enum {
    F_AUX = 1,    /* check aux too */
    F_BUS_OK = 2, /* no instruction syndrome: SIGBUS (an injected abort) is also right */
    F_SIGILL = 4, /* must end in SIGILL (UNDEFINED at EL0, EL1's business) */
    F_STORE = 8,  /* stores `in` to UARTILPR, cleared first, read back into val */
    F_IBRD = 16,  /* UARTIBRD holds IBRD_VALUE meanwhile */
    F_SPIN = 32,  /* the counting loop: cnt and regs[] */
    F_ILL_OK = 64, /* SIGILL is also right: the guest kernel traps it (EL0 WFI: SCTLR_EL1.nTWI = 0) */
    F_ANY_VAL = 128, /* a counter: any value */
};

struct tcase {
    const char *name;
    case_fn *fn;
    u32 val, aux, in;
    unsigned flags;
    const char *what;
};

#define SX8(v) ((v) | 0xffffff00u)
#define SX16(v) ((v) | 0xffff0000u)

static const struct tcase cases[] = {
    {"a32-ldr", a32_ldr, PCELLID0, 0, 0, 0, "LDR r0, [r4, #0x10]"},
    {"a32-ldr-r12", a32_ldr_r12, PCELLID3, 0, 0, 0, "LDR r12, [r4, #0x1c]"},
    {"a32-ldr-lr", a32_ldr_lr, PCELLID1, 0, 0, 0, "LDR lr, [r4, #0x14]"},
    {"a32-ldrh", a32_ldrh, PCELLID1, 0, 0, 0, "LDRH r0, [r4, #0x14]"},
    {"a32-ldrb", a32_ldrb, PCELLID3, 0, 0, 0, "LDRB r0, [r4, #0x1c]"},
    {"a32-ldrsb", a32_ldrsb, SX8(PCELLID3), 0, 0, 0, "LDRSB r0, [r4, #0x1c]"},
    {"a32-ldrsh", a32_ldrsh, SX16(IBRD_VALUE), 0, 0, F_IBRD, "LDRSH r0, [r6, #0x14] (UARTIBRD)"},
    {"a32-ldr-cond", a32_ldr_cond, PCELLID0, 0xdeadbeefu, 0, F_AUX, "LDREQ that passes, LDRNE that fails"},
    {"a32-str", a32_str, 0x21, 0, 0x21, F_STORE, "STR r1, [r6, #0x10] (UARTILPR)"},
    {"a32-strh", a32_strh, 0x42, 0, 0x42, F_STORE, "STRH r1, [r6, #0x10]"},
    {"a32-strb", a32_strb, 0x63, 0, 0x63, F_STORE, "STRB r1, [r6, #0x10]"},
    {"a32-ldr-postindex", a32_ldr_post, PERIPHID0, 0x10, 0, F_AUX | F_BUS_OK, "LDR r0, [r8], #0x10"},
    {"a32-ldrd", a32_ldrd, PCELLID0, PCELLID1, 0, F_AUX | F_BUS_OK, "LDRD r0, r1, [r4, #0x10]"},
    {"t32-ldr", t32_ldr, PCELLID0, 0, 0, 0, "LDR.W r0, [r4, #0x10]"},
    {"t32-ldr-r9", t32_ldr_r9, PCELLID3, 0, 0, 0, "LDR.W r9, [r4, #0x1c]"},
    {"t32-ldrh", t32_ldrh, PCELLID1, 0, 0, 0, "LDRH.W r0, [r4, #0x14]"},
    {"t32-ldrsb", t32_ldrsb, SX8(PCELLID3), 0, 0, 0, "LDRSB.W r0, [r4, #0x1c]"},
    {"t32-ldrsh", t32_ldrsh, SX16(IBRD_VALUE), 0, 0, F_IBRD, "LDRSH.W r0, [r6, #0x14]"},
    {"t32-str", t32_str, 0x35, 0, 0x35, F_STORE, "STR.W r1, [r6, #0x10]"},
    {"t32-strb", t32_strb, 0x56, 0, 0x56, F_STORE, "STRB.W r1, [r6, #0x10]"},
    {"t32-ldr-it", t32_ldr_it, PCELLID0, 0, 0, 0, "IT EQ; LDREQ.W; then the block must be over"},
    {"t32-ldr-preindex", t32_ldr_pre, PCELLID0, 0x10, 0, F_AUX | F_BUS_OK, "LDR r0, [r8, #0x10]!"},
    {"t16-ldr", t16_ldr, PCELLID0, 0, 0, 0, "LDR r0, [r4, #0x10] (16-bit)"},
    {"t16-ldr-reg", t16_ldr_reg, PCELLID3, 0, 0, 0, "LDR r0, [r4, r1] (16-bit)"},
    {"t16-ldrh", t16_ldrh, PCELLID1, 0, 0, 0, "LDRH r0, [r4, #0x14] (16-bit)"},
    {"t16-ldrb", t16_ldrb, PCELLID3, 0, 0, 0, "LDRB r0, [r4, #0x1c] (16-bit)"},
    {"t16-ldrsb", t16_ldrsb, SX8(PCELLID3), 0, 0, 0, "LDRSB r0, [r4, r1] (16-bit)"},
    {"t16-ldrsh", t16_ldrsh, SX16(IBRD_VALUE), 0, 0, F_IBRD, "LDRSH r0, [r6, r1] (16-bit)"},
    {"t16-str", t16_str, 0x17, 0, 0x17, F_STORE, "STR r1, [r6, #0x10] (16-bit)"},
    {"t16-strh", t16_strh, 0x28, 0, 0x28, F_STORE, "STRH r1, [r6, #0x10] (16-bit)"},
    {"t16-strb", t16_strb, 0x39, 0, 0x39, F_STORE, "STRB r1, [r6, #0x10] (16-bit)"},
    {"t16-ldr-then-t32", t16_ldr_then_t32, PCELLID0, 0, 0, 0, "16-bit LDR, then a 32-bit ADD.W"},
    {"t16-ldr-it-else", t16_ldr_it_else, PCELLID0, 0, 0, 0, "ITE EQ; LDREQ (16-bit); ADDNE must not run"},
    {"t16-ldr-it-mid", t16_ldr_it_mid, PCELLID0, 0, 0, 0, "ITTE EQ; ADDEQ; LDREQ (16-bit); ADDNE must not run"},
    {"t16-ldr-it-last", t16_ldr_it_last, PCELLID0, 0, 0, 0, "IT EQ; LDREQ (16-bit); then the block must be over"},
    {"t16-str-it-else", t16_str_it_else, 0x4a, 0, 0x4a, F_STORE, "ITE EQ; STREQ (16-bit); ADDNE must not run"},
    {"t16-ldm-writeback", t16_ldm, PCELLID0, 0x14, 0, F_AUX | F_BUS_OK, "LDM r3!, {r0} (16-bit)"},
    {"a32-wfi", a32_wfi, 0xdeadbeefu, 0, 0, F_ILL_OK, "WFI (A32)"},
    {"t32-wfi", t32_wfi, 0xdeadbeefu, 0, 0, F_ILL_OK, "WFI.W"},
    {"t16-wfi", t16_wfi, 0xdeadbeefu, 0, 0, F_ILL_OK, "WFI (16-bit)"},
    {"t16-wfi-it-else", t16_wfi_it_else, 0xdeadbeefu, 0, 0, F_ILL_OK, "ITE EQ; WFIEQ (16-bit); ADDNE must not run"},
    {"a32-wfe", a32_wfe, 0xdeadbeefu, 0, 0, 0, "WFE (A32)"},
    {"t32-wfe", t32_wfe, 0xdeadbeefu, 0, 0, 0, "WFE.W"},
    {"t16-wfe", t16_wfe, 0xdeadbeefu, 0, 0, 0, "WFE (16-bit)"},
    {"a32-smc-undefined", a32_smc, 0, 0, 0, F_SIGILL, "SMC at EL0 (A32)"},
    {"a32-hvc-undefined", a32_hvc, 0, 0, 0, F_SIGILL, "HVC at EL0 (A32)"},
    {"t32-hvc-undefined", t32_hvc, 0, 0, 0, F_SIGILL, "HVC at EL0 (T32)"},
    {"a32-mrrc-cntvct", a32_mrrc_cntvct, 0, 0, 0, F_ANY_VAL, "MRRC CNTVCT (A32)"},
    {"t32-mrrc-cntvct", t32_mrrc_cntvct, 0, 0, 0, F_ANY_VAL, "MRRC CNTVCT (T32)"},
    {"a32-mrc-pmccntr", a32_mrc_pmccntr, 0, 0, 0, F_ANY_VAL | F_ILL_OK, "MRC PMCCNTR (A32)"},
    {"a32-spin-interrupts", a32_spin, 0x1100, 0, 0, F_SPIN, "A32 counting loop across interrupts"},
    {"thumb-spin-interrupts", thumb_spin, 0x1100, 0, 0, F_SPIN, "Thumb counting loop across interrupts"},
};
#define NCASES (sizeof cases / sizeof cases[0])

/* ---- running one case ---------------------------------------------------- */

#define O_RDWR 02
#define O_SYNC 04010000
#define PROT_RW 3
#define MAP_SHARED 1
#define MAP_ANON_SHARED 0x21
#define PL011_PA 0x09000000u
#define SIGILL 4
#define SIGBUS 7
#define SIGKILL 9
#define WNOHANG 1

static volatile u32 *uart; /* the PL011's 4 KiB, uncached (/dev/mem with O_SYNC) */
static struct a32_ctx *shared;

static void sleep_ms(long ms)
{
    long ts[2] = {ms / 1000, (ms % 1000) * 1000000};
    sys3(NR_nanosleep, ts, 0, 0);
}

/* Runs c in a child; returns its wait status, or -1 if it had to be
 * killed after 10 s. */
static int run_child(const struct tcase *c)
{
    long pid = sys3(NR_fork, 0, 0, 0);
    if (pid == 0) {
        c->fn(shared);
        exit_group(0);
    }
    if (pid < 0)
        return -2;
    int status = 0;
    for (int waited = 0;; waited++) {
        long r = sys6(NR_wait4, pid, (long)&status, WNOHANG, 0, 0, 0);
        if (r == pid)
            return status;
        if (waited == 1000) {
            sys3(NR_kill, pid, SIGKILL, 0);
            sys6(NR_wait4, pid, (long)&status, 0, 0, 0, 0);
            return -1;
        }
        sleep_ms(10);
    }
}

static void field(const char *name, u32 got, u32 want, void (*show)(u32))
{
    puts_(" ");
    puts_(name);
    puts_("=");
    show(got);
    if (got != want) {
        puts_(" (want ");
        show(want);
        puts_(")");
    }
}

/* One case; returns 1 if it failed. */
static int run_case(const struct tcase *c)
{
    struct a32_ctx *x = shared;
    for (unsigned i = 0; i < sizeof *x / 4; i++)
        ((volatile u32 *)x)[i] = 0;
    x->id = (u32)(ulong)uart + 0xfe0;
    x->w = (u32)(ulong)uart + 0x10;
    x->in = c->in;
    u32 ibrd = uart[0x24 / 4];
    if (c->flags & F_STORE)
        uart[0x20 / 4] = 0;
    if (c->flags & F_IBRD)
        uart[0x24 / 4] = IBRD_VALUE;
    int st = run_child(c);
    if (c->flags & F_IBRD)
        uart[0x24 / 4] = ibrd;

    int sig = st >= 0 ? (st & 0x7f) : 0;
    int exited = st >= 0 && sig == 0;
    u32 want_cnt = (c->flags & F_SPIN) ? SPIN_ITERS : 7;
    int good = 0;
    const char *note = 0;
    if (c->flags & F_SIGILL) {
        good = sig == SIGILL;
        note = good ? "SIGILL: UNDEFINED at EL0" : 0;
    } else if (exited && (st >> 8) == 0) {
        good = (x->val == c->val || (c->flags & F_ANY_VAL)) && x->cnt == want_cnt && (!(c->flags & F_AUX) || x->aux == c->aux);
        if (c->flags & F_SPIN) {
            static const u32 want[13] = {0x1100, 0x1101, 0, 0x1103, 0, 0, 0x1106, 0x1107, 0x1108, 0x1109, 0x110a, 0,
                                         0x110c};
            x->regs[0] = x->val;
            for (int i = 0; i < 13; i++)
                good = good && x->regs[i] == want[i];
        }
        if (c->flags & (F_BUS_OK | F_ILL_OK))
            note = c->flags & F_BUS_OK ? "emulated" : "completed";
    } else if ((c->flags & F_BUS_OK) && sig == SIGBUS) {
        good = 1;
        note = "SIGBUS: no syndrome, abort injected";
    } else if ((c->flags & F_ILL_OK) && sig == SIGILL) {
        good = 1;
        note = "SIGILL: the guest kernel traps it at EL1; it never reaches EL2";
    }

    puts_(good ? "A32TEST ok - " : "A32TEST not ok - ");
    puts_(c->name);
    if (good) {
        if (note) {
            puts_(" (");
            puts_(note);
            puts_(")");
        }
    } else {
        puts_(": ");
        puts_(c->what);
        puts_(":");
        if (st == -1)
            puts_(" did not finish in 10 s (killed)");
        else if (st == -2)
            puts_(" fork failed");
        else if (sig) {
            puts_(" killed by signal ");
            dec((u32)sig);
        } else if ((st >> 8) != 0) {
            puts_(" exit status ");
            dec((u32)(st >> 8) & 0xff);
        } else if (!(c->flags & F_SIGILL)) {
            if (!(c->flags & F_ANY_VAL))
                field("value", x->val, c->val, hex);
            field("follow-up count", x->cnt, want_cnt, dec);
            if (c->flags & F_AUX)
                field("aux", x->aux, c->aux, hex);
            if (c->flags & F_SPIN)
                for (int i = 1; i < 13; i++)
                    if (i != 4 && i != 5 && i != 11) {
                        puts_(" r");
                        dec((u32)i);
                        puts_("=");
                        hex(x->regs[i]);
                    }
        } else {
            puts_(" exited normally, want SIGILL");
        }
    }
    puts_("\n");
    flush();
    return !good;
}

/* ---- main --------------------------------------------------------------- */

static int main_(int argc, char **argv)
{
    if (argc == 2 && streq(argv[1], "--list")) {
        for (unsigned i = 0; i < NCASES; i++) {
            puts_(cases[i].name);
            puts_("\n");
        }
        flush();
        return 0;
    }
    for (int a = 1; a < argc; a++) {
        unsigned i = 0;
        while (i < NCASES && !streq(cases[i].name, argv[a]))
            i++;
        if (i == NCASES) {
            puts_("a32test: no case ");
            puts_(argv[a]);
            puts_(" (a32test --list)\n");
            flush();
            return 2;
        }
    }
    long fd = sys3(NR_open, "/dev/mem", O_RDWR | O_SYNC, 0);
    long m = fd < 0 ? fd : sys6(NR_mmap2, 0, 4096, PROT_RW, MAP_SHARED, fd, PL011_PA >> 12);
    if (fd < 0 || (ulong)m >= (ulong)-4095) {
        puts_("A32TEST not ok - map the PL011: ");
        puts_(fd < 0 ? "open /dev/mem" : "mmap /dev/mem at 0x09000000");
        puts_(" failed, errno ");
        dec((u32)-(fd < 0 ? fd : m));
        puts_(" (the kernel needs iomem=relaxed)\n");
        flush();
        return 1;
    }
    sys3(NR_close, fd, 0, 0);
    uart = (volatile u32 *)m;
    m = sys6(NR_mmap2, 0, 4096, PROT_RW, MAP_ANON_SHARED, -1, 0);
    if ((ulong)m >= (ulong)-4095) {
        puts_("A32TEST not ok - shared page: mmap failed\n");
        flush();
        return 1;
    }
    shared = (struct a32_ctx *)m;

    unsigned ran = 0, failed = 0;
    for (unsigned i = 0; i < NCASES; i++) {
        int want = argc == 1;
        for (int a = 1; a < argc; a++)
            want |= streq(cases[i].name, argv[a]);
        if (!want)
            continue;
        ran++;
        failed += (unsigned)run_case(&cases[i]);
    }
    puts_("A32TEST done: ");
    dec(ran);
    puts_(" cases, ");
    dec(failed);
    puts_(" failed\n");
    flush();
    return failed > 255 ? 255 : (int)failed;
}

__attribute__((used, noreturn)) void a32test_start(long *sp)
{
    exit_group(main_((int)sp[0], (char **)(sp + 1)));
}

__attribute__((naked, noreturn)) void _start(void)
{
    __asm__ volatile("mov r0, sp\n"
                     "bic sp, sp, #7\n"
                     "bl a32test_start\n");
}
