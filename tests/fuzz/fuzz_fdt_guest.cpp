// The guest DTB builder (build_guest_dtb) over its inputs: a host DTB whose
// header fits the input, and a configuration (RAM, vCPU MPIDRs, GIC and
// UART bases, initrd range, bootargs, the virtio disk) with an output
// buffer of any size. Invariants: the result is 0 or a negative libfdt
// error; nothing is written past out_size (guard bytes); on success the
// output is a valid tree that fits, and when the host tree parses, the
// guest tree parses too and says what the configuration said (RAM, CPUs,
// GIC, UART, PSCI over HVC, bootargs, the disk).
#include <string>

#include "fdt/guest_dtb.h"
#include "fdt/host_platform.h"
#include "fdt_input.h"

namespace {

constexpr usize kGuard = 256;
constexpr u8 kGuardByte = 0xa5;

u64 address(fuzz::Input& in)
{
    switch (in.below(3)) {
    case 0: return u64{in.u16le()} << 16;
    case 1: return in.u32le();
    default: return in.u64le();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const u8* data, usize size)
{
    fuzz::Input in(data, size);
    GuestDtbConfig cfg{};
    u64 mpidr[kMaxVcpus + 1];
    cfg.ram_base = address(in);
    cfg.ram_size = address(in);
    cfg.nvcpus = in.below(kMaxVcpus + 2);
    for (u64& m : mpidr)
        m = in.flag() ? in.byte() : in.u64le() & 0xff'00ff'ffffull;
    cfg.vcpu_mpidr = in.below(16) ? mpidr : nullptr;
    cfg.gicd_base = address(in);
    cfg.gicd_size = in.u32le();
    cfg.gicr_base = address(in);
    cfg.gicr_size = in.u32le();
    cfg.uart_base = address(in);
    cfg.initrd_start = address(in);
    cfg.initrd_end = in.flag() ? cfg.initrd_start + in.u32le() : address(in);
    std::string args;
    for (u32 k = in.byte(); k; k--) {
        const char c = static_cast<char>(in.byte());
        if (c)
            args += c;
    }
    cfg.bootargs = in.below(8) ? args.c_str() : nullptr;
    if (in.flag()) {
        cfg.virtio_base = address(in);
        cfg.virtio_size = in.u16le();
        cfg.virtio_spi = in.below(4) ? 32 + in.below(988) : in.u32le();
    }
    const usize out_size = in.below(4) ? in.u16le() : in.below(0x2'0000);

    fuzz::Dtb host;
    if (!fuzz::take_dtb(in, host))
        return 0;
    std::vector<u64> store((out_size + kGuard + 7) / 8);
    u8* out = reinterpret_cast<u8*>(store.data());
    std::memset(out, kGuardByte, out_size + kGuard);

    const int rc = build_guest_dtb(host.data(), out, out_size, cfg);
    FUZZ_CHECK(rc <= 0);
    for (usize i = out_size; i < out_size + kGuard; i++)
        FUZZ_CHECK(out[i] == kGuardByte);
    FUZZ_CHECK(guest_dtb_strerror(rc) != nullptr);
    if (rc < 0)
        return 0;
    FUZZ_CHECK(fdt_check_full(out, out_size) == 0);
    FUZZ_CHECK(fdt_totalsize(out) <= out_size);

    HostPlatform hp;
    const char* err = nullptr;
    if (!parse_host_platform(host.data(), hp, &err))
        return 0;
    // The guest calls PSCI through HVC, which the host parser refuses (a
    // hypervisor at EL2 cannot): check it, then read the rest as the host's.
    const int psci = fdt_path_offset(out, "/psci") >= 0 ? fdt_path_offset(out, "/psci")
                                                         : fdt_node_offset_by_compatible(out, -1, "arm,psci-0.2");
    FUZZ_CHECK(psci >= 0);
    int mlen = 0;
    const char* method = static_cast<const char*>(fdt_getprop(out, psci, "method", &mlen));
    FUZZ_CHECK(method && mlen == 4 && std::memcmp(method, "hvc", 4) == 0);
    FUZZ_CHECK(fdt_setprop_inplace(out, psci, "method", "smc", 4) == 0);
    HostPlatform g;
    if (!parse_host_platform(out, g, &err)) {
        std::fprintf(stderr, "guest DTB does not parse: %s\n", err);
        FUZZ_CHECK(!"the guest DTB of a host DTB that parses parses");
    }
    FUZZ_CHECK(g.ram_base == cfg.ram_base && g.ram_size == cfg.ram_size);
    FUZZ_CHECK(g.ncpus == cfg.nvcpus);
    for (u32 i = 0; i < cfg.nvcpus; i++)
        FUZZ_CHECK(g.cpu_mpidr[i] == cfg.vcpu_mpidr[i]);
    FUZZ_CHECK(g.gicd_base == cfg.gicd_base && g.gicd_size == cfg.gicd_size);
    FUZZ_CHECK(g.gicr_base == cfg.gicr_base && g.gicr_size == cfg.gicr_size);
    FUZZ_CHECK(g.uart_base == cfg.uart_base && g.uart_size == hp.uart_size);
    FUZZ_CHECK(std::strcmp(g.bootargs, cfg.bootargs ? cfg.bootargs : "") == 0);
    // The configured disk is there. (Other "virtio,mmio" nodes can only be
    // host nodes the guest keeps, e.g. a UART whose compatible list also
    // names virtio,mmio: kept nodes pass through as they are.)
    if (cfg.virtio_size) {
        bool found = false;
        for (u32 i = 0; i < g.nvirtio; i++)
            found |= g.virtio[i].base == cfg.virtio_base && g.virtio[i].size == cfg.virtio_size &&
                     g.virtio[i].intid == cfg.virtio_spi;
        FUZZ_CHECK(found);
    }
    return 0;
}
