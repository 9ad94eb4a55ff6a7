#include <gtest/gtest.h>

#include <libfdt.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fdt/host_platform.h"

namespace {

std::vector<char> load_qemu_dtb()
{
    std::ifstream f(std::string(TEST_DATA_DIR) + "/qemu-virt-gicv3-smp4.dtb", std::ios::binary);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

TEST(FdtHost, ParsesQemuVirt)
{
    const std::vector<char> dtb = load_qemu_dtb();
    ASSERT_FALSE(dtb.empty());
    HostPlatform hp{};
    const char* err = "unset";
    ASSERT_TRUE(parse_host_platform(dtb.data(), hp, &err)) << err;
    EXPECT_EQ(err, nullptr);

    EXPECT_EQ(hp.ram_base, 0x40000000u);
    EXPECT_EQ(hp.ram_size, 1088u * 1024 * 1024);
    ASSERT_EQ(hp.ncpus, 4u);
    for (u32 i = 0; i < 4; i++)
        EXPECT_EQ(hp.cpu_mpidr[i], i);
    EXPECT_EQ(hp.gicd_base, 0x8000000u);
    EXPECT_EQ(hp.gicd_size, 0x10000u);
    EXPECT_EQ(hp.gicr_base, 0x80a0000u);
    EXPECT_EQ(hp.gicr_size, 0xf60000u);
    EXPECT_EQ(hp.uart_base, 0x9000000u);
    EXPECT_EQ(hp.uart_size, 0x1000u);
    EXPECT_EQ(hp.uart_intid, 33u);
    EXPECT_STREQ(hp.bootargs, "mode=multi initrd_size=0x1000 -- console=ttyAMA0");
    // The 32 virtio-mmio slots, 0x200 apart from 0x0a000000, SPIs 16..47.
    ASSERT_EQ(hp.nvirtio, 32u);
    std::vector<bool> seen(32, false);
    for (u32 i = 0; i < hp.nvirtio; i++) {
        const VirtioSlot& v = hp.virtio[i];
        ASSERT_EQ(v.size, 0x200u);
        ASSERT_EQ((v.base - 0x0a000000u) % 0x200, 0u);
        const u64 slot = (v.base - 0x0a000000u) / 0x200;
        ASSERT_LT(slot, 32u);
        EXPECT_FALSE(seen[slot]);
        seen[slot] = true;
        EXPECT_EQ(v.intid, 48 + slot) << std::hex << v.base;
    }
}

TEST(FdtHost, RejectsGarbage)
{
    std::vector<char> junk(256, 0x5a);
    HostPlatform hp{};
    const char* err = nullptr;
    EXPECT_FALSE(parse_host_platform(junk.data(), hp, &err));
    ASSERT_NE(err, nullptr);
    EXPECT_NE(std::string(err).find("device tree"), std::string::npos);
}

// A writable copy of the QEMU tree with room for edits.
class FdtHostEdit : public ::testing::Test {
protected:
    void SetUp() override
    {
        const std::vector<char> dtb = load_qemu_dtb();
        buf_.resize(dtb.size() + 4096);
        ASSERT_EQ(fdt_open_into(dtb.data(), buf_.data(), static_cast<int>(buf_.size())), 0);
    }
    void* fdt() { return buf_.data(); }
    int node(const char* path) { return fdt_path_offset(fdt(), path); }

    std::string parse_error()
    {
        HostPlatform hp{};
        const char* err = nullptr;
        EXPECT_FALSE(parse_host_platform(fdt(), hp, &err));
        return err ? err : "";
    }

    std::vector<char> buf_;
};

TEST_F(FdtHostEdit, MissingGic)
{
    ASSERT_EQ(fdt_del_node(fdt(), node("/intc@8000000")), 0);
    EXPECT_NE(parse_error().find("gic-v3"), std::string::npos);
}

TEST_F(FdtHostEdit, MissingMemory)
{
    ASSERT_EQ(fdt_del_node(fdt(), node("/memory@40000000")), 0);
    EXPECT_NE(parse_error().find("memory"), std::string::npos);
}

TEST_F(FdtHostEdit, MissingUartAndDisabledUartIgnored)
{
    ASSERT_EQ(fdt_setprop_string(fdt(), node("/pl011@9000000"), "status", "disabled"), 0);
    EXPECT_NE(parse_error().find("pl011"), std::string::npos);
}

TEST_F(FdtHostEdit, MissingPsci)
{
    ASSERT_EQ(fdt_del_node(fdt(), node("/psci")), 0);
    EXPECT_NE(parse_error().find("psci"), std::string::npos);
}

TEST_F(FdtHostEdit, BadPsciMethod)
{
    ASSERT_EQ(fdt_setprop_string(fdt(), node("/psci"), "method", "magic"), 0);
    EXPECT_NE(parse_error().find("method"), std::string::npos);
}

// Issue 12 defect 10: the method was parsed, then SMC used whatever it said.
// Firmware that wants HVC cannot be called from EL2: refused at boot, with
// the fix, instead of a CPU_ON that traps to the hypervisor itself.
TEST_F(FdtHostEdit, HvcPsciMethodIsRefusedWithTheFix)
{
    ASSERT_EQ(fdt_setprop_string(fdt(), node("/psci"), "method", "hvc"), 0);
    const std::string e = parse_error();
    EXPECT_NE(e.find("\"hvc\""), std::string::npos) << e;
    EXPECT_NE(e.find("virtualization=on"), std::string::npos) << e;
}

TEST_F(FdtHostEdit, NoCpus)
{
    for (const char* p : {"/cpus/cpu@0", "/cpus/cpu@1", "/cpus/cpu@2", "/cpus/cpu@3"})
        ASSERT_EQ(fdt_del_node(fdt(), node(p)), 0);
    EXPECT_NE(parse_error().find("cpu"), std::string::npos);
}

TEST_F(FdtHostEdit, TooManyCpus)
{
    const int cpu = fdt_add_subnode(fdt(), node("/cpus"), "cpu@100");
    ASSERT_GE(cpu, 0);
    ASSERT_EQ(fdt_setprop_string(fdt(), cpu, "device_type", "cpu"), 0);
    ASSERT_EQ(fdt_setprop_u32(fdt(), cpu, "reg", 0x100), 0);
    EXPECT_NE(parse_error().find("kMaxPcpus"), std::string::npos);
}

TEST_F(FdtHostEdit, GicWithoutRedistributorRange)
{
    const int gic = node("/intc@8000000");
    const fdt64_t reg[2] = {cpu_to_fdt64(0x8000000), cpu_to_fdt64(0x10000)};
    ASSERT_EQ(fdt_setprop(fdt(), gic, "reg", reg, sizeof(reg)), 0);
    EXPECT_NE(parse_error().find("GICR"), std::string::npos);
}

TEST_F(FdtHostEdit, OneCellAddressesAndTwoCellMpidr)
{
    // Root #address-cells/#size-cells = 1: every reg under it shrinks.
    ASSERT_EQ(fdt_setprop_u32(fdt(), 0, "#address-cells", 1), 0);
    ASSERT_EQ(fdt_setprop_u32(fdt(), 0, "#size-cells", 1), 0);
    const fdt32_t mem[2] = {cpu_to_fdt32(0x80000000), cpu_to_fdt32(0x20000000)};
    ASSERT_EQ(fdt_setprop(fdt(), node("/memory@40000000"), "reg", mem, sizeof(mem)), 0);
    const fdt32_t gic[4] = {cpu_to_fdt32(0x2f000000), cpu_to_fdt32(0x10000), cpu_to_fdt32(0x2f100000),
                            cpu_to_fdt32(0x100000)};
    ASSERT_EQ(fdt_setprop(fdt(), node("/intc@8000000"), "reg", gic, sizeof(gic)), 0);
    const fdt32_t uart[2] = {cpu_to_fdt32(0x1c090000), cpu_to_fdt32(0x1000)};
    ASSERT_EQ(fdt_setprop(fdt(), node("/pl011@9000000"), "reg", uart, sizeof(uart)), 0);
    const fdt32_t irq[3] = {cpu_to_fdt32(0), cpu_to_fdt32(5), cpu_to_fdt32(4)};
    ASSERT_EQ(fdt_setprop(fdt(), node("/pl011@9000000"), "interrupts", irq, sizeof(irq)), 0);
    // /cpus with #address-cells = 2 (Aff3 in use).
    ASSERT_EQ(fdt_setprop_u32(fdt(), node("/cpus"), "#address-cells", 2), 0);
    for (u64 i = 0; i < 4; i++) {
        const std::string path = "/cpus/cpu@" + std::to_string(i);
        ASSERT_EQ(fdt_setprop_u64(fdt(), node(path.c_str()), "reg", (u64{1} << 32) | (i << 8)), 0);
    }

    HostPlatform hp{};
    const char* err = nullptr;
    ASSERT_TRUE(parse_host_platform(fdt(), hp, &err)) << err;
    EXPECT_EQ(hp.ram_base, 0x80000000u);
    EXPECT_EQ(hp.ram_size, 0x20000000u);
    EXPECT_EQ(hp.gicd_base, 0x2f000000u);
    EXPECT_EQ(hp.gicr_base, 0x2f100000u);
    EXPECT_EQ(hp.gicr_size, 0x100000u);
    EXPECT_EQ(hp.uart_base, 0x1c090000u);
    EXPECT_EQ(hp.uart_intid, 37u);
    ASSERT_EQ(hp.ncpus, 4u);
    EXPECT_EQ(hp.cpu_mpidr[3], (u64{1} << 32) | 0x300);
}

TEST_F(FdtHostEdit, PpiInterruptAndMissingBootargs)
{
    const fdt32_t irq[3] = {cpu_to_fdt32(1), cpu_to_fdt32(2), cpu_to_fdt32(4)};
    ASSERT_EQ(fdt_setprop(fdt(), node("/pl011@9000000"), "interrupts", irq, sizeof(irq)), 0);
    ASSERT_EQ(fdt_delprop(fdt(), node("/chosen"), "bootargs"), 0);
    HostPlatform hp{};
    const char* err = nullptr;
    ASSERT_TRUE(parse_host_platform(fdt(), hp, &err)) << err;
    EXPECT_EQ(hp.uart_intid, 18u);
    EXPECT_STREQ(hp.bootargs, "");
}

TEST_F(FdtHostEdit, FirstEnabledUartWins)
{
    // The console is the first enabled pl011 in document order...
    const int second = fdt_add_subnode(fdt(), 0, "pl011@9040000");
    ASSERT_GE(second, 0);
    ASSERT_EQ(fdt_setprop(fdt(), second, "compatible", "arm,pl011\0arm,primecell",
                          sizeof("arm,pl011\0arm,primecell")), 0);
    const fdt64_t reg[2] = {cpu_to_fdt64(0x9040000), cpu_to_fdt64(0x1000)};
    ASSERT_EQ(fdt_setprop(fdt(), second, "reg", reg, sizeof(reg)), 0);
    const fdt32_t irq[3] = {cpu_to_fdt32(0), cpu_to_fdt32(8), cpu_to_fdt32(4)};
    ASSERT_EQ(fdt_setprop(fdt(), second, "interrupts", irq, sizeof(irq)), 0);
    HostPlatform hp{};
    const char* err = nullptr;
    ASSERT_TRUE(parse_host_platform(fdt(), hp, &err)) << err;
    // (fdt_add_subnode put the new node first among the root's children)
    EXPECT_EQ(hp.uart_base, 0x9040000u);
    // ...unless it is disabled.
    ASSERT_EQ(fdt_setprop_string(fdt(), node("/pl011@9040000"), "status", "disabled"), 0);
    ASSERT_TRUE(parse_host_platform(fdt(), hp, &err)) << err;
    EXPECT_EQ(hp.uart_base, 0x9000000u);
    EXPECT_EQ(hp.uart_intid, 33u);
}

TEST_F(FdtHostEdit, VirtioSlotsDisabledSkippedAndMalformedRejected)
{
    ASSERT_EQ(fdt_setprop_string(fdt(), node("/virtio_mmio@a000200"), "status", "disabled"), 0);
    HostPlatform hp{};
    const char* err = nullptr;
    ASSERT_TRUE(parse_host_platform(fdt(), hp, &err)) << err;
    EXPECT_EQ(hp.nvirtio, 31u);
    for (u32 i = 0; i < hp.nvirtio; i++)
        EXPECT_NE(hp.virtio[i].base, 0x0a000200u);
    ASSERT_EQ(fdt_delprop(fdt(), node("/virtio_mmio@a000400"), "interrupts"), 0);
    EXPECT_NE(parse_error().find("virtio,mmio"), std::string::npos);
}

TEST_F(FdtHostEdit, NoVirtioSlotsIsFine)
{
    int n;
    while ((n = fdt_node_offset_by_compatible(fdt(), -1, "virtio,mmio")) >= 0)
        ASSERT_EQ(fdt_del_node(fdt(), n), 0);
    HostPlatform hp{};
    const char* err = nullptr;
    ASSERT_TRUE(parse_host_platform(fdt(), hp, &err)) << err;
    EXPECT_EQ(hp.nvirtio, 0u);
}

} // namespace
