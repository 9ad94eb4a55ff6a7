// See guest_dtb.h. Strategy: copy the host tree, note by name which root
// nodes survive, delete every other root node, then rewrite the survivors.
// libfdt offsets move whenever the tree changes size, so each step looks its
// node up again instead of caching offsets across edits.
#include "fdt/guest_dtb.h"

#include <libfdt.h>

#include "config.h"
#include "core/format.h"
#include "fdt/fdt_util.h"

namespace {

constexpr int kNameMax = 64;  // root node names on QEMU virt are < 32 chars
constexpr int kPathMax = 96;
constexpr int kMaxKeep = 12;  // memory cpus psci gic timer uart chosen aliases + clocks

// Names of the root nodes the guest keeps. Names, not offsets: offsets shift
// as nodes are deleted, names of root children are unique and stable.
struct KeepList {
    char names[kMaxKeep][kNameMax];
    int n = 0;

    bool contains(const char* name, int len) const
    {
        for (int i = 0; i < n; i++) {
            int j = 0;
            while (j < len && names[i][j] == name[j])
                j++;
            if (j == len && names[i][j] == '\0')
                return true;
        }
        return false;
    }

    // Adds root child `node`; anything deeper cannot be kept by name.
    int add(const void* fdt, int node)
    {
        if (node < 0)
            return node;
        if (fdt_parent_offset(fdt, node) != 0)
            return -FDT_ERR_BADSTRUCTURE;
        int len = 0;
        const char* name = fdt_get_name(fdt, node, &len);
        if (!name)
            return len;
        if (contains(name, len))
            return 0;
        if (n == kMaxKeep || len >= kNameMax)
            return -FDT_ERR_NOSPACE;
        for (int i = 0; i < len; i++)
            names[n][i] = name[i];
        names[n][len] = '\0';
        n++;
        return 0;
    }
};

struct Ctx {
    void* fdt;
    const GuestDtbConfig& cfg;
    KeepList keep;
    char old_uart_path[kPathMax];
    char uart_path[kPathMax];
};

#define TRY(expr)                                                                        \
    do {                                                                                 \
        if (const int rc_ = (expr); rc_ < 0)                                             \
            return rc_;                                                                  \
    } while (0)

int find_memory(const void* fdt)
{
    return fdt_node_offset_by_prop_value(fdt, -1, "device_type", "memory", sizeof("memory"));
}

int find_psci(const void* fdt)
{
    const int node = fdt_path_offset(fdt, "/psci");
    return node >= 0 ? node : fdt_node_offset_by_compatible(fdt, -1, "arm,psci-0.2");
}

int delprop_if_present(void* fdt, int node, const char* name)
{
    const int rc = fdt_delprop(fdt, node, name);
    return rc == -FDT_ERR_NOTFOUND ? 0 : rc;
}

// Keeps node names honest ("memory@<base>") when a base address changes.
int rename_unit(void* fdt, int node, u64 base)
{
    int len = 0;
    const char* name = fdt_get_name(fdt, node, &len);
    if (!name)
        return len;
    int stem = 0;
    while (stem < len && name[stem] != '@')
        stem++;
    char buf[kNameMax];
    const int n = fmt_snprintf(buf, sizeof(buf), "%.*s@%llx", stem, name,
                               static_cast<unsigned long long>(base));
    if (n >= kNameMax)
        return -FDT_ERR_NOSPACE;
    if (n == len) {
        int i = 0;
        while (i < len && buf[i] == name[i])
            i++;
        if (i == len)
            return 0;
    }
    return fdt_set_name(fdt, node, buf);
}

// The pl011's clocks = <phandle [specifier...]>...: keep each provider.
int keep_uart_clocks(Ctx& c, int uart)
{
    int len = 0;
    auto* cells = static_cast<const fdt32_t*>(fdt_getprop(c.fdt, uart, "clocks", &len));
    if (!cells)
        return len == -FDT_ERR_NOTFOUND ? 0 : len;
    const int count = len / 4;
    for (int i = 0; i < count;) {
        const int clk = fdt_node_offset_by_phandle(c.fdt, fdt32_ld(cells + i));
        TRY(c.keep.add(c.fdt, clk));
        int clen = 0;
        auto* ncells = static_cast<const fdt32_t*>(fdt_getprop(c.fdt, clk, "#clock-cells", &clen));
        // The specifier must lie inside the property (and a huge count,
        // taken as an int, would move the walk backwards).
        const u32 spec = ncells && clen == 4 ? fdt32_ld(ncells) : 0;
        if (spec > static_cast<u32>(count - i - 1))
            return -FDT_ERR_BADNCELLS;
        i += 1 + static_cast<int>(spec);
    }
    return 0;
}

int collect_keep(Ctx& c)
{
    void* fdt = c.fdt;
    TRY(c.keep.add(fdt, find_memory(fdt)));
    TRY(c.keep.add(fdt, fdt_path_offset(fdt, "/cpus")));
    TRY(c.keep.add(fdt, find_psci(fdt)));
    TRY(c.keep.add(fdt, dt_find_compatible(fdt, "arm,gic-v3")));
    TRY(c.keep.add(fdt, dt_find_compatible(fdt, "arm,armv8-timer")));
    if (c.cfg.pmu) {
        const int pmu = dt_find_compatible(fdt, "arm,armv8-pmuv3");
        if (pmu >= 0) // a CPU model without a PMU has no node: nothing to keep
            TRY(c.keep.add(fdt, pmu));
    }
    const int uart = dt_find_compatible(fdt, "arm,pl011");
    TRY(c.keep.add(fdt, uart));
    TRY(fdt_get_path(fdt, uart, c.old_uart_path, sizeof(c.old_uart_path)));
    TRY(keep_uart_clocks(c, uart));
    constexpr const char* kOptional[] = {"/chosen", "/aliases"};
    for (const char* optional : kOptional) {
        const int node = fdt_path_offset(fdt, optional);
        if (node >= 0)
            TRY(c.keep.add(fdt, node));
    }
    return 0;
}

int prune_root(Ctx& c)
{
    for (;;) {
        int node;
        bool deleted = false;
        fdt_for_each_subnode(node, c.fdt, 0) {
            int len = 0;
            const char* name = fdt_get_name(c.fdt, node, &len);
            if (!name)
                return len;
            if (!c.keep.contains(name, len)) {
                TRY(fdt_del_node(c.fdt, node));
                deleted = true;
                break; // offsets after `node` moved: rescan
            }
        }
        if (!deleted)
            return node == -FDT_ERR_NOTFOUND ? 0 : node;
    }
}

int edit_memory(Ctx& c)
{
    const int node = find_memory(c.fdt);
    TRY(node);
    const u64 reg[1][2] = {{c.cfg.ram_base, c.cfg.ram_size}};
    TRY(dt_set_reg(c.fdt, node, reg, 1));
    // The guest gets flat memory; host NUMA ids would point at nothing.
    TRY(delprop_if_present(c.fdt, node, "numa-node-id"));
    return rename_unit(c.fdt, node, c.cfg.ram_base);
}

// /cpus is rebuilt rather than trimmed: the guest may have more vCPUs than
// the host has CPUs (mode=single), and host topology (cpu-map, idle-states)
// means nothing for vCPUs.
int edit_cpus(Ctx& c)
{
    void* fdt = c.fdt;
    int cpus = fdt_path_offset(fdt, "/cpus");
    TRY(cpus);

    char compat[128];
    int compat_len = 0;
    int node;
    fdt_for_each_subnode(node, fdt, cpus) {
        int len = 0;
        auto* p = static_cast<const char*>(fdt_getprop(fdt, node, "compatible", &len));
        if (p && len > 0 && len <= static_cast<int>(sizeof(compat)) && p[len - 1] == '\0') {
            for (int i = 0; i < len; i++)
                compat[i] = p[i];
            compat_len = len;
            break;
        }
    }
    if (compat_len == 0) {
        constexpr char kDefault[] = "arm,armv8";
        for (char ch : kDefault)
            compat[compat_len++] = ch;
    }

    while ((node = fdt_first_subnode(fdt, cpus)) >= 0)
        TRY(fdt_del_node(fdt, node));
    if (node != -FDT_ERR_NOTFOUND)
        return node;

    bool wide = false;
    for (u32 i = 0; i < c.cfg.nvcpus; i++)
        wide |= c.cfg.vcpu_mpidr[i] > 0xffff'ffffull;
    const int ac = wide ? 2 : 1;
    TRY(fdt_setprop_u32(fdt, cpus, "#address-cells", static_cast<u32>(ac)));
    TRY(fdt_setprop_u32(fdt, cpus, "#size-cells", 0));

    // fdt_add_subnode inserts before existing children: add the last first.
    for (u32 i = c.cfg.nvcpus; i-- > 0;) {
        const u64 mpidr = c.cfg.vcpu_mpidr[i];
        char name[32];
        fmt_snprintf(name, sizeof(name), "cpu@%llx", static_cast<unsigned long long>(mpidr));
        cpus = fdt_path_offset(fdt, "/cpus");
        TRY(cpus);
        const int cpu = fdt_add_subnode(fdt, cpus, name);
        TRY(cpu);
        TRY(fdt_setprop_string(fdt, cpu, "device_type", "cpu"));
        TRY(fdt_setprop(fdt, cpu, "compatible", compat, compat_len));
        if (wide)
            TRY(fdt_setprop_u64(fdt, cpu, "reg", mpidr));
        else
            TRY(fdt_setprop_u32(fdt, cpu, "reg", static_cast<u32>(mpidr)));
        TRY(fdt_setprop_string(fdt, cpu, "enable-method", "psci"));
    }
    return 0;
}

// The hypervisor implements PSCI for the guest through HVC; the function
// IDs and compatible strings QEMU advertises stay valid.
int edit_psci(Ctx& c)
{
    const int node = find_psci(c.fdt);
    TRY(node);
    return fdt_setprop_string(c.fdt, node, "method", "hvc");
}

// The guest sees a GICv3 without ITS: drop the children (msi-controller)
// and describe the virtual redistributors as one region.
int edit_gic(Ctx& c)
{
    void* fdt = c.fdt;
    int gic = dt_find_compatible(fdt, "arm,gic-v3");
    TRY(gic);
    int child;
    while ((child = fdt_first_subnode(fdt, gic)) >= 0)
        TRY(fdt_del_node(fdt, child));
    if (child != -FDT_ERR_NOTFOUND)
        return child;
    const u64 reg[2][2] = {{c.cfg.gicd_base, c.cfg.gicd_size}, {c.cfg.gicr_base, c.cfg.gicr_size}};
    TRY(dt_set_reg(fdt, gic, reg, 2));
    TRY(fdt_setprop_u32(fdt, gic, "#redistributor-regions", 1));
    TRY(delprop_if_present(fdt, gic, "redistributor-stride"));
    return rename_unit(fdt, gic, c.cfg.gicd_base);
}

int edit_uart(Ctx& c)
{
    const int uart = dt_find_compatible(c.fdt, "arm,pl011");
    TRY(uart);
    u64 base = 0, size = 0;
    TRY(dt_get_reg(c.fdt, uart, 0, base, size));
    const u64 reg[1][2] = {{c.cfg.uart_base, size}};
    TRY(dt_set_reg(c.fdt, uart, reg, 1));
    TRY(rename_unit(c.fdt, uart, c.cfg.uart_base));
    return fdt_get_path(c.fdt, uart, c.uart_path, sizeof(c.uart_path));
}

int edit_chosen(Ctx& c)
{
    void* fdt = c.fdt;
    int chosen = fdt_path_offset(fdt, "/chosen");
    if (chosen == -FDT_ERR_NOTFOUND)
        chosen = fdt_add_subnode(fdt, 0, "chosen");
    TRY(chosen);
    // rng-seed and kaslr-seed stay: fresh per boot from QEMU, useful to the guest.
    TRY(fdt_setprop_string(fdt, chosen, "bootargs", c.cfg.bootargs ? c.cfg.bootargs : ""));
    TRY(fdt_setprop_string(fdt, chosen, "stdout-path", c.uart_path));
    if (c.cfg.initrd_end > c.cfg.initrd_start) {
        TRY(fdt_setprop_u64(fdt, chosen, "linux,initrd-start", c.cfg.initrd_start));
        TRY(fdt_setprop_u64(fdt, chosen, "linux,initrd-end", c.cfg.initrd_end));
        return 0;
    }
    TRY(delprop_if_present(fdt, chosen, "linux,initrd-start"));
    return delprop_if_present(fdt, chosen, "linux,initrd-end");
}

// The hypervisor's virtio-mmio block device, described as QEMU's virt board
// describes its own virtio-mmio slots (whose nodes prune_root deleted).
int add_virtio(Ctx& c)
{
    if (c.cfg.virtio_size == 0)
        return 0;
    char name[kNameMax];
    fmt_snprintf(name, sizeof(name), "virtio_mmio@%llx", static_cast<unsigned long long>(c.cfg.virtio_base));
    const int node = fdt_add_subnode(c.fdt, 0, name);
    TRY(node);
    TRY(fdt_setprop_string(c.fdt, node, "compatible", "virtio,mmio"));
    const u64 reg[1][2] = {{c.cfg.virtio_base, c.cfg.virtio_size}};
    TRY(dt_set_reg(c.fdt, node, reg, 1));
    constexpr u32 kGicSpi = 0, kEdgeRising = 1;
    const fdt32_t irq[3] = {cpu_to_fdt32(kGicSpi), cpu_to_fdt32(c.cfg.virtio_spi - 32), cpu_to_fdt32(kEdgeRising)};
    TRY(fdt_setprop(c.fdt, node, "interrupts", irq, sizeof(irq)));
    return fdt_setprop_empty(c.fdt, node, "dma-coherent");
}

bool str_eq(const char* a, const char* b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

// One pass over /aliases; *changed says whether it edited (and must rerun,
// since the edit moved the property offsets).
int fix_one_alias(Ctx& c, int aliases, bool* changed)
{
    *changed = false;
    int prop;
    fdt_for_each_property_offset(prop, c.fdt, aliases) {
        const char* pname = nullptr;
        int len = 0;
        auto* value = static_cast<const char*>(fdt_getprop_by_offset(c.fdt, prop, &pname, &len));
        if (!value || !pname)
            return len < 0 ? len : -FDT_ERR_BADSTRUCTURE;
        if (len < 1 || value[len - 1] != '\0' || (value[0] != '/'))
            continue; // not a path
        const bool renamed_uart = str_eq(value, c.old_uart_path) && !str_eq(value, c.uart_path);
        if (!renamed_uart && fdt_path_offset(c.fdt, value) >= 0)
            continue;
        // Copy the name: the edit below moves the strings block it lives in.
        char name[kNameMax];
        if (fmt_snprintf(name, sizeof(name), "%s", pname) >= kNameMax)
            return -FDT_ERR_NOSPACE;
        *changed = true;
        return renamed_uart ? fdt_setprop_string(c.fdt, aliases, name, c.uart_path)
                            : fdt_delprop(c.fdt, aliases, name);
    }
    return prop == -FDT_ERR_NOTFOUND ? 0 : prop;
}

int fix_aliases(Ctx& c)
{
    for (bool changed = true; changed;) {
        const int aliases = fdt_path_offset(c.fdt, "/aliases");
        if (aliases == -FDT_ERR_NOTFOUND)
            return 0;
        TRY(aliases);
        TRY(fix_one_alias(c, aliases, &changed));
    }
    return 0;
}

// Host reservations describe host physical memory, not guest IPA space.
int drop_mem_reservations(Ctx& c)
{
    while (fdt_num_mem_rsv(c.fdt) > 0)
        TRY(fdt_del_mem_rsv(c.fdt, 0));
    return 0;
}

bool config_valid(const GuestDtbConfig& cfg)
{
    return cfg.nvcpus >= 1 && cfg.nvcpus <= kMaxVcpus && cfg.vcpu_mpidr && cfg.ram_size &&
           cfg.initrd_end >= cfg.initrd_start &&
           (cfg.virtio_size == 0 || (cfg.virtio_spi >= 32 && cfg.virtio_spi < 1020)); // an SPI INTID
}

} // namespace

int build_guest_dtb(const void* host_fdt, void* out, usize out_size, const GuestDtbConfig& cfg)
{
    if (!config_valid(cfg))
        return -FDT_ERR_BADVALUE;
    // The whole host tree, not just its header: a structure block that does
    // not parse would be copied into the guest's tree, and a reservation map
    // with no terminator inside the blob makes fdt_open_into() take
    // fdt_num_mem_rsv()'s error for a count (a memmove of negative size).
    TRY(fdt_check_header(host_fdt));
    TRY(fdt_check_full(host_fdt, fdt_totalsize(host_fdt)));
    // fdt_open_into takes an int; more than 2 GiB is never needed anyway.
    const int size = out_size > 0x7fff'ffffu ? 0x7fff'ffff : static_cast<int>(out_size);
    TRY(fdt_open_into(host_fdt, out, size));

    Ctx c{out, cfg, {}, {}, {}};
    using Step = int (*)(Ctx&);
    constexpr Step kSteps[] = {collect_keep, prune_root,  drop_mem_reservations,
                               edit_memory,  edit_cpus,   edit_psci,
                               edit_gic,     edit_uart,   edit_chosen,
                               fix_aliases,  add_virtio};
    for (Step step : kSteps)
        TRY(step(c));
    fdt_set_boot_cpuid_phys(out, static_cast<u32>(cfg.vcpu_mpidr[0]));
    return fdt_pack(out);
}

const char* guest_dtb_strerror(int err)
{
    switch (err) {
    case 0: return "success";
    case -FDT_ERR_NOSPACE: return "guest DTB buffer too small";
    case -FDT_ERR_NOTFOUND:
        return "host DTB lacks a required node (memory, cpus, psci, gic-v3, timer, pl011)";
    case -FDT_ERR_BADVALUE: return "bad guest DTB config (nvcpus, mpidr, ram, initrd range or virtio SPI)";
    case -FDT_ERR_BADSTRUCTURE: return "host DTB device not a child of the root node";
    default: return fdt_strerror(err);
    }
}
