#include "harness.h"

#include "atomic.h"
#include "cpu.h"
#include "fdt.h"
#include "hw.h"
#include "smp.h"

namespace {

struct Result {
    bool failed;
    bool skipped;
    char msg[200];
};

struct Barrier {
    u32 arrived;
    u32 gen;
};

constinit Result g_results[MAX_CPUS]{};
constinit Barrier g_barrier{};
constinit u32 g_participants;
constexpr u64 kTestTimeoutUs = 120'000'000;

void record(Result& r, const char* fmt, va_list ap) { fmt_vsnprintf(r.msg, sizeof r.msg, fmt, ap); }

} // namespace

bool Test::check(bool ok, const char* fmt, ...)
{
    Result& r = g_results[id];
    if (!ok && !r.failed) {
        r.failed = true;
        va_list ap;
        va_start(ap, fmt);
        record(r, fmt, ap);
        va_end(ap);
    }
    return ok;
}

void Test::skip(const char* fmt, ...)
{
    Result& r = g_results[id];
    r.skipped = true;
    va_list ap;
    va_start(ap, fmt);
    record(r, fmt, ap);
    va_end(ap);
}

bool Test::failed() const { return g_results[id].failed; }

bool Test::sync()
{
    const u32 n = static_cast<u32>(__builtin_popcount(cpus));
    const u32 gen = load_acquire(g_barrier.gen);
    if (fetch_add(g_barrier.arrived, 1u) + 1 == n) {
        store_relaxed(g_barrier.arrived, 0u);
        store_release(g_barrier.gen, gen + 1);
        kick(cpus & ~(1u << id));
        return true;
    }
    return check(wait_until([&] { return load_acquire(g_barrier.gen) != gen; }, 10'000'000),
                 "barrier: the other vCPUs did not arrive within 10 s");
}

void metric(const char* name, const char* fmt, ...)
{
    char value[160];
    va_list ap;
    va_start(ap, fmt);
    fmt_vsnprintf(value, sizeof value, fmt, ap);
    va_end(ap);
    print("HWTEST metric %s %s\n", name, value);
}

void harness_execute(const TestCase& tc)
{
    const u32 id = this_cpu().id;
    fault_reset();
    Test t(id, g_participants);
    tc.fn(t);
    Fault f;
    while (take_fault(f))
        t.check(false, "unexpected exception: ESR_EL1=0x%lx (EC 0x%lx) ELR_EL1=0x%lx FAR_EL1=0x%lx", f.esr,
                esr::ec(f.esr), f.elr, f.far);
}

namespace {

// Equal but for the numbers in them (counts, addresses, times).
bool same_shape(const char* a, const char* b)
{
    auto skip_number = [](const char*& s) {
        if (s[0] == '0' && s[1] == 'x')
            s += 2;
        while ((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f'))
            s++;
    };
    for (;;) {
        if (*a >= '0' && *a <= '9' && *b >= '0' && *b <= '9') {
            skip_number(a);
            skip_number(b);
            continue;
        }
        if (*a != *b)
            return false;
        if (!*a)
            return true;
        a++;
        b++;
    }
}

struct Totals {
    u32 passed;
    u32 failed;
};

void report(const TestCase& tc, u32 cpus, Totals& tot)
{
    u32 failed = 0, skipped = 0, first = MAX_CPUS;
    for (u32 i = 0; i < MAX_CPUS; i++) {
        if (!(cpus & (1u << i)))
            continue;
        if (g_results[i].failed) {
            failed |= 1u << i;
            if (first == MAX_CPUS)
                first = i;
        } else if (g_results[i].skipped) {
            skipped |= 1u << i;
        }
    }
    if (failed) {
        tot.failed++;
        char list[24];
        usize n = 0;
        for (u32 i = 0; i < MAX_CPUS; i++)
            if (failed & (1u << i))
                n += static_cast<usize>(fmt_snprintf(list + n, sizeof list - n, "%s%u", n ? "," : "", i));
        print("HWTEST not ok - %s: vCPU%u: %s [fails on vCPU %s]\n", tc.name, first, g_results[first].msg, list);
        for (u32 i = first + 1; i < MAX_CPUS; i++)
            if ((failed & (1u << i)) && !same_shape(g_results[i].msg, g_results[first].msg))
                print("HWTEST detail - %s: vCPU%u: %s\n", tc.name, i, g_results[i].msg);
    } else if (skipped == cpus) {
        print("HWTEST skip - %s: %s\n", tc.name, g_results[__builtin_ctz(cpus)].msg);
    } else {
        tot.passed++;
        print("HWTEST ok - %s\n", tc.name);
    }
}

void run_one(const TestCase& tc, Totals& tot)
{
    const u32 online = load_acquire(g_online);
    if (tc.cpus & ~online) {
        tot.failed++;
        print("HWTEST not ok - %s: needs vCPUs mask 0x%x, but only 0x%x are running (lost earlier)\n", tc.name,
              tc.cpus, online);
        return;
    }
    const u32 cpus = tc.cpus;
    memset(g_results, 0, sizeof g_results);
    g_barrier = Barrier{};
    g_participants = cpus;
    u64 gen[MAX_CPUS] = {};
    for (u32 i = 1; i < MAX_CPUS; i++) {
        if (cpus & (1u << i)) {
            Cpu& c = g_cpu[i];
            c.job = &tc;
            gen[i] = c.job_gen + 1;
            store_release(c.job_gen, gen[i]);
        }
    }
    kick(cpus & ~1u);
    if (cpus & 1u)
        harness_execute(tc);
    auto all_done = [&] {
        for (u32 i = 1; i < MAX_CPUS; i++)
            if ((cpus & (1u << i)) && load_acquire(g_cpu[i].done_gen) != gen[i])
                return false;
        return true;
    };
    if (!wait_until(all_done, kTestTimeoutUs)) {
        for (u32 i = 1; i < MAX_CPUS; i++) {
            if ((cpus & (1u << i)) && load_acquire(g_cpu[i].done_gen) != gen[i]) {
                __atomic_fetch_and(&g_online, ~(1u << i), __ATOMIC_ACQ_REL);
                if (!g_results[i].failed) {
                    g_results[i].failed = true;
                    fmt_snprintf(g_results[i].msg, sizeof g_results[i].msg, "did not finish within %lu s",
                           kTestTimeoutUs / 1000000);
                }
            }
        }
    }
    report(tc, cpus, tot);
}

} // namespace

namespace {

// `hwtest=a,b*` in /chosen/bootargs (make run APPEND=...) picks the tests
// to run: exact names, or prefixes ending in '*'. The first test, which
// starts the other vCPUs, always runs.
class Selection {
public:
    Selection()
    {
        FdtProp args;
        if (!fdt_find_child("chosen", "bootargs", args) || args.len == 0)
            return;
        const char* s = reinterpret_cast<const char*>(args.data);
        for (const char* p = s; *p; p++) {
            if ((p == s || p[-1] == ' ') && starts_with(p, "hwtest=")) {
                list_ = p + 7;
                break;
            }
        }
    }
    bool active() const { return list_ != nullptr; }
    bool wants(const char* name) const
    {
        if (!list_)
            return true;
        for (const char* item = list_; *item && *item != ' ';) {
            const char* e = item;
            while (*e && *e != ' ' && *e != ',')
                e++;
            if (matches(item, e, name))
                return true;
            item = *e == ',' ? e + 1 : e;
        }
        return false;
    }
    void print_list() const
    {
        char buf[120];
        usize n = 0;
        for (const char* p = list_; *p && *p != ' ' && n + 1 < sizeof buf; p++)
            buf[n++] = *p;
        buf[n] = '\0';
        print("HWTEST info running only hwtest=%s (from the kernel command line)\n", buf);
    }

private:
    static bool starts_with(const char* s, const char* prefix)
    {
        while (*prefix)
            if (*s++ != *prefix++)
                return false;
        return true;
    }
    // [b, e) is one item: a name, or a prefix followed by '*'.
    static bool matches(const char* b, const char* e, const char* name)
    {
        for (; b < e; b++, name++) {
            if (*b == '*' && b + 1 == e)
                return true;
            if (*b != *name)
                return false;
        }
        return *name == '\0';
    }
    const char* list_ = nullptr;
};

} // namespace

void harness_run_all()
{
    Totals tot{};
    const Selection sel;
    if (sel.active())
        sel.print_list();
    for (u32 i = 0; i < kNumTests; i++)
        if (i == 0 || sel.wants(kTests[i].name))
            run_one(kTests[i], tot);
    print("HWTEST done %u passed, %u failed\n", tot.passed, tot.failed);
}
