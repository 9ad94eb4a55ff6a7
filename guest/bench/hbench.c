/*
 * hbench: guest-side micro-benchmarks for `make bench` (scripts/bench.py).
 *
 * Built static for aarch64 (aarch64-linux-gnu-gcc -static -O2), installed as
 * /bin/hbench in the guest initramfs. Every result is one line
 *
 *     BENCH name=<metric> [key=value ...] iters=<n> value=<number>
 *
 * which the host parses; errors are one line "BENCH-ERROR <text>" and exit
 * status 1. Each test runs either a fixed number of iterations (-n N) or
 * until a time budget has passed (-t SECONDS, the default: 1 s).
 *
 *   hbench ipi CPU_A CPU_B   futex ping-pong between two threads pinned to
 *                            CPU_A and CPU_B: microseconds per round trip
 *   hbench ipi-busy CPU_A CPU_B
 *                            smp_call_function_single from CPU_A to CPU_B,
 *                            which a spinning thread keeps busy, the caller
 *                            busy-waiting for the answer (hbench_exit.ko):
 *                            median and 90th percentile in microseconds
 *   hbench spin N [N ...]    integer kernel on N threads pinned to CPUs
 *                            0..N-1, no syscalls in the loop: Mops/s total
 *   hbench exit hvc          null hypercall (PSCI_VERSION through the kernel's
 *                            PSCI conduit) from EL1: nanoseconds per call
 *   hbench exit mmio         32-bit read of GICD_IIDR, an emulated device
 *                            register, from EL1: nanoseconds per read
 *                            (both through hbench_exit.ko, /proc/hbench_exit:
 *                            EL0 cannot issue HVC; load it with insmod first)
 *   hbench svc               getppid() round trips (SVC from EL0 to the
 *                            guest kernel and back): nanoseconds per call
 *   hbench disk DEV OFF LEN  sequential O_DIRECT writes (each pass ended by
 *                            fdatasync), then reads, of LEN MiB at OFF MiB
 *                            of block device DEV in 1 MiB requests: MB/s;
 *                            the first pass read back is checked
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long g_iters;        /* -n: fixed iteration count, or 0 */
static double g_seconds = 1.0; /* -t: time budget when -n is not given */

static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("BENCH-ERROR ", stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
    fflush(stdout);
    exit(1);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0)
        fail("cannot pin to CPU %d: %s", cpu, strerror(errno));
}

static int parse_cpu(const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < 0 || v >= CPU_SETSIZE)
        fail("not a CPU number: %s", s);
    return (int)v;
}

/* True while a loop that has done `done` iterations since `start` should go on. */
static int more(long done, double start)
{
    if (g_iters > 0)
        return done < g_iters;
    return now() - start < g_seconds;
}

/* ---- ipi: futex ping-pong ------------------------------------------------ */

/* 0: A's turn, 1: B's turn, 2: stop. Each side blocks in FUTEX_WAIT (no
 * spinning), so every hand-over wakes an idle CPU: an IPI each way. */
static _Atomic int g_turn;
static int g_cpu_b;

static long futex(_Atomic int *addr, int op, int val)
{
    return syscall(SYS_futex, (int *)addr, op | FUTEX_PRIVATE_FLAG, val, NULL, NULL, 0);
}

static void *ipi_partner(void *arg)
{
    (void)arg;
    pin(g_cpu_b);
    for (;;) {
        int t;
        while ((t = atomic_load(&g_turn)) == 0)
            futex(&g_turn, FUTEX_WAIT, 0);
        if (t == 2)
            return NULL;
        atomic_store(&g_turn, 0);
        futex(&g_turn, FUTEX_WAKE, 1);
    }
}

static void round_trip(void)
{
    atomic_store(&g_turn, 1);
    futex(&g_turn, FUTEX_WAKE, 1);
    while (atomic_load(&g_turn) == 1)
        futex(&g_turn, FUTEX_WAIT, 1);
}

static void cmd_ipi(int argc, char **argv)
{
    if (argc != 2)
        fail("usage: hbench ipi CPU_A CPU_B");
    int a = parse_cpu(argv[0]);
    g_cpu_b = parse_cpu(argv[1]);
    if (a == g_cpu_b)
        fail("ipi needs two different CPUs");
    pin(a);
    pthread_t th;
    if (pthread_create(&th, NULL, ipi_partner, NULL) != 0)
        fail("pthread_create failed");
    /* Warm-up: the partner is pinned and both paths are faulted in. */
    for (int i = 0; i < 20; i++)
        round_trip();
    long n = 0;
    double start = now();
    while (more(n, start)) {
        round_trip();
        n++;
    }
    double el = now() - start;
    atomic_store(&g_turn, 2);
    futex(&g_turn, FUTEX_WAKE, 1);
    pthread_join(th, NULL);
    printf("BENCH name=ipi_rtt_us cpus=%d,%d iters=%ld value=%.3f\n", a, g_cpu_b, n, el * 1e6 / (double)n);
}

/* ---- spin: parallel integer throughput ----------------------------------- */

#define SPIN_CHUNK 20000
#define SPIN_MAX_THREADS 64

struct spin_arg {
    int cpu;
    uint64_t ops;
    double seconds;
    uint64_t sink;
};

static _Atomic int g_stop;
static pthread_barrier_t g_barrier;

/* xorshift64* step: a serial dependency chain of shifts, xors and a
 * multiply that the compiler can neither vectorise nor fold. */
static inline uint64_t mix(uint64_t x)
{
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x * 0x2545F4914F6CDD1DULL;
}

static void *spin_thread(void *p)
{
    struct spin_arg *a = p;
    pin(a->cpu);
    uint64_t x = 0x9E3779B97F4A7C15ULL ^ (uint64_t)a->cpu, ops = 0;
    pthread_barrier_wait(&g_barrier);
    double start = now();
    do {
        for (int i = 0; i < SPIN_CHUNK; i++)
            x = mix(x);
        ops += SPIN_CHUNK;
    } while (!atomic_load_explicit(&g_stop, memory_order_relaxed) &&
             (g_iters == 0 || ops < (uint64_t)g_iters));
    a->seconds = now() - start;
    a->ops = ops;
    a->sink = x;
    return NULL;
}

static void spin_once(int nthreads)
{
    struct spin_arg args[SPIN_MAX_THREADS];
    pthread_t th[SPIN_MAX_THREADS];
    atomic_store(&g_stop, 0);
    pthread_barrier_init(&g_barrier, NULL, (unsigned)nthreads + 1);
    for (int i = 0; i < nthreads; i++) {
        memset(&args[i], 0, sizeof args[i]);
        args[i].cpu = i;
        if (pthread_create(&th[i], NULL, spin_thread, &args[i]) != 0)
            fail("pthread_create failed");
    }
    pthread_barrier_wait(&g_barrier);
    if (g_iters == 0) {
        struct timespec ts = {(time_t)g_seconds, (long)((g_seconds - (double)(time_t)g_seconds) * 1e9)};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
        }
        atomic_store(&g_stop, 1);
    }
    double rate = 0;
    uint64_t ops = 0, sink = 0;
    for (int i = 0; i < nthreads; i++) {
        pthread_join(th[i], NULL);
        rate += (double)args[i].ops / args[i].seconds;
        ops += args[i].ops;
        sink ^= args[i].sink;
    }
    pthread_barrier_destroy(&g_barrier);
    printf("BENCH name=spin_mops threads=%d iters=%" PRIu64 " check=%04x value=%.3f\n", nthreads, ops,
           (unsigned)(sink & 0xffff), rate / 1e6);
}

static void cmd_spin(int argc, char **argv)
{
    if (argc < 1)
        fail("usage: hbench spin NTHREADS [NTHREADS ...]");
    for (int i = 0; i < argc; i++) {
        int n = parse_cpu(argv[i]);
        if (n < 1 || n > SPIN_MAX_THREADS)
            fail("bad thread count %s", argv[i]);
        spin_once(n);
        fflush(stdout);
    }
}

/* ---- exit: null hypercall and emulated MMIO read (hbench_exit.ko) ------- */

#define EXIT_PROC "/proc/hbench_exit"
#define EXIT_MODULE "/lib/hbench/hbench_exit.ko"
#define EXIT_MAX_BATCHES 4096

struct exit_batch {
    char conduit[8];
    int cpu;
    unsigned long long iters, ticks, freq;
    unsigned long result;
};

/* Hands the module one request and reads its one-line answer into buf. */
static void module_call(const char *req, char *buf, size_t size)
{
    int fd = open(EXIT_PROC, O_RDWR);
    if (fd < 0)
        fail("open %s: %s (load the module first: insmod %s)", EXIT_PROC, strerror(errno), EXIT_MODULE);
    size_t len = strlen(req);
    if (write(fd, req, len) != (ssize_t)len)
        fail("%s: '%s': %s", EXIT_PROC, req, strerror(errno));
    ssize_t r = pread(fd, buf, size - 1, 0);
    close(fd);
    if (r <= 0)
        fail("%s: no result", EXIT_PROC);
    buf[r] = '\0';
}

/* One batch of `n` calls inside the module, on the calling CPU. */
static void exit_batch(const char *op, long n, struct exit_batch *b)
{
    char req[32], buf[256];
    snprintf(req, sizeof req, "%s %ld", op, n);
    module_call(req, buf, sizeof buf);
    if (sscanf(buf, "op=%*s conduit=%7s cpu=%d iters=%llu ticks=%llu freq=%llu result=0x%lx", b->conduit, &b->cpu,
               &b->iters, &b->ticks, &b->freq, &b->result) != 6 ||
        b->iters != (unsigned long long)n || b->freq == 0)
        fail("%s: unexpected result '%s'", EXIT_PROC, strtok(buf, "\n"));
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Batches of about 2 ms each (interrupts are off inside the module while a
 * chunk runs) until the time budget is spent; the result is the median of
 * the batches' ns per call, so a batch that a timer interrupt or the
 * hypervisor's scheduler stretched does not count. With -n: one batch. */
static void cmd_exit(int argc, char **argv)
{
    if (argc != 1 || (strcmp(argv[0], "hvc") != 0 && strcmp(argv[0], "mmio") != 0))
        fail("usage: hbench exit hvc|mmio");
    const char *op = argv[0];
    static double per_call[EXIT_MAX_BATCHES];
    struct exit_batch b;
    pin(0);
    long n = g_iters > 0 ? g_iters : 64;
    unsigned long long iters = 0;
    int k = 0;
    double start = now();
    do {
        exit_batch(op, n, &b);
        double ns = (double)b.ticks * 1e9 / (double)b.freq / (double)n;
        per_call[k++] = ns;
        iters += (unsigned long long)n;
        if (g_iters == 0 && ns > 0) {
            long want = (long)(2e6 / ns);
            n = want < 16 ? 16 : want > 200000 ? 200000 : want;
        }
    } while (g_iters == 0 && k < EXIT_MAX_BATCHES && now() - start < g_seconds);
    qsort(per_call, (size_t)k, sizeof per_call[0], cmp_double);
    double med = k % 2 ? per_call[k / 2] : (per_call[k / 2 - 1] + per_call[k / 2]) / 2;
    if (strcmp(op, "hvc") == 0)
        printf("BENCH name=hvc_ns call=PSCI_VERSION conduit=%s cpu=%d result=0x%lx batches=%d iters=%llu min=%.1f value=%.1f\n",
               b.conduit, b.cpu, b.result, k, iters, per_call[0], med);
    else
        printf("BENCH name=mmio_read_ns reg=GICD_IIDR cpu=%d result=0x%lx batches=%d iters=%llu min=%.1f value=%.1f\n",
               b.cpu, b.result, k, iters, per_call[0], med);
}

/* ---- ipi-busy: a busy-waited IPI to a busy CPU (hbench_exit.ko) ---------- */

static _Atomic int g_spinner; /* 0: starting, 1: spinning on its CPU, 2: stop */

static void *busy_spinner(void *arg)
{
    pin(*(int *)arg);
    atomic_store(&g_spinner, 1);
    while (atomic_load_explicit(&g_spinner, memory_order_relaxed) == 1) {
    }
    return NULL;
}

static void cmd_ipi_busy(int argc, char **argv)
{
    if (argc != 2)
        fail("usage: hbench ipi-busy CPU_A CPU_B");
    int a = parse_cpu(argv[0]), b = parse_cpu(argv[1]);
    if (a == b)
        fail("ipi-busy needs two different CPUs");
    pin(a);
    pthread_t th;
    if (pthread_create(&th, NULL, busy_spinner, &b) != 0)
        fail("pthread_create failed");
    while (atomic_load(&g_spinner) == 0)
        sched_yield();
    /* The module times rounds until -n of them are done or -t has passed.
     * A failure exits the process, spinner and all. */
    long rounds = g_iters > 0 ? g_iters : 100000;
    long ms = g_iters > 0 ? 600000 : (long)(g_seconds * 1000);
    char req[64], buf[256];
    snprintf(req, sizeof req, "ipi %ld %d %ld", rounds, b, ms < 1 ? 1 : ms);
    module_call(req, buf, sizeof buf);
    atomic_store(&g_spinner, 2);
    pthread_join(th, NULL);
    unsigned long long n, ticks, freq, hits, med, p90, mn, mx;
    int cpu, target;
    if (sscanf(buf, "op=ipi conduit=%*s cpu=%d iters=%llu ticks=%llu freq=%llu result=0x%llx target=%d median=%llu "
               "p90=%llu min=%llu max=%llu", &cpu, &n, &ticks, &freq, &hits, &target, &med, &p90, &mn, &mx) != 10 ||
        freq == 0 || cpu != a || target != b)
        fail("%s: unexpected result '%s'", EXIT_PROC, strtok(buf, "\n"));
    if (hits != n)
        fail("the function ran %llu times on CPU %d for %llu calls", hits, b, n);
    double us = 1e6 / (double)freq;
    printf("BENCH name=ipi_busy_us cpus=%d,%d rounds=%llu min=%.1f max=%.1f p90=%.1f value=%.1f\n", a, b, n,
           (double)mn * us, (double)mx * us, (double)p90 * us, (double)med * us);
    printf("BENCH name=ipi_busy_p90_us cpus=%d,%d rounds=%llu value=%.1f\n", a, b, n, (double)p90 * us);
}

/* ---- svc: the floor ------------------------------------------------------ */

static void cmd_svc(int argc, char **argv)
{
    (void)argv;
    if (argc != 0)
        fail("usage: hbench svc");
    pin(0);
    long n = 0, sum = 0;
    double start = now();
    while (more(n, start)) {
        for (int i = 0; i < 100; i++)
            sum += syscall(SYS_getppid);
        n += 100;
    }
    double el = now() - start;
    printf("BENCH name=svc_ns call=getppid ppid=%ld iters=%ld value=%.1f\n", sum / n, n, el * 1e9 / (double)n);
}

/* ---- disk: sequential throughput of a block device ---------------------- */

#define DISK_BS (1L << 20)

static long parse_mib(const char *s, const char *what)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < 0 || v > (1L << 20))
        fail("not a size in MiB for %s: %s", what, s);
    return v;
}

/* Pass `pass` writes block i as bytes (pass, i, offset): a read of the
 * first pass that finds anything else is data the device lost or moved. */
static void fill(unsigned char *buf, long pass, long block)
{
    for (long k = 0; k < DISK_BS; k += 8) {
        uint64_t v = ((uint64_t)pass << 48) ^ ((uint64_t)block << 24) ^ (uint64_t)k;
        memcpy(buf + k, &v, sizeof v);
    }
}

/* One pass over [off, off + len) MiB; returns the bytes moved. */
static long disk_pass(int fd, int write_pass, long off, long len, unsigned char *buf, long pass,
                      unsigned char *want)
{
    for (long b = 0; b < len; b++) {
        off_t pos = (off_t)(off + b) * DISK_BS;
        if (write_pass) {
            fill(buf, pass, b);
            if (pwrite(fd, buf, DISK_BS, pos) != DISK_BS)
                fail("write at %ld MiB: %s", off + b, strerror(errno));
        } else {
            if (pread(fd, buf, DISK_BS, pos) != DISK_BS)
                fail("read at %ld MiB: %s", off + b, strerror(errno));
            if (want) {
                fill(want, pass, b);
                if (memcmp(buf, want, DISK_BS) != 0)
                    fail("block at %ld MiB does not read back what was written", off + b);
            }
        }
    }
    if (write_pass && fdatasync(fd) != 0)
        fail("fdatasync: %s", strerror(errno));
    return len * DISK_BS;
}

static void cmd_disk(int argc, char **argv)
{
    if (argc != 3)
        fail("usage: hbench disk DEVICE OFFSET_MIB LENGTH_MIB");
    const char *dev = argv[0];
    long off = parse_mib(argv[1], "OFFSET_MIB"), len = parse_mib(argv[2], "LENGTH_MIB");
    if (len == 0)
        fail("LENGTH_MIB must be at least 1");
    int fd = open(dev, O_RDWR | O_DIRECT);
    if (fd < 0)
        fail("cannot open %s with O_DIRECT: %s", dev, strerror(errno));
    unsigned char *buf, *want;
    if (posix_memalign((void **)&buf, 4096, DISK_BS) != 0 || posix_memalign((void **)&want, 4096, DISK_BS) != 0)
        fail("out of memory");
    long last = 0; /* the write pass the disk holds */
    for (int write_pass = 1; write_pass >= 0; write_pass--) {
        long n = 0, bytes = 0;
        double start = now();
        while (more(n, start)) {
            /* The first read pass checks what the last write pass left. */
            bytes += disk_pass(fd, write_pass, off, len, buf, write_pass ? n : last,
                               write_pass || n ? NULL : want);
            n++;
        }
        double el = now() - start;
        if (write_pass)
            last = n - 1;
        printf("BENCH name=%s dev=%s off_mib=%ld len_mib=%ld bs=1M passes=%ld iters=%ld value=%.1f\n",
               write_pass ? "disk_write_mbs" : "disk_read_mbs", dev, off, len, n, bytes / DISK_BS,
               (double)bytes / 1e6 / el);
    }
    close(fd);
    free(buf);
    free(want);
}

static void usage(void)
{
    fputs("usage: hbench [-n ITERS | -t SECONDS] ipi CPU_A CPU_B | ipi-busy CPU_A CPU_B | spin N [N ...]"
          " | exit hvc|mmio | svc"
          " | disk DEVICE OFFSET_MIB LENGTH_MIB\n", stderr);
    exit(2);
}

int main(int argc, char **argv)
{
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (i + 1 >= argc)
            usage();
        if (strcmp(argv[i], "-n") == 0) {
            g_iters = atol(argv[++i]);
            if (g_iters <= 0)
                fail("-n needs a positive count");
        } else if (strcmp(argv[i], "-t") == 0) {
            g_seconds = atof(argv[++i]);
            if (!(g_seconds > 0))
                fail("-t needs a positive number of seconds");
        } else {
            usage();
        }
    }
    if (i >= argc)
        usage();
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *cmd = argv[i++];
    if (strcmp(cmd, "ipi") == 0)
        cmd_ipi(argc - i, argv + i);
    else if (strcmp(cmd, "ipi-busy") == 0)
        cmd_ipi_busy(argc - i, argv + i);
    else if (strcmp(cmd, "spin") == 0)
        cmd_spin(argc - i, argv + i);
    else if (strcmp(cmd, "exit") == 0)
        cmd_exit(argc - i, argv + i);
    else if (strcmp(cmd, "svc") == 0)
        cmd_svc(argc - i, argv + i);
    else if (strcmp(cmd, "disk") == 0)
        cmd_disk(argc - i, argv + i);
    else
        usage();
    return 0;
}
