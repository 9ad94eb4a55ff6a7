// See fdt_util.h. Cells are read with fdt32_ld (byte loads): property data is
// only 4-byte aligned and the target runs with -mstrict-align.
#include "fdt/fdt_util.h"

#include <libfdt.h>

namespace {

constexpr int kMaxRegPairs = 4;

// #address-cells / #size-cells that apply to `node`'s reg.
int reg_cells(const void* fdt, int node, int& ac, int& sc)
{
    const int parent = fdt_parent_offset(fdt, node);
    if (parent < 0)
        return parent;
    ac = fdt_address_cells(fdt, parent);
    if (ac < 0)
        return ac;
    sc = fdt_size_cells(fdt, parent);
    if (sc < 0)
        return sc;
    // Values wider than 64 bits do not occur on this platform; #address-cells
    // of 0 (e.g. /cpus children with no reg) has no base to read.
    if (ac < 1 || ac > 2 || sc > 2)
        return -FDT_ERR_BADNCELLS;
    return 0;
}

} // namespace

u64 dt_read_cells(const void* cells, int count)
{
    auto* p = static_cast<const fdt32_t*>(cells);
    u64 v = 0;
    for (int i = 0; i < count; i++)
        v = (v << 32) | fdt32_ld(p + i);
    return v;
}

int dt_get_reg(const void* fdt, int node, int index, u64& base, u64& size)
{
    int ac = 0, sc = 0;
    if (int rc = reg_cells(fdt, node, ac, sc); rc < 0)
        return rc;
    int len = 0;
    auto* reg = static_cast<const fdt32_t*>(fdt_getprop(fdt, node, "reg", &len));
    if (!reg)
        return len;
    const int stride = ac + sc;
    if (index < 0 || len < (index + 1) * stride * 4)
        return -FDT_ERR_NOTFOUND;
    base = dt_read_cells(reg + index * stride, ac);
    size = dt_read_cells(reg + index * stride + ac, sc);
    return 0;
}

int dt_set_reg(void* fdt, int node, const u64 (*pairs)[2], int n)
{
    int ac = 0, sc = 0;
    if (int rc = reg_cells(fdt, node, ac, sc); rc < 0)
        return rc;
    if (n < 1 || n > kMaxRegPairs)
        return -FDT_ERR_BADVALUE;
    fdt32_t cells[kMaxRegPairs * 4];
    int k = 0;
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < 2; j++) {
            const int count = j == 0 ? ac : sc;
            const u64 v = pairs[i][j];
            if (count == 1 && v > 0xffff'ffffull)
                return -FDT_ERR_BADVALUE;
            if (count == 2)
                cells[k++] = cpu_to_fdt32(static_cast<u32>(v >> 32));
            if (count >= 1)
                cells[k++] = cpu_to_fdt32(static_cast<u32>(v));
        }
    }
    return fdt_setprop(fdt, node, "reg", cells, k * static_cast<int>(sizeof(fdt32_t)));
}

bool dt_node_enabled(const void* fdt, int node)
{
    int len = 0;
    auto* status = static_cast<const char*>(fdt_getprop(fdt, node, "status", &len));
    if (!status)
        return true;
    const auto is = [&](const char* s, int n) {
        for (int i = 0; i < n; i++) {
            if (status[i] != s[i])
                return false;
        }
        return true;
    };
    // Compare including the NUL so "okay" does not match "okayish".
    return (len == 5 && is("okay", 5)) || (len == 3 && is("ok", 3));
}

int dt_find_compatible(const void* fdt, const char* compat)
{
    int node = -1;
    while ((node = fdt_node_offset_by_compatible(fdt, node, compat)) >= 0) {
        if (dt_node_enabled(fdt, node))
            return node;
    }
    return node;
}
