/*
 * featstress: guest programs that use one CPU feature hard for a while and
 * check that its state stays the program's own. Run one instance per CPU
 * at once (taskset -c N featstress ...) to see that each vCPU keeps its
 * state when a hypervisor time-shares them on one physical CPU.
 *
 *   featstress [-t SECONDS] [-j THREADS] pac|sve|pmu
 *   featstress ids
 *
 *   pac  pointer authentication (HWCAP_PACA, HWCAP_PACG): PACIA, AUTIA and
 *        PACGA of fixed pointers and modifiers must give the same answers
 *        all the time (Linux gives each process its own keys, set once at
 *        exec), and a chain of calls whose return addresses are signed
 *        (PACIASP/AUTIASP) must return.
 *   sve  SVE (HWCAP_SVE): Z0-Z31, P0-P15 and FFR filled with a pattern of
 *        this thread's and round's, a spin, then every bit read back; each
 *        thread asks for another vector length. Alternating with the same
 *        for the AdvSIMD V registers, FPCR and FPSR. Without SVE only the
 *        latter, and the test is named neon.
 *   pmu  PMUv3 through perf_event_open, per thread: user-only cycles and
 *        instructions around a loop of known length (non-zero, never
 *        decreasing, at most 10 cycles per ns; instructions within 2 % of
 *        the loop's, when the PMU implements INST_RETIRED), and cycles
 *        counted only at EL2 (exclude_user, exclude_kernel, not exclude_hv)
 *        around busy, system-call-heavy and idle stretches, per task and per
 *        CPU: they must stay 0, since a guest's PMU must not count the
 *        hypervisor's work.
 *
 *   ids  the ID registers as EL0 reads them (the kernel emulates MRS of
 *        ID_AA64*_EL1 for EL0, HWCAP_CPUID: its sanitised view of what the
 *        CPUs have), one line each: FEATSTRESS idreg NAME=0x...
 *
 * THREADS threads (default 2) share the CPUs the process may run on, so the
 * guest kernel switches between them too. Output, one line per test:
 *
 *   FEATSTRESS ok - NAME cpuN: details
 *   FEATSTRESS not ok - NAME cpuN: what went wrong
 *   FEATSTRESS skip - NAME cpuN: why not run (feature absent)
 *   FEATSTRESS note - NAME cpuN: something not checked, and why
 *
 * where N is the CPU the process is pinned to (or "cpu?" if not pinned to
 * one). Exit status: 0 if nothing failed, 1 otherwise (a skip is not a
 * failure: the caller knows which features the CPU should have). A fatal
 * signal is reported as a failure line too.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <glob.h>
#include <inttypes.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef HWCAP_CPUID
#define HWCAP_CPUID (1UL << 11)
#endif
#ifndef HWCAP_SVE
#define HWCAP_SVE (1UL << 22)
#endif
#ifndef HWCAP_PACA
#define HWCAP_PACA (1UL << 30)
#endif
#ifndef HWCAP_PACG
#define HWCAP_PACG (1UL << 31)
#endif

typedef uint64_t u64;
typedef uint8_t u8;

/* regs.S */
u64 spin_loop(u64 n);
void neon_check(const u8 *in, u8 *out, u64 spins, u64 fpcr_fpsr[2]);
void sve_check(const u8 *zin, const u8 *pin, u64 ffr_active, u64 spins, u8 *zout, u8 *pout, u8 *ffrout);

static double g_seconds = 5;
static int g_threads = 2;
static const char *g_test = "?";
static char g_cpu[16] = "cpu?";

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void line(const char *status, const char *name, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    printf("FEATSTRESS %s - %s %s: %s\n", status, name, g_cpu, msg);
    fflush(stdout);
}

/* A fatal signal (an authentication failure with FEAT_FPAC is SIGILL, a
 * corrupted return address SIGSEGV) must still give a result line. */
static void on_fatal(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    char buf[200];
    int n = snprintf(buf, sizeof buf, "FEATSTRESS not ok - %s %s: killed by signal %d (%s), code %d, address %p\n",
                     g_test, g_cpu, sig, strsignal(sig), si->si_code, si->si_addr);
    if (write(1, buf, (size_t)n) < 0) {
    }
    _exit(1);
}

static void set_cpu_name(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) == 1)
        for (int c = 0; c < CPU_SETSIZE; c++)
            if (CPU_ISSET(c, &set))
                snprintf(g_cpu, sizeof g_cpu, "cpu%d", c);
}

static int pinned_cpu(void)
{
    return g_cpu[3] == '?' ? -1 : atoi(g_cpu + 3);
}

/* xorshift64*: patterns that differ per thread, round and register. */
static u64 rnd(u64 *s)
{
    u64 x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static void fill(u8 *p, size_t n, u64 *seed)
{
    for (size_t i = 0; i < n; i += 8) {
        u64 v = rnd(seed);
        memcpy(p + i, &v, n - i < 8 ? n - i : 8);
    }
}

/* Per-thread state and result. */
struct worker {
    pthread_t th;
    int index;
    u64 rounds;
    int failed;
    char why[400];
    char info[200];
};

static void fail(struct worker *w, const char *fmt, ...)
{
    if (w->failed)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = snprintf(w->why, sizeof w->why, "thread %d round %" PRIu64 ": ", w->index, w->rounds);
    vsnprintf(w->why + n, sizeof w->why - (size_t)n, fmt, ap);
    va_end(ap);
    w->failed = 1;
}

/* ---- pac --------------------------------------------------------------- */

static inline u64 pacia(u64 p, u64 mod)
{
    __asm__ volatile(".arch_extension pauth\n pacia %0, %1" : "+r"(p) : "r"(mod));
    return p;
}

static inline u64 autia(u64 p, u64 mod)
{
    __asm__ volatile(".arch_extension pauth\n autia %0, %1" : "+r"(p) : "r"(mod));
    return p;
}

static inline u64 pacga(u64 a, u64 b)
{
    u64 r;
    __asm__ volatile(".arch_extension pauth\n pacga %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
}

/* Calls whose return addresses are signed on entry and authenticated on
 * return (PACIASP/AUTIASP, HINT space: no-ops without pointer
 * authentication). A key that changed in between makes the return fault. */
__attribute__((noinline, target("branch-protection=pac-ret"))) static u64 signed_calls(u64 depth, u64 acc)
{
    if (depth == 0)
        return acc;
    u64 r = signed_calls(depth - 1, acc * 31 + depth);
    __asm__ volatile("" : "+r"(r)); /* no tail call: each level returns through its LR */
    return r + 1;
}

#define PAC_PAIRS 16

static u64 g_pac_ga; /* pacga(0x1234, 0x5678) of this process */

static void *pac_thread(void *arg)
{
    struct worker *w = arg;
    static u64 targets[PAC_PAIRS];
    u64 ptr[PAC_PAIRS], mod[PAC_PAIRS], sig[PAC_PAIRS], ga[PAC_PAIRS];
    int differs = 0;
    for (int i = 0; i < PAC_PAIRS; i++) {
        ptr[i] = (u64)(uintptr_t)&targets[i];
        mod[i] = 0x9E3779B97F4A7C15ULL * (u64)(i + 1 + 100 * w->index);
        sig[i] = pacia(ptr[i], mod[i]);
        ga[i] = pacga(ptr[i], mod[i]);
        differs |= sig[i] != ptr[i];
    }
    if (!differs)
        fail(w, "PACIA left all %d pointers unchanged: pointer authentication is not enabled at EL0", PAC_PAIRS);
    const u64 want_calls = signed_calls(24, 1);
    double end = now() + g_seconds;
    while (!w->failed && now() < end) {
        for (int k = 0; k < 1000 && !w->failed; k++) {
            int i = k % PAC_PAIRS;
            u64 s = pacia(ptr[i], mod[i]);
            if (s != sig[i])
                fail(w, "PACIA(%#" PRIx64 ", %#" PRIx64 ") = %#" PRIx64 ", earlier %#" PRIx64 ": the IA key changed",
                     ptr[i], mod[i], s, sig[i]);
            u64 a = autia(s, mod[i]);
            if (a != ptr[i])
                fail(w, "AUTIA of PACIA(%#" PRIx64 ") gave %#" PRIx64, ptr[i], a);
            u64 g = pacga(ptr[i], mod[i]);
            if (g != ga[i])
                fail(w, "PACGA(%#" PRIx64 ", %#" PRIx64 ") = %#" PRIx64 ", earlier %#" PRIx64 ": the GA key changed",
                     ptr[i], mod[i], g, ga[i]);
        }
        u64 c = signed_calls(24, 1);
        if (c != want_calls)
            fail(w, "24 signed calls returned %#" PRIx64 ", want %#" PRIx64, c, want_calls);
        w->rounds++;
    }
    snprintf(w->info, sizeof w->info, "%d pointers signed and authenticated", PAC_PAIRS);
    return NULL;
}

static int pac_available(void)
{
    unsigned long hw = getauxval(AT_HWCAP);
    if (!(hw & HWCAP_PACA) || !(hw & HWCAP_PACG)) {
        line("skip", "pac", "the kernel reports no %s%s%s", hw & HWCAP_PACA ? "" : "HWCAP_PACA",
             (hw & (HWCAP_PACA | HWCAP_PACG)) ? "" : " and ", hw & HWCAP_PACG ? "" : "HWCAP_PACG");
        return 0;
    }
    g_pac_ga = pacga(0x1234, 0x5678);
    return 1;
}

/* ---- sve / neon ---------------------------------------------------------- */

#define SPINS 200000

static int g_sve;

/* One round of the V registers, FPCR and FPSR. */
static void neon_round(struct worker *w, u64 *seed)
{
    u8 in[512], out[512];
    fill(in, sizeof in, seed);
    u64 r = rnd(seed);
    /* FPCR: RMode (23:22), FZ (24), DN (25), AHP (26); FPSR: the
     * cumulative flags IOC, DZC, OFC, UFC, IXC, IDC and QC. */
    u64 set[2] = {(r & 0x1f) << 22, (r >> 8) & 0x0800009fULL};
    u64 got[2] = {set[0], set[1]};
    neon_check(in, out, SPINS, got);
    for (int i = 0; i < 512 && !w->failed; i++)
        if (in[i] != out[i])
            fail(w, "V%d byte %d: %#x, want %#x", i / 16, i % 16, out[i], in[i]);
    if ((got[0] & (0x1fULL << 22)) != set[0])
        fail(w, "FPCR %#" PRIx64 ", want RMode/FZ/DN/AHP %#" PRIx64, got[0], set[0]);
    if ((got[1] & 0x0800009fULL) != set[1])
        fail(w, "FPSR %#" PRIx64 ", want %#" PRIx64, got[1], set[1]);
}

static void sve_round(struct worker *w, u64 *seed, size_t vl, u8 *buf)
{
    size_t pl = vl / 8;
    u8 *zin = buf, *zout = zin + 32 * vl, *pin = zout + 32 * vl, *pout = pin + 16 * pl, *ffr = pout + 16 * pl;
    fill(zin, 32 * vl, seed);
    fill(pin, 16 * pl, seed);
    u64 active = rnd(seed) % (vl + 1);
    sve_check(zin, pin, active, SPINS, zout, pout, ffr);
    for (size_t i = 0; i < 32 * vl && !w->failed; i++)
        if (zin[i] != zout[i])
            fail(w, "Z%zu byte %zu: %#x, want %#x (VL %zu bytes)", i / vl, i % vl, zout[i], zin[i], vl);
    for (size_t i = 0; i < 16 * pl && !w->failed; i++)
        if (pin[i] != pout[i])
            fail(w, "P%zu byte %zu: %#x, want %#x (VL %zu bytes)", i / pl, i % pl, pout[i], pin[i], vl);
    for (size_t i = 0; i < pl && !w->failed; i++) {
        unsigned want = 0;
        for (unsigned b = 0; b < 8; b++)
            want |= (i * 8 + b < active) << b;
        if (ffr[i] != want)
            fail(w, "FFR byte %zu: %#x, want %#x (first %" PRIu64 " elements active, VL %zu bytes)", i, ffr[i], want,
                 active, vl);
    }
}

static void *simd_thread(void *arg)
{
    struct worker *w = arg;
    u64 seed = 0x1234567 + 0x10001ULL * (u64)(w->index + 1) + (u64)getpid() * 0x9E3779B97F4A7C15ULL;
    size_t vl = 0;
    u8 *buf = NULL;
    if (g_sve) {
        /* Each thread asks for another vector length (what the CPU
         * offers, rounded down by the kernel): vCPUs and threads then run
         * with different ZCR_EL1.LEN. */
        int want = 16 << ((w->index + (pinned_cpu() < 0 ? 0 : pinned_cpu())) % 4);
        int r = prctl(PR_SVE_SET_VL, want);
        if (r < 0) {
            fail(w, "prctl(PR_SVE_SET_VL, %d): %s", want, strerror(errno));
            return NULL;
        }
        vl = (size_t)(prctl(PR_SVE_GET_VL) & PR_SVE_VL_LEN_MASK);
        if (vl < 16 || vl > 256 || vl % 16) {
            fail(w, "PR_SVE_GET_VL says %zu bytes", vl);
            return NULL;
        }
        buf = malloc(64 * vl + 33 * (vl / 8));
    }
    double end = now() + g_seconds;
    while (!w->failed && now() < end) {
        if (g_sve)
            sve_round(w, &seed, vl, buf);
        if (!w->failed && (!g_sve || w->rounds % 2))
            neon_round(w, &seed);
        w->rounds++;
    }
    if (g_sve)
        snprintf(w->info, sizeof w->info, "VL %zu", vl);
    free(buf);
    return NULL;
}

/* ---- pmu ----------------------------------------------------------------- */

static int perf_open(u64 config, int excl_user, int excl_kernel, int excl_hv, pid_t pid, int cpu)
{
    struct perf_event_attr a;
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.type = PERF_TYPE_HARDWARE;
    a.config = config;
    a.exclude_user = (unsigned)excl_user;
    a.exclude_kernel = (unsigned)excl_kernel;
    a.exclude_hv = (unsigned)excl_hv;
    return (int)syscall(SYS_perf_event_open, &a, pid, cpu, -1, 0);
}

static u64 perf_read(struct worker *w, int fd, const char *what)
{
    u64 v = 0;
    if (read(fd, &v, sizeof v) != sizeof v)
        fail(w, "read of the %s counter: %s", what, strerror(errno));
    return v;
}

static int g_have_inst; /* the PMU implements INST_RETIRED */

#define LOOP 200000ULL /* spin_loop(LOOP): 2 * LOOP + 1 instructions, plus the call */

static void *pmu_thread(void *arg)
{
    struct worker *w = arg;
    int cyc = perf_open(PERF_COUNT_HW_CPU_CYCLES, 0, 1, 1, 0, -1);
    int ins = g_have_inst ? perf_open(PERF_COUNT_HW_INSTRUCTIONS, 0, 1, 1, 0, -1) : -1;
    int el2 = perf_open(PERF_COUNT_HW_CPU_CYCLES, 1, 1, 0, 0, -1);
    if (cyc < 0 || el2 < 0 || (g_have_inst && ins < 0)) {
        fail(w, "perf_event_open (%s counter): %s", cyc < 0 ? "user cycles" : el2 < 0 ? "EL2 cycles" : "instructions",
             strerror(errno));
        return NULL;
    }
    u64 last_c = perf_read(w, cyc, "cycles"), last_i = ins >= 0 ? perf_read(w, ins, "instructions") : 0;
    u64 el2_start = perf_read(w, el2, "EL2 cycles");
    u64 min_i = UINT64_MAX, max_i = 0, total_c = 0;
    double end = now() + g_seconds;
    while (!w->failed && now() < end) {
        double t0 = now();
        u64 c0 = perf_read(w, cyc, "cycles"), i0 = ins >= 0 ? perf_read(w, ins, "instructions") : 0;
        spin_loop(LOOP);
        u64 i1 = ins >= 0 ? perf_read(w, ins, "instructions") : 0, c1 = perf_read(w, cyc, "cycles");
        double ns = (now() - t0) * 1e9;
        if (c0 < last_c || c1 < c0)
            fail(w, "cycles went backwards: %" PRIu64 " after %" PRIu64 " after %" PRIu64, c1, c0, last_c);
        else if (c1 == c0)
            fail(w, "no cycles counted over a loop of %llu iterations", LOOP);
        else if ((double)(c1 - c0) > 10 * ns + 1e6)
            fail(w, "%" PRIu64 " cycles counted in %.0f ns: more than 10 per ns", c1 - c0, ns);
        if (ins >= 0) {
            u64 d = i1 - i0;
            if (i0 < last_i || i1 < i0)
                fail(w, "instructions went backwards: %" PRIu64 " after %" PRIu64 " after %" PRIu64, i1, i0, last_i);
            else if (d < 2 * LOOP || d > 2 * LOOP + 2 * LOOP / 50)
                fail(w, "%" PRIu64 " instructions counted for a loop of %llu, want within 2 %%", d, 2 * LOOP + 1);
            min_i = d < min_i ? d : min_i;
            max_i = d > max_i ? d : max_i;
        }
        total_c += c1 - c0;
        last_c = c1;
        last_i = i1;
        /* Busy without system calls, then system calls, then idle: each
         * gives the hypervisor exits of its own (timer interrupts, WFI). */
        if (w->rounds % 8 == 0) {
            for (int k = 0; k < 2000; k++)
                syscall(SYS_getppid);
            struct timespec ts = {0, 2000000};
            nanosleep(&ts, NULL);
        }
        w->rounds++;
    }
    u64 el2_n = perf_read(w, el2, "EL2 cycles") - el2_start;
    if (el2_n != 0)
        fail(w, "%" PRIu64 " cycles counted at EL2 by this task (exclude_user=1 exclude_kernel=1 exclude_hv=0): "
             "the guest's PMU counts the hypervisor", el2_n);
    if (ins >= 0)
        snprintf(w->info, sizeof w->info, "%" PRIu64 " user cycles, %" PRIu64 "-%" PRIu64 " instructions per loop of %llu",
                 total_c, min_i, max_i, 2 * LOOP + 1);
    else
        snprintf(w->info, sizeof w->info, "%" PRIu64 " user cycles", total_c);
    close(cyc);
    close(el2);
    if (ins >= 0)
        close(ins);
    return NULL;
}

/* Does the PMU implement event NAME (INST_RETIRED: QEMU's TCG has it only
 * with -icount)? Linux lists in sysfs only the common events PMCEID0/1
 * name. With NAME "": is there an armv8 PMU at all? */
static int pmu_has_event(const char *name)
{
    char pat[128];
    glob_t g;
    snprintf(pat, sizeof pat, "/sys/bus/event_source/devices/armv8*/events/%s", name);
    int found = glob(pat, 0, NULL, &g) == 0 && g.gl_pathc > 0;
    globfree(&g);
    return found;
}

/* EL2 cycles counted on this CPU (all tasks, idle included) while this
 * thread sleeps: an idle vCPU sits in WFI, which exits to the hypervisor. */
static int pmu_cpu_wide(void)
{
    int cpu = pinned_cpu();
    if (cpu < 0) {
        line("note", "pmu-el2-idle", "not pinned to one CPU: per-CPU EL2 count not checked");
        return 0;
    }
    int fd = perf_open(PERF_COUNT_HW_CPU_CYCLES, 1, 1, 0, -1, cpu);
    if (fd < 0) {
        line("not ok", "pmu-el2-idle", "perf_event_open(cpu=%d, EL2 cycles): %s", cpu, strerror(errno));
        return 1;
    }
    u64 a = 0, b = 0;
    int ok = read(fd, &a, sizeof a) == sizeof a;
    for (int k = 0; k < 20; k++) {
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    ok = ok && read(fd, &b, sizeof b) == sizeof b;
    close(fd);
    if (!ok)
        line("not ok", "pmu-el2-idle", "read of the per-CPU counter: %s", strerror(errno));
    else if (b != a)
        line("not ok", "pmu-el2-idle",
             "%" PRIu64 " cycles counted at EL2 on CPU %d over 200 ms of sleep: the guest's PMU counts the hypervisor",
             b - a, cpu);
    else
        line("ok", "pmu-el2-idle", "0 cycles at EL2 on CPU %d over 200 ms of sleep", cpu);
    return !ok || b != a;
}

/* ---- ids ----------------------------------------------------------------- */

#define READ_ID(name)                                                                                          \
    do {                                                                                                       \
        u64 v;                                                                                                 \
        __asm__ volatile("mrs %0, " #name : "=r"(v));                                                          \
        printf("FEATSTRESS idreg " #name "=%#018" PRIx64 "\n", v);                                              \
    } while (0)

static int ids(void)
{
    if (!(getauxval(AT_HWCAP) & HWCAP_CPUID)) {
        line("skip", "ids", "the kernel reports no HWCAP_CPUID: EL0 cannot read the ID registers");
        return 0;
    }
    READ_ID(id_aa64pfr0_el1);
    READ_ID(id_aa64pfr1_el1);
    READ_ID(id_aa64isar0_el1);
    READ_ID(id_aa64isar1_el1);
    READ_ID(id_aa64isar2_el1);
    READ_ID(s3_0_c0_c4_4); /* ID_AA64ZFR0_EL1 */
    return 0;
}

/* ---- main ---------------------------------------------------------------- */

static void usage(void)
{
    fputs("usage: featstress [-t SECONDS] [-j THREADS] pac|sve|pmu | featstress ids\n", stderr);
    exit(2);
}

int main(int argc, char **argv)
{
    int i = 1;
    for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
        if (strcmp(argv[i], "-t") == 0)
            g_seconds = atof(argv[i + 1]);
        else if (strcmp(argv[i], "-j") == 0)
            g_threads = atoi(argv[i + 1]);
        else
            usage();
    }
    if (i + 1 != argc || !(g_seconds > 0) || g_threads < 1 || g_threads > 64)
        usage();
    g_test = argv[i];
    setvbuf(stdout, NULL, _IOLBF, 0);
    set_cpu_name();
    if (strcmp(g_test, "ids") == 0)
        return ids();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fatal;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGILL, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);

    void *(*fn)(void *);
    const char *name = g_test;
    if (strcmp(g_test, "pac") == 0) {
        if (!pac_available())
            return 0;
        fn = pac_thread;
    } else if (strcmp(g_test, "sve") == 0) {
        g_sve = (getauxval(AT_HWCAP) & HWCAP_SVE) != 0;
        if (!g_sve) {
            name = "neon";
            line("note", "sve", "the kernel reports no HWCAP_SVE: checking the AdvSIMD V registers only");
        }
        fn = simd_thread;
    } else if (strcmp(g_test, "pmu") == 0) {
        if (!pmu_has_event("")) {
            line("not ok", "pmu", "the kernel has no PMU (no /sys/bus/event_source/devices/armv8*): "
                 "no PMU in the device tree, or its probe failed");
            line("not ok", "pmu-el2-idle", "no PMU");
            return 1;
        }
        g_have_inst = pmu_has_event("inst_retired");
        if (!g_have_inst)
            line("note", "pmu", "the PMU does not implement INST_RETIRED (no inst_retired event in sysfs): "
                 "instruction counts not checked");
        fn = pmu_thread;
    } else {
        usage();
    }
    g_test = name;

    struct worker *ws = calloc((size_t)g_threads, sizeof *ws);
    for (int t = 0; t < g_threads; t++) {
        ws[t].index = t;
        if (pthread_create(&ws[t].th, NULL, fn, &ws[t]) != 0) {
            line("not ok", name, "pthread_create failed");
            return 1;
        }
    }
    u64 rounds = 0;
    int failed = 0;
    for (int t = 0; t < g_threads; t++) {
        pthread_join(ws[t].th, NULL);
        rounds += ws[t].rounds;
        if (ws[t].failed && !failed)
            line("not ok", name, "%s", ws[t].why);
        failed |= ws[t].failed;
    }
    if (!failed) {
        char extra[64] = "";
        if (strcmp(name, "pac") == 0)
            snprintf(extra, sizeof extra, ", pacga=%#" PRIx64, g_pac_ga);
        line("ok", name, "%d threads, %" PRIu64 " rounds in %g s, %s%s", g_threads, rounds, g_seconds, ws[0].info,
             extra);
    }
    if (strcmp(name, "pmu") == 0)
        failed |= pmu_cpu_wide();
    free(ws);
    return failed;
}
