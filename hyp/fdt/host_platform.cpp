// See host_platform.h. Read-only libfdt calls only: they use no FP/SIMD
// registers, so this is safe to run anywhere (see platform.md, section 6).
#include "fdt/host_platform.h"

#include <libfdt.h>

#include "fdt/fdt_util.h"

namespace {

// Bounded string property: libfdt does not guarantee the NUL.
const char* get_string(const void* fdt, int node, const char* name)
{
    int len = 0;
    auto* s = static_cast<const char*>(fdt_getprop(fdt, node, name, &len));
    if (!s || len < 1 || s[len - 1] != '\0')
        return nullptr;
    return s;
}

bool str_eq(const char* a, const char* b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

enum class IrqParse : u8 { Ok, Missing, Invalid };

// The GIC INTID of a node's first interrupt. QEMU's GIC uses
// #interrupt-cells = 3: <type number flags>, type 0 = SPI, 1 = PPI.
IrqParse first_intid(const void* fdt, int node, u32& intid)
{
    int len = 0;
    auto* irq = static_cast<const fdt32_t*>(fdt_getprop(fdt, node, "interrupts", &len));
    if (!irq || len < 3 * 4)
        return IrqParse::Missing;
    const u32 type = fdt32_ld(irq), num = fdt32_ld(irq + 1);
    if (type == 0 && num < 988)
        intid = 32 + num;
    else if (type == 1 && num < 16)
        intid = 16 + num;
    else
        return IrqParse::Invalid;
    return IrqParse::Ok;
}

const char* parse_memory(const void* fdt, HostPlatform& out)
{
    const int node = fdt_node_offset_by_prop_value(fdt, -1, "device_type", "memory", sizeof("memory"));
    if (node < 0)
        return "no node with device_type \"memory\"";
    if (dt_get_reg(fdt, node, 0, out.ram_base, out.ram_size) < 0 || out.ram_size == 0)
        return "memory node has no usable reg";
    return nullptr;
}

const char* parse_cpus(const void* fdt, HostPlatform& out)
{
    const int cpus = fdt_path_offset(fdt, "/cpus");
    if (cpus < 0)
        return "no /cpus node";
    out.ncpus = 0;
    int node;
    fdt_for_each_subnode(node, fdt, cpus) {
        // cpu-map and idle-states also live under /cpus; only cpu nodes count.
        const char* type = get_string(fdt, node, "device_type");
        if (!type || !str_eq(type, "cpu"))
            continue;
        if (out.ncpus == kMaxPcpus)
            return "more cpu nodes in /cpus than kMaxPcpus";
        int len = 0;
        const void* reg = fdt_getprop(fdt, node, "reg", &len);
        const int ac = fdt_address_cells(fdt, cpus);
        if (!reg || ac < 1 || ac > 2 || len != ac * 4)
            return "cpu node has no valid reg (MPIDR)";
        out.cpu_mpidr[out.ncpus++] = dt_read_cells(reg, ac);
    }
    if (out.ncpus == 0)
        return "no cpu nodes under /cpus";
    return nullptr;
}

const char* parse_gic(const void* fdt, HostPlatform& out)
{
    const int node = dt_find_compatible(fdt, "arm,gic-v3");
    if (node < 0)
        return "no \"arm,gic-v3\" interrupt controller";
    if (dt_get_reg(fdt, node, 0, out.gicd_base, out.gicd_size) < 0 ||
        dt_get_reg(fdt, node, 1, out.gicr_base, out.gicr_size) < 0)
        return "gic-v3 reg lacks the GICD and GICR ranges";
    return nullptr;
}

const char* parse_uart(const void* fdt, HostPlatform& out)
{
    const int node = dt_find_compatible(fdt, "arm,pl011");
    if (node < 0)
        return "no enabled \"arm,pl011\" UART";
    if (dt_get_reg(fdt, node, 0, out.uart_base, out.uart_size) < 0)
        return "pl011 has no valid reg";
    switch (first_intid(fdt, node, out.uart_intid)) {
    case IrqParse::Ok: return nullptr;
    case IrqParse::Missing: return "pl011 has no 3-cell interrupts property";
    case IrqParse::Invalid: return "pl011 interrupt is neither a valid SPI nor a PPI";
    }
    return nullptr;
}

const char* parse_virtio(const void* fdt, HostPlatform& out)
{
    out.nvirtio = 0;
    for (int node = fdt_node_offset_by_compatible(fdt, -1, "virtio,mmio"); node >= 0;
         node = fdt_node_offset_by_compatible(fdt, node, "virtio,mmio")) {
        if (!dt_node_enabled(fdt, node))
            continue;
        if (out.nvirtio == HostPlatform::kMaxVirtio)
            return "more virtio,mmio nodes than HostPlatform::kMaxVirtio";
        VirtioSlot& v = out.virtio[out.nvirtio];
        if (dt_get_reg(fdt, node, 0, v.base, v.size) < 0 || v.size == 0)
            return "virtio,mmio node has no valid reg";
        if (first_intid(fdt, node, v.intid) != IrqParse::Ok)
            return "virtio,mmio node has no valid 3-cell interrupts property";
        out.nvirtio++;
    }
    return nullptr;
}

const char* parse_psci(const void* fdt, HostPlatform&)
{
    int node = fdt_path_offset(fdt, "/psci");
    if (node < 0)
        node = fdt_node_offset_by_compatible(fdt, -1, "arm,psci-0.2");
    if (node < 0)
        return "no /psci node";
    // The hypervisor calls the firmware (CPU_ON, SYSTEM_OFF) with SMC: at
    // EL2 an HVC would trap to itself. QEMU's built-in PSCI answers SMC when
    // the board has EL2 (virtualization=on) and says so here.
    const char* method = get_string(fdt, node, "method");
    if (!method || (!str_eq(method, "smc") && !str_eq(method, "hvc")))
        return "/psci method is not \"smc\" or \"hvc\"";
    if (!str_eq(method, "smc"))
        return "/psci method is \"hvc\", which a hypervisor at EL2 cannot call: run QEMU with "
               "-M virt,virtualization=on (scripts/run-qemu.sh does), whose PSCI takes SMC";
    return nullptr;
}

const char* parse_chosen(const void* fdt, HostPlatform& out)
{
    out.bootargs = "";
    const int node = fdt_path_offset(fdt, "/chosen");
    if (node >= 0) {
        if (const char* args = get_string(fdt, node, "bootargs"))
            out.bootargs = args;
    }
    return nullptr;
}

} // namespace

bool parse_host_platform(const void* fdt, HostPlatform& out, const char** err)
{
    out = HostPlatform{};
    const char* e = nullptr;
    if (fdt_check_header(fdt) != 0)
        e = "not a valid flattened device tree";
    using Step = const char* (*)(const void*, HostPlatform&);
    constexpr Step kSteps[] = {parse_memory, parse_cpus,   parse_gic,   parse_uart,
                               parse_psci,   parse_chosen, parse_virtio};
    for (Step step : kSteps) {
        if (e)
            break;
        e = step(fdt, out);
    }
    if (err)
        *err = e;
    return e == nullptr;
}
