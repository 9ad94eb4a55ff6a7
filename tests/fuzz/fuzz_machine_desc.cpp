// The machine description (hyp/core/machine_desc.cpp): text from the host,
// which QEMU's loader places in memory, parsed at boot. Input: one byte for
// the number of pCPUs (1..4), the rest is the text, not NUL-terminated (the
// parser must stay inside `len`; ASan sees a read past the heap copy).
// Invariants: a refusal is one line naming what is wrong; an acceptance
// describes VMs the hypervisor can build: 1..kMaxVms, each with 1..kMaxVcpus
// vCPUs on existing pCPUs, 2 MiB aligned RAM of at least 256 MiB that wraps
// nowhere and overlaps no other VM's RAM or images, a non-empty kernel,
// NUL-terminated strings, distinct disks.
#include <cstring>
#include <vector>

#include "core/machine_desc.h"
#include "fuzz.h"

namespace {

bool overlap(u64 a, u64 an, u64 b, u64 bn) { return an && bn && a < b + bn && b < a + an; }

bool terminated(const char* s, usize cap) { return std::memchr(s, '\0', cap) != nullptr; }

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const u8* data, usize size)
{
    if (size < 1)
        return 0;
    const u32 npcpus = 1 + data[0] % kMaxPcpus;
    // An exact-size copy: a read past `len` is a heap overflow ASan reports.
    std::vector<char> text(data + 1, data + size);
    MachineDesc* d = new MachineDesc;
    std::memset(d, 0xa5, sizeof *d);
    char err[160];
    std::memset(err, 0x5a, sizeof err);
    const bool ok = parse_machine_desc(text.data(), text.size(), npcpus, *d, err, sizeof err);
    if (!ok) {
        FUZZ_CHECK(terminated(err, sizeof err));
        FUZZ_CHECK(err[0] != '\0');
        FUZZ_CHECK(std::strchr(err, '\n') == nullptr);
        FUZZ_CHECK(std::strncmp(err, "machine description", 19) == 0);
        delete d;
        return 0;
    }
    FUZZ_CHECK(is_machine_desc(text.data(), text.size()));
    FUZZ_CHECK(d->nvms >= 1 && d->nvms <= kMaxVms);
    for (u32 m = 0; m < d->nvms; m++) {
        const VmDesc& v = d->vm[m];
        FUZZ_CHECK(v.vcpus >= 1 && v.vcpus <= kMaxVcpus);
        for (u32 i = 0; i < v.vcpus; i++)
            FUZZ_CHECK(v.pcpu[i] < npcpus);
        FUZZ_CHECK(v.ram_pa % (2 * MiB) == 0 && v.ram_size % (2 * MiB) == 0 && v.ram_size >= 256 * MiB);
        FUZZ_CHECK(v.ram_pa + v.ram_size > v.ram_pa);
        FUZZ_CHECK(v.kernel_size > 0 && v.kernel_pa + v.kernel_size > v.kernel_pa);
        FUZZ_CHECK(v.initrd_pa + v.initrd_size >= v.initrd_pa);
        FUZZ_CHECK(!overlap(v.kernel_pa, v.kernel_size, v.ram_pa, v.ram_size));
        FUZZ_CHECK(!overlap(v.initrd_pa, v.initrd_size, v.ram_pa, v.ram_size));
        FUZZ_CHECK(terminated(v.disk, sizeof v.disk));
        FUZZ_CHECK(terminated(v.bootargs, sizeof v.bootargs));
        for (u32 n = 0; n < m; n++) {
            const VmDesc& o = d->vm[n];
            FUZZ_CHECK(!overlap(v.ram_pa, v.ram_size, o.ram_pa, o.ram_size));
            FUZZ_CHECK(!overlap(v.kernel_pa, v.kernel_size, o.ram_pa, o.ram_size));
            FUZZ_CHECK(!overlap(o.kernel_pa, o.kernel_size, v.ram_pa, v.ram_size));
            FUZZ_CHECK(!v.disk[0] || std::strcmp(v.disk, o.disk) != 0);
        }
    }
    delete d;
    return 0;
}
