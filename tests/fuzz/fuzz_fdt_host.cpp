// The host DTB parser (parse_host_platform) over any blob whose header fits
// the input. Invariants: it fails with a message or succeeds with a
// platform the hypervisor can use: 1..kMaxPcpus CPUs, RAM of non-zero size,
// valid GIC INTIDs for the UART and every virtio slot (non-empty, at most
// kMaxVirtio) and bootargs that are a NUL-terminated string inside the blob.
#include "fdt/host_platform.h"
#include "fdt_input.h"

extern "C" int LLVMFuzzerTestOneInput(const u8* data, usize size)
{
    fuzz::Input in(data, size);
    fuzz::Dtb dtb;
    if (!fuzz::take_dtb(in, dtb))
        return 0;
    HostPlatform hp;
    const char* err = "unset";
    const bool ok = parse_host_platform(dtb.data(), hp, &err);
    if (!ok) {
        FUZZ_CHECK(err != nullptr && err[0] != 0);
        return 0;
    }
    FUZZ_CHECK(err == nullptr);
    FUZZ_CHECK(hp.ncpus >= 1 && hp.ncpus <= kMaxPcpus);
    FUZZ_CHECK(hp.ram_size != 0);
    FUZZ_CHECK(hp.uart_intid >= 16 && hp.uart_intid < 1020);
    FUZZ_CHECK(hp.bootargs[0] == 0 || dtb.holds_string(hp.bootargs));
    FUZZ_CHECK(hp.nvirtio <= HostPlatform::kMaxVirtio);
    for (u32 i = 0; i < hp.nvirtio; i++)
        FUZZ_CHECK(hp.virtio[i].size != 0 && hp.virtio[i].intid >= 16 && hp.virtio[i].intid < 1020);
    return 0;
}
