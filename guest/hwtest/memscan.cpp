// hwmode=memscan: the reading half of the memory isolation check. Another
// VM fills its RAM with 16-byte records {key, counter}; this VM is told the
// key's bitwise complement on its console and looks for the key in every
// 8-byte word of its own RAM. The key itself is only ever in a register
// here, so a hit can only be a word that came from outside.
//
// Commands, one per console line; each answers with one MEMSCAN line:
//   scan <~key>          (16 hex digits) count the key's words in all of RAM
//   control <~key>       write records of that key over 4 MiB of own RAM,
//                        scan, erase them: the scanner's positive control
//   probe <lo> <hi> <step>   load from every step-th IPA of [lo, hi) outside
//                        own RAM, and store to the first of each 2 MiB:
//                        each must be an abort (EC 0x25, FSC 0x10), not data
//   off                  SYSTEM_OFF
#include "console.h"
#include "cpu.h"
#include "hw.h"
#include "modes.h"
#include "psci.h"

namespace {

RamRange g_ram;

// Where the control writes its records: above the image, stacks and DTB
// (kGuestLayout puts the DTB at +126 MiB), inside the smallest VM.
constexpr u64 kControlOffset = 160 * MiB;
constexpr u64 kControlSize = 4 * MiB;

struct ScanResult {
    u64 pages, hits, hit_pages, first, in_control;
};

// `inverted` is the key's complement: the key is formed in a register and
// never stored.
[[gnu::noinline]] ScanResult scan(u64 inverted)
{
    const u64 key = ~inverted;
    ScanResult r{};
    r.first = ~u64{0};
    const u64 ctl_lo = g_ram.base + kControlOffset, ctl_hi = ctl_lo + kControlSize;
    for (u64 page = g_ram.base; page < g_ram.base + g_ram.size; page += 4096) {
        const volatile u64* w = reinterpret_cast<const volatile u64*>(page);
        u64 n = 0;
        for (u32 i = 0; i < 512; i++)
            n += w[i] == key;
        r.pages++;
        if (!n)
            continue;
        r.hits += n;
        r.hit_pages++;
        if (page >= ctl_lo && page < ctl_hi)
            r.in_control += n;
        if (r.first == ~u64{0})
            r.first = page;
    }
    return r;
}

void print_scan(const char* what, const ScanResult& r)
{
    print("MEMSCAN %s pages=%lu bytes=%lu hits=%lu hit_pages=%lu in_control=%lu first=0x%lx\n", what, r.pages,
          r.pages * 4096, r.hits, r.hit_pages, r.in_control, r.first == ~u64{0} ? 0 : r.first);
}

void control(u64 inverted)
{
    volatile u64* p = reinterpret_cast<volatile u64*>(g_ram.base + kControlOffset);
    const u64 words = kControlSize / 8;
    for (u64 i = 0; i < words; i += 2) {
        p[i] = ~inverted;
        p[i + 1] = i / 2;
    }
    asm volatile("dsb ish" ::: "memory");
    const ScanResult r = scan(inverted);
    print_scan("control", r);
    print("MEMSCAN control written=%lu\n", words / 2);
    for (u64 i = 0; i < words; i++)
        p[i] = 0;
}

// One access through the probe window: 0 if it faulted with a synchronous
// external abort, 1 if it returned (data), 2 if it faulted otherwise.
struct Probe {
    u64 accesses, aborts, data, other, first_data, first_other_esr;
    void note(u64 ipa, int kind, u64 esr)
    {
        accesses++;
        if (kind == 0) {
            aborts++;
        } else if (kind == 1) {
            if (!data++)
                first_data = ipa;
        } else if (!other++) {
            first_other_esr = esr;
        }
    }
};

int classify(bool store, u64& esr_out)
{
    Fault f;
    if (!take_fault(f))
        return 1;
    esr_out = f.esr;
    const bool ok = esr::ec(f.esr) == esr::kEcDabtCur && esr::fsc(f.esr) == esr::kFscSyncExternal &&
                    esr::wnr(f.esr) == store && faults_pending() == 0;
    return ok ? 0 : 2;
}

void probe(u64 lo, u64 hi, u64 step)
{
    Probe loads{}, stores{};
    u64 skipped = 0;
    for (u64 ipa = lo; ipa < hi; ipa += step) {
        if (ipa >= g_ram.base && ipa < g_ram.base + g_ram.size) {
            skipped++;
            continue;
        }
        const uptr va = probe_window(ipa);
        u64 esr = 0;
        fault_reset();
        u64 v = 0;
        asm volatile("ldr %0, [%1]" : "=r"(v) : "r"(va) : "memory");
        loads.note(ipa, classify(false, esr), esr);
        if ((ipa & (2 * MiB - 1)) < step) {
            fault_reset();
            asm volatile("str %0, [%1]" ::"r"(u64{0x15015015015015ull}), "r"(va) : "memory");
            stores.note(ipa, classify(true, esr), esr);
        }
        (void)v;
    }
    fault_reset();
    print("MEMSCAN probe lo=0x%lx hi=0x%lx step=0x%lx loads=%lu load_aborts=%lu load_data=%lu load_other=%lu "
          "stores=%lu store_aborts=%lu store_done=%lu store_other=%lu skipped_own_ram=%lu first_data=0x%lx "
          "other_esr=0x%lx\n",
          lo, hi, step, loads.accesses, loads.aborts, loads.data, loads.other, stores.accesses, stores.aborts,
          stores.data, stores.other, skipped, loads.data ? loads.first_data : stores.first_data,
          loads.other ? loads.first_other_esr : stores.first_other_esr);
}

// Whether line s starts with the word `name`; if so, moves s past it.
bool command(const char*& s, const char* name)
{
    const char* p = s;
    while (*name && *p == *name)
        p++, name++;
    if (*name || (*p && *p != ' '))
        return false;
    s = p;
    return true;
}

} // namespace

void memscan_main()
{
    g_ram = guest_ram();
    print("MEMSCAN ready ram=0x%lx size=0x%lx pages=%lu\n", g_ram.base, g_ram.size, g_ram.size / 4096);
    char line[160];
    for (;;) {
        read_line(line, sizeof line);
        const char* s = line;
        u64 a = 0, b = 0, c = 0;
        if (command(s, "scan") && next_number(s, a, true)) {
            print_scan("scan", scan(a));
        } else if (command(s, "control") && next_number(s, a, true)) {
            control(a);
        } else if (command(s, "probe") && next_number(s, a) && next_number(s, b) && next_number(s, c) && c >= 8 &&
                   (c & 7) == 0) {
            probe(a, b, c);
        } else if (command(s, "off")) {
            print("MEMSCAN off\n");
            psci::system_off();
        } else {
            print("MEMSCAN error unknown command (scan <~key>, control <~key>, probe <lo> <hi> <step>, off)\n");
        }
    }
}
