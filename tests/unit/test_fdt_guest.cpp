#include <gtest/gtest.h>

#include <libfdt.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fdt/guest_dtb.h"

namespace {

std::vector<char> load_qemu_dtb()
{
    std::ifstream f(std::string(TEST_DATA_DIR) + "/qemu-virt-gicv3-smp4.dtb", std::ios::binary);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

constexpr u64 kMpidr[4] = {0x0, 0x1, 0x2, 0x3};

GuestDtbConfig default_config()
{
    return GuestDtbConfig{
        .ram_base = 0x40000000,
        .ram_size = 0x30000000,
        .nvcpus = 4,
        .vcpu_mpidr = kMpidr,
        .gicd_base = 0x8000000,
        .gicd_size = 0x10000,
        .gicr_base = 0x80a0000,
        .gicr_size = 4 * 0x20000,
        .uart_base = 0x9000000,
        .initrd_start = 0x48000000,
        .initrd_end = 0x48001000,
        .bootargs = "console=ttyAMA0 earlycon",
    };
}

std::string get_str(const void* fdt, int node, const char* name)
{
    int len = 0;
    auto* p = static_cast<const char*>(fdt_getprop(fdt, node, name, &len));
    return p && len > 0 ? std::string(p, static_cast<size_t>(len - 1)) : std::string("<missing>");
}

std::vector<u64> get_reg(const void* fdt, int node)
{
    int len = 0;
    auto* p = static_cast<const fdt64_t*>(fdt_getprop(fdt, node, "reg", &len));
    std::vector<u64> out;
    for (int i = 0; p && i < len / 8; i++)
        out.push_back(fdt64_ld(p + i));
    return out;
}

u64 get_u64(const void* fdt, int node, const char* name)
{
    int len = 0;
    auto* p = static_cast<const fdt64_t*>(fdt_getprop(fdt, node, name, &len));
    return p && len == 8 ? fdt64_ld(p) : ~u64{0};
}

std::vector<std::string> root_children(const void* fdt)
{
    std::vector<std::string> names;
    int node;
    fdt_for_each_subnode(node, fdt, 0) names.emplace_back(fdt_get_name(fdt, node, nullptr));
    return names;
}

class GuestDtb : public ::testing::Test {
protected:
    void SetUp() override
    {
        host_ = load_qemu_dtb();
        ASSERT_FALSE(host_.empty());
        out_.assign(64 * 1024, 0);
    }

    void build(const GuestDtbConfig& cfg)
    {
        const int rc = build_guest_dtb(host_.data(), out_.data(), out_.size(), cfg);
        ASSERT_EQ(rc, 0) << guest_dtb_strerror(rc);
        ASSERT_EQ(fdt_check_full(g(), out_.size()), 0);
    }

    const void* g() const { return out_.data(); }
    int node(const char* path) const { return fdt_path_offset(g(), path); }

    std::vector<char> host_;
    std::vector<char> out_;
};

TEST_F(GuestDtb, CpusArePsciVcpus)
{
    build(default_config());
    const int cpus = node("/cpus");
    ASSERT_GE(cpus, 0);
    EXPECT_EQ(fdt_address_cells(g(), cpus), 1);
    EXPECT_EQ(fdt_size_cells(g(), cpus), 0);
    std::vector<u32> regs;
    int n = 0, child;
    fdt_for_each_subnode(child, g(), cpus) {
        n++;
        EXPECT_EQ(get_str(g(), child, "device_type"), "cpu");
        EXPECT_EQ(get_str(g(), child, "enable-method"), "psci");
        EXPECT_EQ(get_str(g(), child, "compatible"), "arm,cortex-a57");
        int len = 0;
        auto* reg = static_cast<const fdt32_t*>(fdt_getprop(g(), child, "reg", &len));
        ASSERT_EQ(len, 4);
        regs.push_back(fdt32_ld(reg));
    }
    EXPECT_EQ(n, 4); // no cpu-map or other leftovers either
    EXPECT_EQ(regs, (std::vector<u32>{0, 1, 2, 3}));
    EXPECT_GE(node("/cpus/cpu@3"), 0);
    EXPECT_EQ(node("/cpus/cpu-map"), -FDT_ERR_NOTFOUND);
}

TEST_F(GuestDtb, PsciUsesHvc)
{
    build(default_config());
    const int psci = node("/psci");
    ASSERT_GE(psci, 0);
    EXPECT_EQ(get_str(g(), psci, "method"), "hvc");
    EXPECT_EQ(fdt_node_check_compatible(g(), psci, "arm,psci-1.0"), 0);
}

TEST_F(GuestDtb, OneMemoryNodeWithGuestRange)
{
    GuestDtbConfig cfg = default_config();
    cfg.ram_base = 0x50000000;
    build(cfg);
    int count = 0, mem = -1;
    for (int n = fdt_node_offset_by_prop_value(g(), -1, "device_type", "memory", 7); n >= 0;
         n = fdt_node_offset_by_prop_value(g(), n, "device_type", "memory", 7)) {
        count++;
        mem = n;
    }
    ASSERT_EQ(count, 1);
    EXPECT_EQ(get_reg(g(), mem), (std::vector<u64>{0x50000000, 0x30000000}));
    EXPECT_STREQ(fdt_get_name(g(), mem, nullptr), "memory@50000000");
}

TEST_F(GuestDtb, GicHasGuestRedistributorsAndNoIts)
{
    build(default_config());
    const int gic = fdt_node_offset_by_compatible(g(), -1, "arm,gic-v3");
    ASSERT_GE(gic, 0);
    EXPECT_EQ(get_reg(g(), gic), (std::vector<u64>{0x8000000, 0x10000, 0x80a0000, 0x80000}));
    int len = 0;
    auto* rr = static_cast<const fdt32_t*>(fdt_getprop(g(), gic, "#redistributor-regions", &len));
    ASSERT_EQ(len, 4);
    EXPECT_EQ(fdt32_ld(rr), 1u);
    EXPECT_EQ(fdt_first_subnode(g(), gic), -FDT_ERR_NOTFOUND);
    EXPECT_EQ(fdt_node_offset_by_compatible(g(), -1, "arm,gic-v3-its"), -FDT_ERR_NOTFOUND);
    EXPECT_EQ(fdt_getprop(g(), gic, "interrupt-controller", nullptr) != nullptr, true);
    // Everything still routes interrupts to the GIC.
    auto* ip = static_cast<const fdt32_t*>(fdt_getprop(g(), 0, "interrupt-parent", &len));
    ASSERT_EQ(len, 4);
    EXPECT_EQ(fdt_node_offset_by_phandle(g(), fdt32_ld(ip)), gic);
}

TEST_F(GuestDtb, TimerUartAndClockKept)
{
    build(default_config());
    EXPECT_GE(fdt_node_offset_by_compatible(g(), -1, "arm,armv8-timer"), 0);
    const int uart = fdt_node_offset_by_compatible(g(), -1, "arm,pl011");
    ASSERT_GE(uart, 0);
    EXPECT_EQ(get_reg(g(), uart), (std::vector<u64>{0x9000000, 0x1000}));
    int len = 0;
    auto* clocks = static_cast<const fdt32_t*>(fdt_getprop(g(), uart, "clocks", &len));
    ASSERT_EQ(len, 8);
    for (int i = 0; i < 2; i++) {
        const int clk = fdt_node_offset_by_phandle(g(), fdt32_ld(clocks + i));
        ASSERT_GE(clk, 0);
        EXPECT_EQ(fdt_node_check_compatible(g(), clk, "fixed-clock"), 0);
    }
}

TEST_F(GuestDtb, ChosenDescribesGuestBoot)
{
    build(default_config());
    const int chosen = node("/chosen");
    ASSERT_GE(chosen, 0);
    EXPECT_EQ(get_str(g(), chosen, "bootargs"), "console=ttyAMA0 earlycon");
    EXPECT_EQ(get_str(g(), chosen, "stdout-path"), "/pl011@9000000");
    EXPECT_GE(node(get_str(g(), chosen, "stdout-path").c_str()), 0);
    EXPECT_EQ(get_u64(g(), chosen, "linux,initrd-start"), 0x48000000u);
    EXPECT_EQ(get_u64(g(), chosen, "linux,initrd-end"), 0x48001000u);
    EXPECT_NE(fdt_getprop(g(), chosen, "rng-seed", nullptr), nullptr);
    EXPECT_NE(fdt_getprop(g(), chosen, "kaslr-seed", nullptr), nullptr);
}

TEST_F(GuestDtb, OnlyGuestDevicesRemain)
{
    build(default_config());
    EXPECT_EQ(root_children(g()), (std::vector<std::string>{"psci", "memory@40000000", "pl011@9000000",
                                                            "intc@8000000", "cpus", "timer",
                                                            "apb-pclk", "chosen"}));
    for (const char* compat : {"virtio,mmio", "pci-host-ecam-generic", "cfi-flash", "qemu,fw-cfg-mmio",
                               "arm,pl031", "arm,pl061", "arm,armv8-pmuv3", "gpio-keys", "qemu,platform"})
        EXPECT_EQ(fdt_node_offset_by_compatible(g(), -1, compat), -FDT_ERR_NOTFOUND) << compat;
    EXPECT_EQ(fdt_num_mem_rsv(g()), 0);
    // Packed: much smaller than the host tree.
    EXPECT_LT(fdt_totalsize(g()), fdt_totalsize(host_.data()) / 2);
}

TEST_F(GuestDtb, TwoVcpus)
{
    GuestDtbConfig cfg = default_config();
    const u64 mpidr[2] = {0x0, 0x100};
    cfg.nvcpus = 2;
    cfg.vcpu_mpidr = mpidr;
    cfg.gicr_size = 2 * 0x20000;
    build(cfg);
    int n = 0, child;
    fdt_for_each_subnode(child, g(), node("/cpus")) n++;
    EXPECT_EQ(n, 2);
    EXPECT_GE(node("/cpus/cpu@0"), 0);
    EXPECT_GE(node("/cpus/cpu@100"), 0);
    const int gic = fdt_node_offset_by_compatible(g(), -1, "arm,gic-v3");
    EXPECT_EQ(get_reg(g(), gic)[3], 0x40000u);
}

TEST_F(GuestDtb, WideMpidrUsesTwoCells)
{
    GuestDtbConfig cfg = default_config();
    const u64 mpidr[1] = {u64{1} << 32};
    cfg.nvcpus = 1;
    cfg.vcpu_mpidr = mpidr;
    build(cfg);
    EXPECT_EQ(fdt_address_cells(g(), node("/cpus")), 2);
    EXPECT_EQ(get_reg(g(), node("/cpus/cpu@100000000")), (std::vector<u64>{u64{1} << 32}));
    EXPECT_EQ(fdt_boot_cpuid_phys(g()), 0u);
}

TEST_F(GuestDtb, NoInitrd)
{
    GuestDtbConfig cfg = default_config();
    cfg.initrd_start = cfg.initrd_end = 0;
    cfg.bootargs = nullptr;
    build(cfg);
    const int chosen = node("/chosen");
    EXPECT_EQ(fdt_getprop(g(), chosen, "linux,initrd-start", nullptr), nullptr);
    EXPECT_EQ(fdt_getprop(g(), chosen, "linux,initrd-end", nullptr), nullptr);
    EXPECT_EQ(get_str(g(), chosen, "bootargs"), "");
}

TEST_F(GuestDtb, MovedUartRenamedAndAliasFollows)
{
    // Give the host tree aliases: one to the UART, one to a deleted device.
    std::vector<char> host(host_.size() + 1024);
    ASSERT_EQ(fdt_open_into(host_.data(), host.data(), static_cast<int>(host.size())), 0);
    const int aliases = fdt_add_subnode(host.data(), 0, "aliases");
    ASSERT_GE(aliases, 0);
    ASSERT_EQ(fdt_setprop_string(host.data(), aliases, "serial0", "/pl011@9000000"), 0);
    ASSERT_EQ(fdt_setprop_string(host.data(), aliases, "rtc0", "/pl031@9010000"), 0);
    ASSERT_EQ(fdt_setprop_string(host.data(), aliases, "flash0", "/flash@0"), 0);
    host_ = host;

    GuestDtbConfig cfg = default_config();
    cfg.uart_base = 0x9100000;
    build(cfg);
    EXPECT_EQ(get_str(g(), node("/chosen"), "stdout-path"), "/pl011@9100000");
    const int a = node("/aliases");
    ASSERT_GE(a, 0);
    EXPECT_EQ(get_str(g(), a, "serial0"), "/pl011@9100000");
    EXPECT_EQ(fdt_getprop(g(), a, "rtc0", nullptr), nullptr);
    EXPECT_EQ(fdt_getprop(g(), a, "flash0", nullptr), nullptr);
    EXPECT_EQ(get_reg(g(), node("/pl011@9100000"))[0], 0x9100000u);
}

TEST_F(GuestDtb, InvalidConfigRejected)
{
    GuestDtbConfig cfg = default_config();
    cfg.nvcpus = 0;
    EXPECT_EQ(build_guest_dtb(host_.data(), out_.data(), out_.size(), cfg), -FDT_ERR_BADVALUE);
    cfg.nvcpus = 5;
    EXPECT_EQ(build_guest_dtb(host_.data(), out_.data(), out_.size(), cfg), -FDT_ERR_BADVALUE);
    cfg = default_config();
    cfg.initrd_end = cfg.initrd_start - 1;
    EXPECT_EQ(build_guest_dtb(host_.data(), out_.data(), out_.size(), cfg), -FDT_ERR_BADVALUE);
    cfg = default_config();
    const u64 dup[2] = {1, 1};
    cfg.nvcpus = 2;
    cfg.vcpu_mpidr = dup;
    EXPECT_LT(build_guest_dtb(host_.data(), out_.data(), out_.size(), cfg), 0);
    EXPECT_STRNE(guest_dtb_strerror(-FDT_ERR_BADVALUE), "");
}

TEST_F(GuestDtb, MissingGicIsAnError)
{
    std::vector<char> host(host_.size());
    ASSERT_EQ(fdt_open_into(host_.data(), host.data(), static_cast<int>(host.size())), 0);
    ASSERT_EQ(fdt_del_node(host.data(), fdt_path_offset(host.data(), "/intc@8000000")), 0);
    const int rc = build_guest_dtb(host.data(), out_.data(), out_.size(), default_config());
    EXPECT_EQ(rc, -FDT_ERR_NOTFOUND);
    EXPECT_NE(std::string(guest_dtb_strerror(rc)).find("gic-v3"), std::string::npos);
}

TEST_F(GuestDtb, SmallBuffersFailCleanlyNeverOverflow)
{
    // Exactly sized heap buffers so ASan catches any write past out_size;
    // a canary region checks the same without ASan.
    constexpr size_t kCanary = 64;
    bool some_failed = false, some_succeeded = false;
    for (size_t size = 0; size <= 12 * 1024; size += 128) {
        std::vector<unsigned char> buf(size + kCanary, 0xa5);
        const int rc = build_guest_dtb(host_.data(), buf.data(), size, default_config());
        if (rc == 0) {
            some_succeeded = true;
            EXPECT_LE(fdt_totalsize(buf.data()), size);
        } else {
            some_failed = true;
            EXPECT_EQ(rc, -FDT_ERR_NOSPACE) << "size " << size;
        }
        for (size_t i = size; i < buf.size(); i++)
            ASSERT_EQ(buf[i], 0xa5) << "overflow at size " << size;
    }
    EXPECT_TRUE(some_failed);
    EXPECT_TRUE(some_succeeded);
    std::vector<unsigned char> tiny(16, 0);
    EXPECT_EQ(build_guest_dtb(host_.data(), tiny.data(), tiny.size(), default_config()), -FDT_ERR_NOSPACE);
}

TEST_F(GuestDtb, RejectsInvalidHostTree)
{
    std::vector<char> junk(1024, 0);
    EXPECT_LT(build_guest_dtb(junk.data(), out_.data(), out_.size(), default_config()), 0);
}

GuestDtbConfig disk_config()
{
    GuestDtbConfig cfg = default_config();
    cfg.virtio_base = 0x0a000000;
    cfg.virtio_size = 0x200;
    cfg.virtio_spi = 48;
    return cfg;
}

TEST_F(GuestDtb, NoDiskNoVirtioNode)
{
    build(default_config());
    EXPECT_EQ(fdt_node_offset_by_compatible(g(), -1, "virtio,mmio"), -FDT_ERR_NOTFOUND);
}

TEST_F(GuestDtb, DiskGetsOneVirtioMmioNode)
{
    build(disk_config());
    const int n = node("/virtio_mmio@a000000");
    ASSERT_GE(n, 0);
    EXPECT_EQ(fdt_node_offset_by_compatible(g(), -1, "virtio,mmio"), n);
    EXPECT_EQ(fdt_node_offset_by_compatible(g(), n, "virtio,mmio"), -FDT_ERR_NOTFOUND);  // only one
    EXPECT_EQ(get_str(g(), n, "compatible"), "virtio,mmio");
    EXPECT_EQ(get_reg(g(), n), (std::vector<u64>{0x0a000000, 0x200}));
    int len = 0;
    auto* irq = static_cast<const fdt32_t*>(fdt_getprop(g(), n, "interrupts", &len));
    ASSERT_NE(irq, nullptr);
    ASSERT_EQ(len, 12);
    EXPECT_EQ(fdt32_ld(irq + 0), 0u);   // GIC_SPI
    EXPECT_EQ(fdt32_ld(irq + 1), 16u);  // INTID 48
    EXPECT_EQ(fdt32_ld(irq + 2), 1u);   // edge, rising
    EXPECT_NE(fdt_getprop(g(), n, "dma-coherent", &len), nullptr);
    EXPECT_EQ(len, 0);
    // Its interrupt parent is the root's: the GIC the guest keeps.
    int plen = 0;
    auto* parent = static_cast<const fdt32_t*>(fdt_getprop(g(), 0, "interrupt-parent", &plen));
    ASSERT_NE(parent, nullptr);
    EXPECT_EQ(fdt_node_offset_by_phandle(g(), fdt32_ld(parent)),
              fdt_node_offset_by_compatible(g(), -1, "arm,gic-v3"));
    // Everything else is as without a disk.
    EXPECT_GE(node("/pl011@9000000"), 0);
    EXPECT_EQ(root_children(g()).size(), 9u);
}

TEST_F(GuestDtb, DiskNodeFollowsConfiguredAddress)
{
    GuestDtbConfig cfg = disk_config();
    cfg.virtio_base = 0x0a000e00;
    cfg.virtio_spi = 79;
    build(cfg);
    const int n = node("/virtio_mmio@a000e00");
    ASSERT_GE(n, 0);
    EXPECT_EQ(get_reg(g(), n)[0], 0x0a000e00u);
    auto* irq = static_cast<const fdt32_t*>(fdt_getprop(g(), n, "interrupts", nullptr));
    ASSERT_NE(irq, nullptr);
    EXPECT_EQ(fdt32_ld(irq + 1), 47u);
}

TEST_F(GuestDtb, DiskWithPpiRejected)
{
    GuestDtbConfig cfg = disk_config();
    cfg.virtio_spi = 27;
    EXPECT_EQ(build_guest_dtb(host_.data(), out_.data(), out_.size(), cfg), -FDT_ERR_BADVALUE);
}

// Found by the fdt_guest fuzzer: an INTID past the SPIs (1020 and up) went
// into the node as SPI n - 32, which no GICv3 has.
TEST_F(GuestDtb, DiskBeyondTheSpisRejected)
{
    GuestDtbConfig cfg = disk_config();
    for (u32 intid : {1020u, 0xffff'ffffu}) {
        cfg.virtio_spi = intid;
        EXPECT_EQ(build_guest_dtb(host_.data(), out_.data(), out_.size(), cfg), -FDT_ERR_BADVALUE) << intid;
    }
    cfg.virtio_spi = 1019;
    build(cfg);
}

TEST_F(GuestDtb, DiskSmallBuffersFailCleanly)
{
    constexpr size_t kCanary = 64;
    for (size_t size = 4 * 1024; size <= 12 * 1024; size += 64) {
        std::vector<unsigned char> buf(size + kCanary, 0xa5);
        const int rc = build_guest_dtb(host_.data(), buf.data(), size, disk_config());
        EXPECT_TRUE(rc == 0 || rc == -FDT_ERR_NOSPACE) << rc;
        for (size_t i = size; i < buf.size(); i++)
            ASSERT_EQ(buf[i], 0xa5) << "overflow at size " << size;
    }
}

// Found by the fdt_guest fuzzer: a reservation map with no terminating
// entry inside the blob passed fdt_check_header(), and fdt_open_into() then
// used fdt_num_mem_rsv()'s error as a count: a memmove of -112 bytes.
TEST_F(GuestDtb, UnterminatedReservationMapIsRejected)
{
    std::vector<u64> host(64, 0);
    ASSERT_EQ(fdt_create(host.data(), 512), 0);
    ASSERT_EQ(fdt_add_reservemap_entry(host.data(), 0x1000, 0x1000), 0);
    ASSERT_EQ(fdt_finish_reservemap(host.data()), 0);
    ASSERT_EQ(fdt_begin_node(host.data(), ""), 0);
    ASSERT_EQ(fdt_end_node(host.data()), 0);
    ASSERT_EQ(fdt_finish(host.data()), 0);
    // The terminator (second entry) gets a size: the map now runs into the
    // structure block and off the end of the blob.
    auto* bytes = reinterpret_cast<unsigned char*>(host.data());
    bytes[fdt_off_mem_rsvmap(host.data()) + 16 + 15] = 1;
    ASSERT_EQ(fdt_check_header(host.data()), 0);
    ASSERT_LT(fdt_num_mem_rsv(host.data()), 0);
    EXPECT_LT(build_guest_dtb(host.data(), out_.data(), out_.size(), default_config()), 0);
}

// Found by the fdt_guest fuzzer: a host tree whose header is sound but whose
// structure block is not (here a property name outside the strings block)
// was copied into the guest's tree, which the guest kernel would then parse.
TEST_F(GuestDtb, MalformedHostStructureIsRejected)
{
    auto* bytes = reinterpret_cast<unsigned char*>(host_.data());
    const u32 struct_off = fdt_off_dt_struct(host_.data());
    // The last property of the tree: its nameoff lies 8 bytes after its tag.
    u32 last_prop = 0;
    for (int off = 0, next = 0;; off = next) {
        const u32 tag = fdt_next_tag(host_.data(), off, &next);
        if (tag == FDT_END)
            break;
        if (tag == FDT_PROP)
            last_prop = static_cast<u32>(off);
    }
    ASSERT_NE(last_prop, 0u);
    const u32 at = struct_off + last_prop + 8;
    bytes[at] = bytes[at + 1] = 0x7f;
    ASSERT_EQ(fdt_check_header(host_.data()), 0);
    ASSERT_LT(fdt_check_full(host_.data(), host_.size()), 0);
    EXPECT_LT(build_guest_dtb(host_.data(), out_.data(), out_.size(), default_config()), 0);
}

// Found by the fdt_guest fuzzer: the UART clock provider's #clock-cells was
// added to the walk index as an int, so 0x80000000 sent it a long way
// before the property (and 0xffffffff made it spin on one phandle).
TEST_F(GuestDtb, HugeClockCellsIsRejected)
{
    const int uart = fdt_node_offset_by_compatible(host_.data(), -1, "arm,pl011");
    ASSERT_GE(uart, 0);
    auto* clocks = static_cast<const fdt32_t*>(fdt_getprop(host_.data(), uart, "clocks", nullptr));
    ASSERT_NE(clocks, nullptr);
    const int clk = fdt_node_offset_by_phandle(host_.data(), fdt32_ld(clocks));
    ASSERT_GE(clk, 0);
    for (u32 cells : {0x8000'0000u, 0xffff'ffffu, 2u}) {
        ASSERT_EQ(fdt_setprop_inplace_u32(host_.data(), clk, "#clock-cells", cells), 0);
        EXPECT_EQ(build_guest_dtb(host_.data(), out_.data(), out_.size(), default_config()), -FDT_ERR_BADNCELLS)
            << cells;
    }
}

} // namespace
